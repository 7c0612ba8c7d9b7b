package e2e_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
)

// TestRestartsDuringTraffic pings at 10 packets a second between VMs on two
// hosts while (a) the agent of one host restarts: no ping may be lost, and
// the new agent replaces every flow with its own round, leaving the same
// flows and none of the old round; (b) that host's ovs-vswitchd restarts,
// losing every flow: traffic must recover within seconds.
func TestRestartsDuringTraffic(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	n, _ := makeNetwork(t, ctx, netSpec{Name: "restart-net", Project: "restart", Type: api.NetworkTypeVXLAN, CIDR: "10.5.0.0/24"})
	vms := createVMs(t, ctx,
		vmSpec{Name: "rs-1", Network: n, Host: 1, IP: "10.5.0.11", Project: "restart"},
		vmSpec{Name: "rs-2", Network: n, Host: 2, IP: "10.5.0.12", Project: "restart"})
	waitPing(t, ctx, vms[0].Name, "10.5.0.12", 15*time.Second)
	waitPing(t, ctx, vms[1].Name, "10.5.0.11", 15*time.Second)

	t.Run("agent", func(t *testing.T) { testAgentRestart(t, ctx, vms[0].Name, 2) })
	t.Run("vswitchd", func(t *testing.T) { testVswitchdRestart(t, ctx, vms[0].Name, 2) })
}

// bridgeFlows is the flows of br-int and br-tun of a host.
type bridgeFlows map[string][]flow

func readBridgeFlows(t *testing.T, ctx context.Context, host int) bridgeFlows {
	return bridgeFlows{"br-int": dumpFlows(t, ctx, host, "br-int"), "br-tun": dumpFlows(t, ctx, host, "br-tun")}
}

// sameAs reports whether b has the flows of before (rounds aside) and all
// of them in one round other than the old one.
func (b bridgeFlows) sameAs(before bridgeFlows) bool {
	for br, fs := range before {
		old := rounds(fs)
		now := rounds(b[br])
		if len(now) != 1 || slices.Contains(old, now[0]) || !slices.Equal(flowSet(fs), flowSet(b[br])) {
			return false
		}
	}
	return true
}

func testAgentRestart(t *testing.T, ctx context.Context, vm string, host int) {
	l := sharedLab(t)
	t.Cleanup(func() { restoreAgent(t, l, host) })
	before := readBridgeFlows(t, ctx, host)
	for br, fs := range before {
		require.Len(t, rounds(fs), 1, "%s before restart:\n%s", br, flowLines(fs))
	}
	p := startPinger(t, ctx, vm, "10.5.0.12")
	require.NoError(t, p.waitSteady(ctx, time.Now(), 10, 5*time.Second))

	start := time.Now()
	require.NoError(t, l.RestartAgent(ctx, host))
	aliveIn := time.Since(start)
	var after bridgeFlows
	for after = readBridgeFlows(t, ctx, host); !after.sameAs(before); after = readBridgeFlows(t, ctx, host) {
		if time.Since(start) > 15*time.Second {
			for br := range before {
				t.Logf("%s before:\n%s\nafter:\n%s", br, flowLines(before[br]), flowLines(after[br]))
			}
			t.Fatalf("host%d flows not converged 15s after the agent restart", host)
		}
		time.Sleep(100 * time.Millisecond)
	}
	converged := time.Since(start)
	require.NoError(t, p.waitSteady(ctx, time.Now(), 10, 5*time.Second))
	st := p.stop()
	lost, _ := p.outage(start)
	t.Logf("FIGURE: agent restart on host%d: alive again after %v, flows replaced (round %d -> %d, %d+%d flows) after %v, %d of %d pings lost",
		host, aliveIn.Round(10*time.Millisecond), rounds(before["br-int"])[0], rounds(after["br-int"])[0],
		len(after["br-int"]), len(after["br-tun"]), converged.Round(10*time.Millisecond), lost, st.Transmitted)
	require.Zero(t, lost, "pings lost during the agent restart:\n%s", lossLines(p.text()))
}

func testVswitchdRestart(t *testing.T, ctx context.Context, vm string, host int) {
	l := sharedLab(t)
	before := readBridgeFlows(t, ctx, host)
	p := startPinger(t, ctx, vm, "10.5.0.12")
	require.NoError(t, p.waitSteady(ctx, time.Now(), 10, 5*time.Second))

	start := time.Now()
	require.NoError(t, l.RestartVswitchd(ctx, host))
	restarted := time.Since(start)
	require.NoError(t, p.waitSteady(ctx, start, 20, 15*time.Second), "ping did not recover after the ovs-vswitchd restart:\n%s", p.text())
	st := p.stop()
	lost, recovered := p.outage(start)
	took := recovered.Sub(start)
	t.Logf("FIGURE: ovs-vswitchd restart on host%d: restarted in %v, traffic back after %v, %d of %d pings lost",
		host, restarted.Round(10*time.Millisecond), took.Round(10*time.Millisecond), lost, st.Transmitted)
	require.Less(t, took, 10*time.Second, "traffic took too long to recover")

	// The agent put the same flows back (OVS keeps ofports across restarts).
	after := readBridgeFlows(t, ctx, host)
	for br := range before {
		require.Equal(t, flowSet(before[br]), flowSet(after[br]), "%s after the ovs-vswitchd restart", br)
		require.Len(t, rounds(after[br]), 1, "%s:\n%s", br, flowLines(after[br]))
	}
}

// lossLines picks the lines of ping output that tell about loss.
func lossLines(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, "bytes from") {
			fmt.Fprintln(&b, l)
		}
	}
	return b.String()
}
