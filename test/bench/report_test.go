package bench

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// dist summarises durations: nearest-rank percentiles.
type dist struct {
	N             int
	P50, P99, Max time.Duration
}

func summarize(ds []time.Duration) dist {
	if len(ds) == 0 {
		return dist{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return dist{N: len(s), P50: percentile(s, 50), P99: percentile(s, 99), Max: s[len(s)-1]}
}

// percentile is the nearest-rank p-th percentile of sorted s: the smallest
// value with at least p% of the samples at or below it.
func percentile(s []time.Duration, p int) time.Duration {
	rank := (p*len(s) + 99) / 100 // ceil(p/100 * n)
	return s[max(rank, 1)-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// column extracts one duration of every VM.
func (r bringUpResult) column(f func(vmTiming) time.Duration) dist {
	var ds []time.Duration
	for _, t := range r.Timings {
		ds = append(ds, f(t))
	}
	return summarize(ds)
}

// bringUpRows are the distributions reported, in order.
func (r bringUpResult) rows() []struct {
	Key, What string
	D         dist
} {
	return []struct {
		Key, What string
		D         dist
	}{
		{"create", "POST /v2.0/ports answered", r.column(func(t vmTiming) time.Duration { return t.Created })},
		{"plugged", "tap in br-int (lab plumbing done)", r.column(func(t vmTiming) time.Duration { return t.Plugged })},
		{"active", "port status ACTIVE (API poll)", r.column(func(t vmTiming) time.Duration { return t.Active })},
		{"ping", "first ping reply across VXLAN", r.column(func(t vmTiming) time.Duration { return t.Ping })},
	}
}

// gapRows are per-VM differences that show where the time goes.
func (r bringUpResult) gapRows() []struct {
	Key, What string
	D         dist
} {
	return []struct {
		Key, What string
		D         dist
	}{
		{"agent", "plugged -> ACTIVE (agent reaction + status write + poll)", r.column(func(t vmTiming) time.Duration { return t.Active - t.Plugged })},
		{"after-active", "ACTIVE -> first ping reply", r.column(func(t vmTiming) time.Duration { return t.Ping - t.Active })},
	}
}

// print writes the bring-up table and its FIGURE: lines.
func (r bringUpResult) print(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "\nPort bring-up: %d VMs on %d hosts, VXLAN network (MTU %d), %d created at a time, status polled every %v.\n",
		len(r.Timings), r.Hosts, r.MTU, c.Concurrency, c.Poll)
	fmt.Fprintln(w, "All times from t0 = just before the VM's POST /v2.0/ports; the benchmark plugs the VM right after the POST returns.")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "from port create to\tp50 ms\tp99 ms\tmax ms\t")
	for _, row := range r.rows() {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t\n", row.What, ms(row.D.P50), ms(row.D.P99), ms(row.D.Max))
	}
	fmt.Fprintln(tw, "gaps per VM\tp50 ms\tp99 ms\tmax ms\t")
	for _, row := range r.gapRows() {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t\n", row.What, ms(row.D.P50), ms(row.D.P99), ms(row.D.Max))
	}
	tw.Flush()
	fmt.Fprintf(w, "FIGURE: bringup vms=%d hosts=%d concurrency=%d poll=%v wall=%.1fs rate=%.1f VMs/s\n",
		len(r.Timings), r.Hosts, c.Concurrency, c.Poll, r.Wall.Seconds(), float64(len(r.Timings))/r.Wall.Seconds())
	for _, row := range r.rows() {
		fmt.Fprintf(w, "FIGURE: bringup %-8s p50=%.1fms p99=%.1fms max=%.1fms  (port create -> %s)\n",
			row.Key, ms(row.D.P50), ms(row.D.P99), ms(row.D.Max), row.What)
	}
	for _, row := range r.gapRows() {
		fmt.Fprintf(w, "FIGURE: bringup gap %-12s p50=%.1fms p99=%.1fms max=%.1fms  (%s)\n",
			row.Key, ms(row.D.P50), ms(row.D.P99), ms(row.D.Max), row.What)
	}
	for _, f := range r.Flows {
		fmt.Fprintf(w, "FIGURE: flows host%d br-int=%d br-tun=%d\n", f.Host, f.BrInt, f.BrTun)
	}
	var total float64
	for _, k := range sortedKinds(r.IdleCPU) {
		fmt.Fprintf(w, "FIGURE: idle-cpu %s=%.1f%%\n", k, r.IdleCPU[k])
		total += r.IdleCPU[k]
	}
	fmt.Fprintf(w, "FIGURE: idle-cpu total=%.1f%% of one core, sampled %v after the last VM pinged\n", total, c.IdleSample)
}
