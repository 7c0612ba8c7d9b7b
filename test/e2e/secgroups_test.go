package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/lab"
)

// TestSecurityGroups: the conntrack firewall on real OVS, checked at the
// receiver. A server VM in group web (TCP 8080 from anywhere) and client
// VMs on its host and on another host in group clients: 8080 connects,
// 9090 gets no SYN through; a rule admitting 9090 from the clients group
// (a remote group, by conjunctive flows) opens it to the clients only;
// an established connection survives an added rule and ends when the
// rule that allowed it is removed; deleting the 8080 rule stops new
// connections.
func TestSecurityGroups(t *testing.T) {
	ctx := testCtx(t, 4*time.Minute)
	l := sharedLab(t)
	c := adminClient(t)
	project, vms := sgNetwork(t, ctx, "secgroups-e2e", "sg-net", "10.41.0.0/24",
		vmSpec{Name: "sg-srv", Host: 1, IP: "10.41.0.11"},
		vmSpec{Name: "sg-local", Host: 1, IP: "10.41.0.12"},
		vmSpec{Name: "sg-remote", Host: 2, IP: "10.41.0.13"},
		vmSpec{Name: "sg-other", Host: 2, IP: "10.41.0.14"})
	srv, local, remote, other := vms[0], vms[1], vms[2], vms[3]
	web := sgTestGroup(t, ctx, c, project, "sg-web", false)
	clients := sgTestGroup(t, ctx, c, project, "sg-clients", false)
	others := sgTestGroup(t, ctx, c, project, "sg-others", false)
	joinGroups(t, ctx, c, srv, web)
	joinGroups(t, ctx, c, local, clients)
	joinGroups(t, ctx, c, remote, clients)
	joinGroups(t, ctx, c, other, others)
	tcp := func(port int, remote string) api.SecurityGroupRule {
		return sgRule(t, ctx, c, web, api.DirectionIngress, "tcp", port, "", remote)
	}
	r8080 := tcp(8080, "")

	startProbeServer(t, l, srv.Name, "tcp:8080", "tcp:9090", "echo:7070")
	capture := startRecvCapture(t, l, srv)
	t.Cleanup(func() {
		if t.Failed() {
			for _, argv := range [][]string{{"ovs-ofctl", "dump-flows", "br-int"}, {"ovs-appctl", "dpctl/dump-conntrack"}} {
				out, _ := l.HostExec(context.Background(), 1, argv...)
				t.Logf("host1 %s:\n%s", strings.Join(argv, " "), out)
			}
		}
	})
	ip := srv.IP.Addr().String()

	took := eventually(t, "8080 from another host", func() bool { return connects(ctx, l, remote.Name, ip, 8080) })
	t.Logf("FIGURE: allowed TCP connects %v after the rule and ports were set", took.Round(time.Millisecond))
	require.True(t, connects(ctx, l, local.Name, ip, 8080), "8080 from the same host")
	for _, from := range []*lab.VM{local, remote, other} {
		require.False(t, connects(ctx, l, from.Name, ip, 9090), "9090 from %s", from.Name)
	}
	time.Sleep(300 * time.Millisecond)
	syns8080, syns9090 := capture.count("tcp", "", ip, 8080), capture.count("tcp", "", ip, 9090)
	require.Greater(t, syns8080, 0, "the capture saw the allowed SYNs (positive control)")
	require.Zero(t, syns9090, "no SYN to the blocked port reached the server")
	t.Logf("FIGURE: SYNs at the receiver: port 8080 %d, port 9090 %d", syns8080, syns9090)

	// A remote group rule opens 9090 to the clients group only.
	tcp(9090, clients.ID)
	eventually(t, "9090 from a client", func() bool { return connects(ctx, l, remote.Name, ip, 9090) })
	eventually(t, "9090 from the client on the same host", func() bool { return connects(ctx, l, local.Name, ip, 9090) })
	require.False(t, connects(ctx, l, other.Name, ip, 9090), "9090 from outside the clients group")
	time.Sleep(300 * time.Millisecond)
	otherIP := other.IP.Addr().String()
	require.Zero(t, capture.count("tcp", otherIP, ip, 9090), "no SYN from outside the group reached the server")

	// An established connection survives a rule added beside the one that
	// allowed it, and ends when that rule is removed.
	r7070 := tcp(7070, "")
	eventually(t, "7070 from another host", func() bool {
		_, err := l.Exec(ctx, remote.Name, "/usr/bin/python3", "-c", "import socket,sys; socket.create_connection((sys.argv[1], 7070), timeout=1)", ip)
		return err == nil
	})
	hold := startHold(t, l, remote.Name, ip, 7070)
	echoes := func() int { return strings.Count(hold.String(), "ok ") }
	eventually(t, "echoes on the held connection", func() bool { return echoes() > 5 })
	tcp(6060, "")
	time.Sleep(time.Second) // the agent applies the new rule meanwhile
	seen := echoes()
	time.Sleep(500 * time.Millisecond)
	require.Greater(t, echoes(), seen, "the held connection stopped after an unrelated rule was added: %s", hold.String())
	require.NotContains(t, hold.String(), "cut")
	removed := time.Now()
	require.NoError(t, c.DeleteSecurityGroupRule(ctx, r7070.ID))
	eventually(t, "the held connection cut", func() bool { return strings.Contains(hold.String(), "cut") })
	// The client notices after its 1 s read timeout.
	t.Logf("FIGURE: established connection ended %v after its rule's removal (including the client's 1s read timeout); %d echoes before",
		time.Since(removed).Round(time.Millisecond), echoes())

	// Removing the 8080 rule stops new connections.
	require.NoError(t, c.DeleteSecurityGroupRule(ctx, r8080.ID))
	took = eventually(t, "8080 closed", func() bool { return !connects(ctx, l, remote.Name, ip, 8080) })
	t.Logf("FIGURE: rule removal enforced within %v", took.Round(time.Millisecond))
	time.Sleep(500 * time.Millisecond) // let the capture catch up
	before := capture.count("tcp", "", ip, 8080)
	for _, from := range []*lab.VM{local, remote} {
		require.False(t, connects(ctx, l, from.Name, ip, 8080), "8080 from %s after the rule was removed", from.Name)
	}
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, before, capture.count("tcp", "", ip, 8080), "no new SYN to 8080 reached the server")
}
