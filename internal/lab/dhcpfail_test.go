package lab_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/lab/labtest"
)

// downTime is the server's --agent-down-time in the failover tests: short,
// so the tests see a move, and well above the 4 s liveness TTL, so they
// can see that alive:false alone moves nothing.
const downTime = 6 * time.Second

// dhcpAgentHosts are the hosts GET /v2.0/networks/{id}/dhcp-agents lists.
func dhcpAgentHosts(t *testing.T, ctx context.Context, c *client.Client, netID string) []string {
	t.Helper()
	as, err := c.ListNetworkDHCPAgents(ctx, netID)
	require.NoError(t, err)
	var hosts []string
	for _, a := range as {
		hosts = append(hosts, a.Host)
	}
	slices.Sort(hosts)
	return hosts
}

// dhcpAlive is the alive flag of host's DHCP agent row.
func dhcpAlive(t *testing.T, ctx context.Context, c *client.Client, host string) bool {
	t.Helper()
	as, err := c.ListAgents(ctx, nil)
	require.NoError(t, err)
	for _, a := range as {
		if a.Host == host && a.AgentType == api.AgentTypeDHCP {
			return a.Alive
		}
	}
	t.Fatalf("no DHCP agent row for %s", host)
	return false
}

// hostServes says whether lab host i's `ip netns` shows qdhcp.
func hostServes(ctx context.Context, l *lab.Lab, i int, qdhcp string) bool {
	out, _ := l.HostExec(ctx, i, "ip", "netns")
	return strings.Contains(string(out), qdhcp)
}

// dnsmasqPids are the dnsmasq processes of lab host i (they run with the
// host's DHCP state directory on their command line).
func dnsmasqPids(t *testing.T, l *lab.Lab, i int) []int {
	t.Helper()
	h, err := l.HostInfo(i)
	require.NoError(t, err)
	var pids []int
	for _, pid := range lab.Processes(filepath.Join(h.Dir, "dhcp")) {
		if b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm")); strings.TrimSpace(string(b)) == "dnsmasq" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// leased says whether lab host i's dnsmasq for netID holds a lease for mac.
func leased(t *testing.T, l *lab.Lab, i int, netID, mac string) bool {
	t.Helper()
	h, err := l.HostInfo(i)
	require.NoError(t, err)
	b, _ := os.ReadFile(filepath.Join(h.Dir, "dhcp", netID, "leases"))
	return strings.Contains(string(b), strings.ToLower(mac))
}

// TestDHCPFailover: two DHCP hosts, one network, served by one of them
// (A). A's agent is killed (SIGKILL): A's DHCP agent shows alive:false
// within the liveness TTL, the network stays on A for the down time, then
// moves to the other DHCP host B (the dhcp-agents API, B's qdhcp-
// namespace), and a new VM on the compute host gets its lease from B.
func TestDHCPFailover(t *testing.T) {
	l := labtest.Up(t, lab.Config{Name: "dhcpfail", Hosts: 3, DHCPHosts: 2,
		ServerArgs: []string{"--agent-down-time", downTime.String()}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := l.Client()
	net, sub := makeNetwork(t, ctx, c, "fnet", "10.9.0.0/24")
	qdhcp := "qdhcp-" + net.ID
	var hosts []string
	require.Eventually(t, func() bool {
		hosts = dhcpAgentHosts(t, ctx, c, net.ID)
		return len(hosts) == 1
	}, 10*time.Second, 50*time.Millisecond, "the network is scheduled on one DHCP host")
	a, err := l.ParseHost(hosts[0])
	require.NoError(t, err)
	require.Contains(t, []int{1, 2}, a)
	b := 3 - a
	require.Eventually(t, func() bool { return hostServes(ctx, l, a, qdhcp) }, 10*time.Second, 50*time.Millisecond)
	require.False(t, hostServes(ctx, l, b, qdhcp), "host%d does not serve the network yet", b)
	vm1, err := l.CreateVM(ctx, lab.VMSpec{Name: "fvm1", Network: net.ID, Host: "host3", DHCP: true})
	require.NoError(t, err)
	require.True(t, leased(t, l, a, net.ID, vm1.MAC), "host%d gave fvm1 its lease", a)

	hostA, hostB := "host"+strconv.Itoa(a), "host"+strconv.Itoa(b)
	killed := time.Now()
	require.NoError(t, l.KillAgent(a))
	var dead, moved time.Duration
	for dead == 0 || moved == 0 {
		require.Less(t, time.Since(killed), 30*time.Second, "alive:false after %v, moved after %v", dead, moved)
		if dead == 0 && !dhcpAlive(t, ctx, c, hostA) {
			dead = time.Since(killed)
		}
		switch now := dhcpAgentHosts(t, ctx, c, net.ID); {
		case slices.Equal(now, []string{hostA}):
		case slices.Equal(now, sorted(hostA, hostB)):
			// The move is make-before-break: the scheduler binds the new
			// host, then unbinds the dead one (two writes).
		case slices.Equal(now, []string{hostB}):
			moved = time.Since(killed)
			require.NotZero(t, dead, "the network moved before %s showed alive:false", hostA)
		default:
			t.Fatalf("dhcp-agents of the network: %v", now)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%s killed: alive:false after %v, network moved to %s after %v (down time %v)",
		hostA, dead.Round(time.Millisecond), hostB, moved.Round(time.Millisecond), downTime)
	require.Less(t, dead, 6*time.Second, "alive:false within the liveness TTL")
	require.GreaterOrEqual(t, moved-dead, downTime-time.Second, "nothing moves before the down time")

	require.Eventually(t, func() bool { return hostServes(ctx, l, b, qdhcp) }, 10*time.Second, 50*time.Millisecond,
		"host%d's `ip netns` shows %s", b, qdhcp)
	served := time.Since(killed)
	start := time.Now()
	vm2, err := l.CreateVM(ctx, lab.VMSpec{Name: "fvm2", Network: net.ID, Host: "host3", DHCP: true})
	require.NoError(t, err)
	lease := time.Since(start)
	require.True(t, netip.MustParsePrefix(sub.CIDR).Contains(vm2.IP.Addr()), "fvm2 got %v", vm2.IP)
	require.True(t, leased(t, l, b, net.ID, vm2.MAC), "host%d gave fvm2 its lease", b)
	t.Logf("%s's qdhcp- namespace after %v; new VM: port create -> lease %v (%v after the kill)",
		hostB, served.Round(time.Millisecond), lease.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	// The VM pings its DHCP server (its default security group admits only
	// replies and its own group's traffic, as Neutron's does).
	out, err := l.Exec(ctx, vm2.Name, "ping", "-c1", "-W2", qdhcpAddr(t, ctx, l, b, qdhcp))
	require.NoError(t, err, "fvm2 reaches host%d's DHCP namespace: %s", b, out)
}

// renewRE finds a renewal in a lab VM's dhclient log. dhclient renews at
// T1 (1/2 of the lease) by unicast to the server that gave the lease and,
// with no answer, broadcasts from T2 (7/8) on, to any server; ISC dhclient
// reports an answer to either as RENEW.
var renewRE = regexp.MustCompile(`(?m)^(\S+) (RENEW|REBIND) ip=(\S+)`)

// TestDHCPTwoAgentsHostDown: with --dhcp-agents-per-network=2 both DHCP
// hosts run a dnsmasq for the network. The host that gave a VM its lease
// goes down (its agent and its dnsmasq, SIGKILL): a new VM gets its lease
// from the other host at once, the VM keeps its address (its renewal to
// the dead host fails, its rebind is answered by the other), and, past
// the down time, the dead host keeps its binding (no third DHCP host to
// move to; it may come back) while new VMs still get leases.
func TestDHCPTwoAgentsHostDown(t *testing.T) {
	l := labtest.Up(t, lab.Config{Name: "dhcpfail", Hosts: 3, DHCPHosts: 2,
		ServerArgs: []string{"--agent-down-time", downTime.String(), "--dhcp-agents-per-network", "2"},
		AgentArgs:  []string{"--dhcp-lease-duration=2m"}})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := l.Client()
	net, _ := makeNetwork(t, ctx, c, "tnet", "10.10.0.0/24")
	qdhcp := "qdhcp-" + net.ID
	require.Eventually(t, func() bool {
		return slices.Equal(dhcpAgentHosts(t, ctx, c, net.ID), []string{"host1", "host2"})
	}, 10*time.Second, 50*time.Millisecond, "the network is scheduled on both DHCP hosts")
	for _, h := range []int{1, 2} {
		require.Eventually(t, func() bool { return hostServes(ctx, l, h, qdhcp) && len(dnsmasqPids(t, l, h)) == 1 },
			10*time.Second, 50*time.Millisecond, "host%d runs a dnsmasq in %s", h, qdhcp)
	}
	vm1, err := l.CreateVM(ctx, lab.VMSpec{Name: "tvm1", Network: net.ID, Host: "host3", DHCP: true})
	require.NoError(t, err)
	bound := time.Now()
	a := 1
	if leased(t, l, 2, net.ID, vm1.MAC) {
		a = 2
	}
	b := 3 - a
	require.True(t, leased(t, l, a, net.ID, vm1.MAC))
	require.False(t, leased(t, l, b, net.ID, vm1.MAC), "one server acknowledged tvm1's lease")
	hostA := "host" + strconv.Itoa(a)

	// The host that gave tvm1 its lease goes down: its agent first (so
	// nothing restarts dnsmasq), then its dnsmasq.
	killed := time.Now()
	require.NoError(t, l.KillAgent(a))
	pids := dnsmasqPids(t, l, a)
	require.Len(t, pids, 1)
	require.NoError(t, syscall.Kill(pids[0], syscall.SIGKILL))
	start := time.Now()
	vm2, err := l.CreateVM(ctx, lab.VMSpec{Name: "tvm2", Network: net.ID, Host: "host3", DHCP: true})
	require.NoError(t, err)
	lease := time.Since(start)
	require.True(t, leased(t, l, b, net.ID, vm2.MAC), "host%d gave tvm2 its lease", b)
	require.Empty(t, dnsmasqPids(t, l, a), "%s's dnsmasq stays dead", hostA)
	t.Logf("%s's agent and dnsmasq killed; new VM right after: port create -> lease %v",
		hostA, lease.Round(time.Millisecond))
	require.Eventually(t, func() bool { return !dhcpAlive(t, ctx, c, hostA) }, 8*time.Second, 50*time.Millisecond)
	t.Logf("%s's DHCP agent alive:false %v after the kill", hostA, time.Since(killed).Round(100*time.Millisecond))

	// tvm1 renews at T1, 60 s into its 2 min lease, to the dead host: no
	// answer; from T2, 105 s, it broadcasts and the other host answers.
	var m []string
	require.Eventually(t, func() bool {
		log, _ := l.DHCPLog(vm1.Name)
		m = renewRE.FindStringSubmatch(log)
		return m != nil
	}, time.Until(bound.Add(130*time.Second)), 500*time.Millisecond, "tvm1: no renewal within 130 s of its lease")
	require.Equal(t, vm1.IP.Addr().String(), m[3], "tvm1 kept its address")
	require.Greater(t, time.Since(bound), 100*time.Second, "acknowledged at T2, not T1: the dead host did not answer")
	require.True(t, leased(t, l, b, net.ID, vm1.MAC), "host%d acknowledged tvm1's %s", b, m[2])
	t.Logf("tvm1: %s acknowledged by host%d %v after its lease, %v after the kill", m[2], b,
		time.Since(bound).Round(time.Second), time.Since(killed).Round(time.Second))

	// Long past the down time: still both bound, and host b still answers.
	require.Equal(t, []string{"host1", "host2"}, dhcpAgentHosts(t, ctx, c, net.ID))
	start = time.Now()
	vm3, err := l.CreateVM(ctx, lab.VMSpec{Name: "tvm3", Network: net.ID, Host: "host3", DHCP: true})
	require.NoError(t, err)
	require.True(t, leased(t, l, b, net.ID, vm3.MAC), "host%d gave tvm3 its lease", b)
	t.Logf("new VM %v after the kill: port create -> lease %v",
		start.Sub(killed).Round(time.Second), time.Since(start).Round(time.Millisecond))
	// The VM pings its DHCP server (its default security group admits only
	// replies and its own group's traffic, as Neutron's does).
	out, err := l.Exec(ctx, vm3.Name, "ping", "-c1", "-W2", qdhcpAddr(t, ctx, l, b, qdhcp))
	require.NoError(t, err, "tvm3 reaches host%d's DHCP namespace: %s", b, out)
}

// qdhcpAddr is the IPv4 address of the DHCP port in a host's qdhcp- namespace.
func qdhcpAddr(t *testing.T, ctx context.Context, l *lab.Lab, host int, qdhcp string) string {
	t.Helper()
	out, err := l.HostExec(ctx, host, "ip", "netns", "exec", qdhcp, "ip", "-4", "-o", "addr", "show", "scope", "global")
	require.NoError(t, err, "%s", out)
	f := strings.Fields(string(out))
	i := slices.Index(f, "inet")
	require.True(t, i >= 0 && i+1 < len(f), "no address in host%d's %s: %s", host, qdhcp, out)
	return strings.Split(f[i+1], "/")[0]
}

func sorted(xs ...string) []string { slices.Sort(xs); return xs }
