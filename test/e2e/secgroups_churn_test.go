package e2e_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

// TestSecurityGroupChurn: a long TCP transfer (iperf3, a on host1 to b on
// host2) admitted by a remote-group rule (conjunction) keeps moving data
// while rules that do not concern it come and go: remote-group rules in a
// group of b listed before the admitting one, in the admitting group
// itself (other ports) and in an unrelated group, plus a third VM joining
// and leaving that unrelated group. Rule additions must not disturb an
// established connection (issue: an iperf3 stalled for good with its
// conntrack entry marked revoked, ct_mark=1): every 0.5 s interval moves
// data, and neither host's conntrack marks the connection. The flow of
// b's side of the stream's conjunction must keep its conjunction id
// throughout (ids numbered in first-use order were renumbered by extra's
// rules and rewrote it).
func TestSecurityGroupChurn(t *testing.T) {
	ctx := testCtx(t, 3*time.Minute)
	l := sharedLab(t)
	c := adminClient(t)
	project, vms := sgNetwork(t, ctx, "sg-churn", "sgc-net", "10.46.0.0/24",
		vmSpec{Name: "sgc-a", Host: 1, IP: "10.46.0.11"},
		vmSpec{Name: "sgc-b", Host: 2, IP: "10.46.0.12"},
		vmSpec{Name: "sgc-c", Host: 2, IP: "10.46.0.13"})
	a, b, cvm := vms[0], vms[1], vms[2]
	clients := sgTestGroup(t, ctx, c, project, "sgc-clients", false)
	// A port's groups are visited in id order: extra must come before srv
	// on b, so that conjunctions numbered in first-use order would be
	// renumbered by extra's rules. The group with the lower id plays extra.
	srv := sgTestGroup(t, ctx, c, project, "sgc-srv", true)
	extra := sgTestGroup(t, ctx, c, project, "sgc-extra", true)
	if extra.ID > srv.ID {
		srv, extra = extra, srv
	}
	other := sgTestGroup(t, ctx, c, project, "sgc-other", false)
	sgRule(t, ctx, c, srv, api.DirectionIngress, "tcp", 5201, "", clients.ID)
	joinGroups(t, ctx, c, a, extra, clients)
	joinGroups(t, ctx, c, b, extra, srv)
	joinGroups(t, ctx, c, cvm, srv)
	const seconds = 15
	stream := startIperf(t, ctx, l, a, b, seconds)

	// Churn: ~40 rule changes and 4 membership changes, none of which
	// touches what admits a -> b:5201.
	time.Sleep(time.Second)
	var wg sync.WaitGroup
	var churnErr error
	changes := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		cctx := context.Background()
		var made []string
		add := func(g api.SecurityGroup, dir string, port int, remote string) bool {
			p := port
			r, err := c.CreateSecurityGroupRule(cctx, client.SecurityGroupRuleCreate{SecurityGroupID: g.ID, Direction: dir,
				Ethertype: api.EtherTypeIPv4, Protocol: "tcp", PortRangeMin: &p, PortRangeMax: &p, RemoteGroupID: remote})
			if err != nil {
				churnErr = err
				return false
			}
			made = append(made, r.ID)
			changes++
			return true
		}
		groups := map[bool][]string{true: {other.ID}, false: {}}
		for i := range 14 {
			port := 6000 + i
			if !add(extra, api.DirectionIngress, port, other.ID) || // new conjunction key on both hosts
				!add(srv, api.DirectionIngress, port, clients.ID) || // same key as the stream's
				!add(other, api.DirectionIngress, port, srv.ID) {
				return
			}
			if i%3 == 0 {
				ids := groups[i%2 == 0]
				if _, err := c.UpdatePort(cctx, cvm.PortID, client.PortUpdate{SecurityGroups: &ids}); err != nil {
					churnErr = err
					return
				}
				changes++
			}
			time.Sleep(150 * time.Millisecond)
			if len(made) > 3 {
				if err := c.DeleteSecurityGroupRule(cctx, made[0]); err != nil {
					churnErr = err
					return
				}
				made = made[1:]
				changes++
			}
		}
		for _, id := range made {
			if err := c.DeleteSecurityGroupRule(cctx, id); err != nil {
				churnErr = err
				return
			}
			changes++
			time.Sleep(100 * time.Millisecond)
		}
	}()
	// Meanwhile, the flow of b's side of the stream's conjunction (clause
	// 2: b's port, TCP 5201) on host2 must keep its conjunction id: a
	// renumbered id rewrites it (and every other conjunction flow).
	ofport := vsctlGet(t, ctx, 2, "Interface", b.Tap, "ofport")
	clause := map[string]bool{}
	churned := make(chan struct{})
	go func() { wg.Wait(); close(churned) }()
	for done := false; !done; {
		select {
		case <-churned:
			done = true
		case <-time.After(200 * time.Millisecond):
		}
		dump, err := l.HostExec(ctx, 2, "ovs-ofctl", "dump-flows", "--no-stats", "br-int", "table=82,reg5="+ofport+",tcp,tp_dst=5201")
		require.NoError(t, err)
		for _, line := range strings.Split(string(dump), "\n") {
			if _, acts, ok := strings.Cut(line, "actions="); ok && strings.Contains(acts, "conjunction(") {
				clause[acts] = true
			}
		}
	}
	require.NoError(t, churnErr)
	t.Logf("churn: %d changes", changes)

	iperfErr := stream.wait()
	marked := func(host int) []string {
		ct, err := l.HostExec(context.Background(), host, "ovs-appctl", "dpctl/dump-conntrack")
		require.NoError(t, err)
		var bad []string
		for _, line := range strings.Split(string(ct), "\n") {
			if strings.Contains(line, "dport=5201") && strings.Contains(line, "src="+a.IP.Addr().String()) && strings.Contains(line, "mark=1") {
				bad = append(bad, line)
			}
		}
		return bad
	}
	assert.Len(t, clause, 1, "the stream's clause flow kept its conjunction id through the churn: %v", clause)
	for _, host := range []int{1, 2} {
		assert.Empty(t, marked(host), "host%d revoked the iperf3 connection (ct_mark=1)", host)
	}
	require.NoError(t, iperfErr, "iperf3: %s", stream.out.String())
	avg, slowest := stream.requireSteady(t)
	t.Logf("FIGURE: %d unrelated security group changes during a %d s iperf3 through a remote-group rule: no stall, %.0f Mbit/s average, slowest 0.5 s interval %.0f Mbit/s",
		changes, seconds, avg, slowest)
}
