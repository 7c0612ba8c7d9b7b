package bench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The benchmarks measure once per run whatever b.N is: one bring-up of 100
// VMs takes about a minute, so use -benchtime 1x.

// BenchmarkPortBringUp brings up 100 VMs, 4 at a time, on a 3-host lab.
func BenchmarkPortBringUp(b *testing.B) {
	l := newLab(b, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cfg := bringUpConfig{VMs: envInt(b, "VLAND_BENCH_VMS", 100), Concurrency: envInt(b, "VLAND_BENCH_CONCURRENCY", 4),
		Poll: 10 * time.Millisecond, Timeout: 2 * time.Minute, IdleSample: 5 * time.Second}
	b.ResetTimer()
	res, err := measureBringUp(ctx, l, cfg)
	b.StopTimer()
	require.NoError(b, err)
	res.print(os.Stdout)
	for _, row := range res.rows() {
		b.ReportMetric(ms(row.D.P50), row.Key+"-p50-ms")
		b.ReportMetric(ms(row.D.P99), row.Key+"-p99-ms")
	}
	var brInt, brTun int
	for _, f := range res.Flows {
		brInt, brTun = max(brInt, f.BrInt), max(brTun, f.BrTun)
	}
	b.ReportMetric(float64(brInt), "br-int-flows-max")
	b.ReportMetric(float64(brTun), "br-tun-flows-max")
}

// BenchmarkThroughput compares VM-to-VM TCP over VXLAN with a plain veth.
func BenchmarkThroughput(b *testing.B) {
	l := newLab(b, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.ResetTimer()
	res, err := measureThroughput(ctx, l, 5)
	b.StopTimer()
	require.NoError(b, err)
	res.print(os.Stdout)
	b.ReportMetric(res.VXLAN.Mbps, "vxlan-Mbit/s")
	b.ReportMetric(res.SameHost.Mbps, "samehost-Mbit/s")
	b.ReportMetric(res.Veth.Mbps, "veth-Mbit/s")
	b.ReportMetric(res.VXLAN.Mbps/res.Veth.Mbps, "vxlan/veth")
}

// TestMeasurements runs the benchmarks' measurement code small (6 VMs, a
// 1 s iperf3) so CI notices when it stops working.
func TestMeasurements(t *testing.T) {
	l := newLab(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := bringUpConfig{VMs: 6, Concurrency: 3, Poll: 10 * time.Millisecond, Timeout: time.Minute, IdleSample: time.Second}
	res, err := measureBringUp(ctx, l, cfg)
	require.NoError(t, err)
	var out strings.Builder
	res.print(&out)
	require.Len(t, res.Timings, 6)
	for _, tm := range res.Timings {
		require.Positive(t, tm.Active, tm.Name)
		require.GreaterOrEqual(t, tm.Ping, tm.Plugged, tm.Name)
	}
	require.Positive(t, res.IdleCPU["ovs-vswitchd"]+res.IdleCPU["vland agent"]+res.IdleCPU["vland server"]+1e-9)
	require.Contains(t, res.IdleCPU, "ovs-vswitchd")
	require.Len(t, res.Flows, 3)
	for _, f := range res.Flows {
		require.Positive(t, f.BrInt, "host%d br-int", f.Host)
		require.Positive(t, f.BrTun, "host%d br-tun", f.Host)
	}

	start := time.Now()
	tp, err := measureThroughput(ctx, l, 1)
	t.Logf("throughput measured in %v", time.Since(start).Round(time.Millisecond))
	require.NoError(t, err)
	tp.print(&out)
	t.Log(out.String())
	require.Positive(t, tp.VXLAN.Mbps)
	require.Positive(t, tp.SameHost.Mbps)
	require.Positive(t, tp.Veth.Mbps)
}

// envInt reads a positive integer knob from the environment.
func envInt(tb testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(tb, err, name)
	require.Positive(tb, n, name)
	return n
}

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i))
	}
	d := summarize(s)
	require.Equal(t, dist{N: 100, P50: 50, P99: 99, Max: 100}, d)
	require.Equal(t, dist{N: 1, P50: 7, P99: 7, Max: 7}, summarize([]time.Duration{7}))
	require.Equal(t, time.Duration(6), summarize([]time.Duration{6, 1, 2, 3, 4, 5}).P99)
}

// BenchmarkThousandPorts: 1,000 ports (VLAND_BENCH_PORTS) on 10 networks
// of a 3-host lab: time to ACTIVE after plugging, flows per host, agent RSS.
func BenchmarkThousandPorts(b *testing.B) {
	l := newLab(b, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	b.ResetTimer()
	res, err := measurePorts(ctx, l, envInt(b, "VLAND_BENCH_PORTS", 1000), 10)
	b.StopTimer()
	require.NoError(b, err)
	res.print(os.Stdout)
	b.ReportMetric(res.Active.Seconds(), "active-s")
	var flows int
	for _, f := range res.Flows {
		flows = max(flows, f.BrInt+f.BrTun)
	}
	b.ReportMetric(float64(flows), "flows-per-host-max")
	var rss, heap int64
	for _, m := range res.Agents {
		rss, heap = max(rss, m.RSS), max(heap, m.HeapInuse)
	}
	b.ReportMetric(float64(rss)/1e6, "agent-rss-MB-max")
	b.ReportMetric(float64(heap)/1e6, "agent-heap-inuse-MB-max")
	var cpu time.Duration
	for hi := range res.AgentCPUCreate {
		cpu = max(cpu, res.AgentCPUCreate[hi]+res.AgentCPUActive[hi])
	}
	b.ReportMetric(cpu.Seconds(), "agent-cpu-s-max")
}
