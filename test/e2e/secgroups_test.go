package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
)

// tcpServer listens on every port given and answers "hi" to each
// connection.
const tcpServer = `
import socket, sys, threading
def echo(c):
    while True:
        b = c.recv(1)
        if not b:
            return
        c.sendall(b)
def serve(port, echoing):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        if echoing:
            threading.Thread(target=echo, args=(c,), daemon=True).start()
        else:
            c.sendall(b"hi")
            c.close()
for p in sys.argv[1:]:
    threading.Thread(target=serve, args=(int(p.split(":")[-1]), p.startswith("echo:")), daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
`

// tcpHold keeps one connection to an echo port busy, printing "ok N" per
// echoed byte, and "cut" when an echo does not come back within a second.
const tcpHold = `
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
s.settimeout(1)
n = 0
while True:
    try:
        s.sendall(b"x")
        if s.recv(1) != b"x":
            print("closed", flush=True)
            break
    except Exception:
        print("cut", flush=True)
        break
    n += 1
    print("ok", n, flush=True)
    time.sleep(0.05)
`

// holdOutput collects a tcpHold's output.
type holdOutput struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (h *holdOutput) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.out.Write(p)
}

func (h *holdOutput) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.out.String()
}

// tcpConnect exits 0 after reading "hi" from ip:port, 1 if it cannot
// connect within a second.
const tcpConnect = `
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1)
s.settimeout(2)
sys.exit(0 if s.recv(2) == b"hi" else 1)
`

// synCapture counts TCP SYNs (without ACK) arriving at a VM's NIC, by
// destination port: what the firewall let through, seen at the receiver.
type synCapture struct {
	mu     sync.Mutex
	out    bytes.Buffer
	cancel context.CancelFunc
	done   chan struct{}
}

func (c *synCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

var synLine = regexp.MustCompile(`IP ([0-9.]+)\.\d+ > [0-9.]+\.(\d+): Flags \[S\]`)

// syns returns the SYNs seen so far per destination port, and per
// "source ip:destination port".
func (c *synCapture) syns() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, m := range synLine.FindAllStringSubmatch(c.out.String(), -1) {
		out[m[2]]++
		out[m[1]+":"+m[2]]++
	}
	return out
}

func startSYNCapture(t *testing.T, l *lab.Lab, vm string) *synCapture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &synCapture{cancel: cancel, done: make(chan struct{})}
	cmd, err := l.Command(ctx, vm, "tcpdump", "-i", "eth0", "-nn", "-l", "-p",
		"tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0")
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = c, &stderr
	require.NoError(t, cmd.Start())
	go func() { _ = cmd.Wait(); close(c.done) }()
	t.Cleanup(func() { cancel(); <-c.done })
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stderr.String(), "listening on") {
		require.True(t, time.Now().Before(deadline), "tcpdump in %s did not start: %s", vm, stderr.String())
		time.Sleep(50 * time.Millisecond)
	}
	return c
}

func connects(ctx context.Context, l *lab.Lab, from, ip string, port int) bool {
	_, err := l.Exec(ctx, from, "/usr/bin/python3", "-c", tcpConnect, ip, fmt.Sprint(port))
	return err == nil
}

// eventually polls cond for up to 10 s (the agents apply rule changes).
func eventually(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		require.Less(t, time.Since(start), 10*time.Second, "%s: not within 10s", what)
		time.Sleep(200 * time.Millisecond)
	}
	return time.Since(start)
}

// unfiltered turns port security off on the VMs' ports (and with it their
// security groups), for tests of what other VMs send: a receiver's
// security groups would otherwise drop it too.
func unfiltered(t *testing.T, ctx context.Context, vms ...*lab.VM) {
	t.Helper()
	off, none := false, []string{}
	for _, vm := range vms {
		_, err := adminClient(t).UpdatePort(ctx, vm.PortID, client.PortUpdate{PortSecurityEnabled: &off, SecurityGroups: &none})
		require.NoError(t, err)
	}
	// Wait until the hosts apply it: the port's table-0 flow goes straight
	// to 60 (trusted) instead of the anti-spoofing tables.
	for _, vm := range vms {
		hi, err := sharedLab(t).ParseHost(vm.Host)
		require.NoError(t, err)
		ofport := vsctlGet(t, ctx, hi, "Interface", vm.Tap, "ofport")
		require.Eventually(t, func() bool {
			out, err := sharedLab(t).HostExec(ctx, hi, "ovs-ofctl", "dump-flows", "br-int", "table=0,in_port="+ofport)
			return err == nil && strings.Contains(string(out), "resubmit(,60)") && !strings.Contains(string(out), "resubmit(,24)")
		}, 20*time.Second, 100*time.Millisecond, "%s: port security off applied on %s", vm.Name, vm.Host)
	}
}

// admitPings adds an ingress ICMP rule from cidr to the default group of
// c's project, deleted when the test ends.
func admitPings(t *testing.T, ctx context.Context, c *client.Client, cidr string) {
	t.Helper()
	groups, err := c.ListSecurityGroups(ctx, map[string][]string{"name": {"default"}})
	require.NoError(t, err)
	require.Len(t, groups, 1)
	r, err := c.CreateSecurityGroupRule(ctx, client.SecurityGroupRuleCreate{SecurityGroupID: groups[0].ID,
		Direction: api.DirectionIngress, Protocol: "icmp", RemoteIPPrefix: cidr})
	require.NoError(t, err)
	t.Cleanup(func() { deleteQuietly(t, "rule "+r.ID, c.DeleteSecurityGroupRule(context.Background(), r.ID)) })
}

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
	const projectName = "secgroups-e2e"
	n, _ := makeNetwork(t, ctx, netSpec{Name: "sg-net", Project: projectName, Type: api.NetworkTypeVXLAN, CIDR: "10.41.0.0/24"})
	vms := createVMs(t, ctx,
		vmSpec{Name: "sg-srv", Network: n, Host: 1, IP: "10.41.0.11", Project: projectName},
		vmSpec{Name: "sg-local", Network: n, Host: 1, IP: "10.41.0.12", Project: projectName},
		vmSpec{Name: "sg-remote", Network: n, Host: 2, IP: "10.41.0.13", Project: projectName},
		vmSpec{Name: "sg-other", Network: n, Host: 2, IP: "10.41.0.14", Project: projectName})
	srv, local, remote, other := vms[0], vms[1], vms[2], vms[3]
	project, err := c.ProjectID(ctx, projectName)
	require.NoError(t, err)

	group := func(name string) api.SecurityGroup {
		g, err := c.CreateSecurityGroup(ctx, client.SecurityGroupCreate{Name: name, ProjectID: project})
		require.NoError(t, err)
		t.Cleanup(func() { deleteQuietly(t, "security group "+g.ID, c.DeleteSecurityGroup(context.Background(), g.ID)) })
		return g
	}
	web, clients, others := group("sg-web"), group("sg-clients"), group("sg-others")
	// Ports leave their groups before the groups are deleted (cleanups run
	// last-registered-first).
	join := func(vm *lab.VM, g api.SecurityGroup) {
		_, err := c.UpdatePort(ctx, vm.PortID, client.PortUpdate{SecurityGroups: &[]string{g.ID}})
		require.NoError(t, err)
		t.Cleanup(func() {
			_, _ = c.UpdatePort(context.Background(), vm.PortID, client.PortUpdate{SecurityGroups: &[]string{}})
		})
	}
	join(srv, web)
	join(local, clients)
	join(remote, clients)
	join(other, others)
	tcp := func(port int, remote string) client.SecurityGroupRuleCreate {
		return client.SecurityGroupRuleCreate{SecurityGroupID: web.ID, Direction: api.DirectionIngress,
			Protocol: "tcp", PortRangeMin: &port, PortRangeMax: &port, RemoteGroupID: remote}
	}
	r8080, err := c.CreateSecurityGroupRule(ctx, tcp(8080, ""))
	require.NoError(t, err)

	cmd, err := l.Command(context.Background(), srv.Name, "/usr/bin/python3", "-c", tcpServer, "8080", "9090", "echo:7070")
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	capture := startSYNCapture(t, l, srv.Name)
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
	syns := capture.syns()
	require.Greater(t, syns["8080"], 0, "the capture saw the allowed SYNs (positive control)")
	require.Zero(t, syns["9090"], "no SYN to the blocked port reached the server")
	t.Logf("FIGURE: SYNs at the receiver: port 8080 %d, port 9090 %d", syns["8080"], syns["9090"])

	// A remote group rule opens 9090 to the clients group only.
	_, err = c.CreateSecurityGroupRule(ctx, tcp(9090, clients.ID))
	require.NoError(t, err)
	eventually(t, "9090 from a client", func() bool { return connects(ctx, l, remote.Name, ip, 9090) })
	eventually(t, "9090 from the client on the same host", func() bool { return connects(ctx, l, local.Name, ip, 9090) })
	require.False(t, connects(ctx, l, other.Name, ip, 9090), "9090 from outside the clients group")
	time.Sleep(300 * time.Millisecond)
	otherIP := other.IP.Addr().String()
	require.Zero(t, capture.syns()[otherIP+":9090"], "no SYN from outside the group reached the server")

	// An established connection survives a rule added beside the one that
	// allowed it, and ends when that rule is removed.
	r7070, err := c.CreateSecurityGroupRule(ctx, tcp(7070, ""))
	require.NoError(t, err)
	eventually(t, "7070 from another host", func() bool {
		_, err := l.Exec(ctx, remote.Name, "/usr/bin/python3", "-c", "import socket,sys; socket.create_connection((sys.argv[1], 7070), timeout=1)", ip)
		return err == nil
	})
	hold := &holdOutput{}
	hcmd, err := l.Command(context.Background(), remote.Name, "/usr/bin/python3", "-c", tcpHold, ip, "7070")
	require.NoError(t, err)
	hcmd.Stdout, hcmd.Stderr = hold, hold
	require.NoError(t, hcmd.Start())
	t.Cleanup(func() { _ = hcmd.Process.Kill(); _ = hcmd.Wait() })
	echoes := func() int { return strings.Count(hold.String(), "ok ") }
	eventually(t, "echoes on the held connection", func() bool { return echoes() > 5 })
	_, err = c.CreateSecurityGroupRule(ctx, tcp(6060, ""))
	require.NoError(t, err)
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
	before := capture.syns()["8080"]
	for _, from := range []*lab.VM{local, remote} {
		require.False(t, connects(ctx, l, from.Name, ip, 8080), "8080 from %s after the rule was removed", from.Name)
	}
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, before, capture.syns()["8080"], "no new SYN to 8080 reached the server")
}
