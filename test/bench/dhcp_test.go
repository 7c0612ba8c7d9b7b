package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/dhcp"
	"github.com/vland/vland/internal/lab"
)

// BenchmarkDHCPLease creates VMs that take their address by DHCP from the
// network node (host1) across the tunnel, one after the other on hosts 2
// and 3, and reports per VM: port create → lease (API port, plug, ACTIVE,
// then dhclient until bound) and the VM's first DISCOVER → lease.
func BenchmarkDHCPLease(b *testing.B) {
	l := newLab(b, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	b.ResetTimer()
	res, err := measureDHCP(ctx, l, envInt(b, "VLAND_BENCH_VMS", 100))
	b.StopTimer()
	require.NoError(b, err)
	res.print(os.Stdout)
	b.ReportMetric(ms(res.create.P50), "create-to-lease-p50-ms")
	b.ReportMetric(ms(res.create.P99), "create-to-lease-p99-ms")
	b.ReportMetric(ms(res.discover.P50), "discover-to-lease-p50-ms")
	b.ReportMetric(ms(res.discover.P99), "discover-to-lease-p99-ms")
}

// TestDHCPMeasurement runs the DHCP benchmark's measurement small.
func TestDHCPMeasurement(t *testing.T) {
	l := newLab(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := measureDHCP(ctx, l, 6)
	require.NoError(t, err)
	var out strings.Builder
	res.print(&out)
	t.Log(out.String())
	require.Equal(t, 6, res.create.N)
	require.Positive(t, res.discover.P50)
	require.GreaterOrEqual(t, res.create.P50, res.discover.P50)
}

type dhcpResult struct {
	create, discover dist
	// retried lists the VMs (by creation order) whose first DISCOVER got
	// no answer: their lease took a retransmit.
	retried []string
}

func measureDHCP(ctx context.Context, l *lab.Lab, vms int) (dhcpResult, error) {
	c := l.Client()
	n, _, err := makeVXLANNetwork(ctx, c, "dhcpbench", "10.61.0.0/24")
	if err != nil {
		return dhcpResult{}, err
	}
	dp, err := c.CreatePort(ctx, client.PortCreate{NetworkID: n.ID, DeviceOwner: dhcp.DeviceOwner,
		DeviceID: "dhcphost1-" + n.ID, BindingHostID: "host1"})
	if err != nil {
		return dhcpResult{}, err
	}
	if err := pollActive(ctx, c, dp.ID, 10*time.Millisecond); err != nil {
		return dhcpResult{}, fmt.Errorf("DHCP port: %w", err)
	}
	var creates, discovers []time.Duration
	var retried []string
	for i := range vms {
		name := fmt.Sprintf("d%03d", i)
		start := time.Now()
		if _, err := l.CreateVM(ctx, lab.VMSpec{Name: name, Network: n.ID, Host: fmt.Sprintf("host%d", 2+i%2), DHCP: true}); err != nil {
			return dhcpResult{}, err
		}
		creates = append(creates, time.Since(start))
		log, err := l.DHCPLog(name)
		if err != nil {
			return dhcpResult{}, err
		}
		d, err := discoverToLease(log)
		if err != nil {
			return dhcpResult{}, fmt.Errorf("vm %s: %w", name, err)
		}
		discovers = append(discovers, d)
		if d > 500*time.Millisecond {
			retried = append(retried, fmt.Sprintf("#%d %s on host%d: %v", i+1, name, 2+i%2, d.Round(time.Millisecond)))
		}
	}
	return dhcpResult{create: summarize(creates), discover: summarize(discovers), retried: retried}, nil
}

// discoverToLease is the time from the client's PREINIT (right before its
// first DISCOVER) to BOUND, from the lab's dhclient script log.
func discoverToLease(log string) (time.Duration, error) {
	var pre, bound float64
	for _, line := range strings.Split(log, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		ts, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		switch {
		case f[1] == "PREINIT" && pre == 0:
			pre = ts
		case f[1] == "BOUND" && bound == 0:
			bound = ts
		}
	}
	if pre == 0 || bound == 0 {
		return 0, fmt.Errorf("no PREINIT and BOUND in %q", log)
	}
	return time.Duration((bound - pre) * float64(time.Second)), nil
}

func (r dhcpResult) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DHCP\tN\tp50\tp99\tmax")
	for _, row := range []struct {
		k string
		d dist
	}{{"port create -> lease", r.create}, {"first DISCOVER -> lease", r.discover}} {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%v\t%v\n", row.k, row.d.N, row.d.P50.Round(time.Millisecond),
			row.d.P99.Round(time.Millisecond), row.d.Max.Round(time.Millisecond))
	}
	tw.Flush()
	for _, r := range r.retried {
		fmt.Fprintf(w, "DISCOVER retransmitted: vm %s\n", r)
	}
}
