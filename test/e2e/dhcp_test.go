package e2e_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/dhcp"
	"github.com/vland/vland/internal/lab"
)

// dhcpPort returns network n's DHCP port on host once the host's agent
// reports it ACTIVE (its qdhcp- namespace and dnsmasq are up). With the
// server's DHCP scheduler (DHCP agent rows in /v2.0/agents) the scheduler
// creates it: wait for it. Without, create it as the scheduler would
// (device_owner network:dhcp, bound to host, through the API); it is then
// deleted when the test ends, before the network.
func dhcpPort(t *testing.T, ctx context.Context, n api.Network, host int) api.Port {
	t.Helper()
	c := adminClient(t)
	hostName := fmt.Sprintf("host%d", host)
	agents, err := c.ListAgents(ctx, nil)
	require.NoError(t, err)
	scheduled := slices.ContainsFunc(agents, func(a api.Agent) bool { return a.AgentType == "DHCP agent" })
	var found api.Port
	require.Eventually(t, func() bool {
		existing, err := c.ListPorts(ctx, url.Values{"network_id": {n.ID}, "device_owner": {dhcp.DeviceOwner}})
		require.NoError(t, err)
		i := slices.IndexFunc(existing, func(p api.Port) bool { return p.BindingHostID == hostName })
		if i >= 0 {
			found = existing[i]
		}
		return i >= 0 || !scheduled
	}, 15*time.Second, 50*time.Millisecond, "the scheduler gives %s a DHCP port on %s", n.Name, hostName)
	p := found
	if p.ID == "" {
		p, err = c.CreatePort(ctx, client.PortCreate{ProjectID: n.ProjectID, NetworkID: n.ID,
			DeviceOwner: dhcp.DeviceOwner, DeviceID: "dhcp" + hostName + "-" + n.ID, BindingHostID: hostName})
		require.NoError(t, err, "create DHCP port of %s", n.Name)
	}
	t.Cleanup(func() {
		if scheduled {
			// The scheduler's port goes with the network (the test's VMs
			// are gone by now: their cleanups were registered later).
			deleteQuietly(t, "network "+n.ID, c.DeleteNetwork(context.Background(), n.ID))
		} else {
			deleteQuietly(t, "DHCP port "+p.ID, c.DeletePort(context.Background(), p.ID))
		}
		// The agent then removes the namespace and the tap from br-int.
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		require.Eventually(t, func() bool {
			ports, _ := sharedLab(t).HostExec(ctx, host, "ovs-vsctl", "list-ports", "br-int")
			return !strings.Contains(string(ports), "tap"+p.ID[:11]) &&
				!slices.Contains(hostNetns(t, ctx, host), dhcp.NSPrefix+n.ID)
		}, 15*time.Second, 50*time.Millisecond, "host%d still serves %s after its DHCP port went", host, n.Name)
	})
	return waitActive(t, ctx, p.ID)
}

// createDHCPVM creates a VM whose NIC is configured by its DHCP client.
func createDHCPVM(t *testing.T, ctx context.Context, s vmSpec) *lab.VM {
	t.Helper()
	l := sharedLab(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = l.DeleteVM(ctx, s.Name)
	})
	vm, err := l.CreateVM(ctx, lab.VMSpec{Name: s.Name, Network: s.Network.ID,
		Host: fmt.Sprintf("host%d", s.Host), IP: s.IP, Project: s.Project, DNSName: s.DNSName, DHCP: true})
	require.NoError(t, err, "create DHCP vm %s", s.Name)
	return vm
}

// hostNetns lists the qdhcp- namespaces `ip netns` shows on a lab host.
func hostNetns(t *testing.T, ctx context.Context, host int) []string {
	t.Helper()
	out, err := sharedLab(t).HostExec(ctx, host, "ip", "netns")
	require.NoError(t, err, "%s", out)
	var nss []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], dhcp.NSPrefix) {
			nss = append(nss, f[0])
		}
	}
	return nss
}

// TestDHCPSeed002 is seed 002's DHCP: one project, three networks, their
// DHCP served by the network node (host1); a VM on a compute host gets its
// address, default gateway, MTU 1450 and DNS server by DHCP across the
// tunnel, and `ip netns` on the network node shows one qdhcp- per network
// (and on the compute hosts none).
func TestDHCPSeed002(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	project := "dhcpagent-s2"
	var nets []api.Network
	var dports []api.Port
	for i := 1; i <= 3; i++ {
		n, _ := makeNetwork(t, ctx, netSpec{Name: fmt.Sprintf("dhcpagent-s2-private%d", i), Project: project,
			Type: api.NetworkTypeVXLAN, CIDR: fmt.Sprintf("10.10.%d0.0/24", i)})
		nets = append(nets, n)
		dports = append(dports, dhcpPort(t, ctx, n, 1))
	}
	on1 := hostNetns(t, ctx, 1)
	for _, n := range nets {
		require.Contains(t, on1, dhcp.NSPrefix+n.ID, "host1 `ip netns`")
		for h := 2; h <= numHosts; h++ {
			require.NotContains(t, hostNetns(t, ctx, h), dhcp.NSPrefix+n.ID, "host%d `ip netns`", h)
		}
	}
	root, err := os.ReadDir("/run/netns")
	require.NoError(t, err)
	for _, e := range root {
		require.False(t, strings.HasPrefix(e.Name(), dhcp.NSPrefix), "qdhcp- namespace %s in the root's /run/netns", e.Name())
	}

	start := time.Now()
	vm := createDHCPVM(t, ctx, vmSpec{Name: "dhcpagent-s2-vm1", Network: nets[0], Host: 2, Project: project})
	t.Logf("FIGURE: DHCP VM create (port, plug, ACTIVE, lease) in %v", time.Since(start).Round(time.Millisecond))
	port, err := adminClient(t).GetPort(ctx, vm.PortID)
	require.NoError(t, err)
	require.Equal(t, port.FixedIPs[0].IPAddress+"/24", vm.IP.String(), "address by DHCP is the port's fixed IP")
	require.Equal(t, "10.10.10.1", vm.Gateway.String(), "default gateway by DHCP")
	require.Equal(t, 1450, vm.MTU, "MTU by DHCP (option 26)")
	resolv := vmExec(t, ctx, vm.Name, "cat", "/etc/resolv.conf")
	require.Contains(t, resolv, "nameserver "+dports[0].FixedIPs[0].IPAddress, "DNS server by DHCP: the DHCP port")
	require.Contains(t, resolv, "search openstacklocal")
	// The DHCP server answers across the tunnel, and so does its DNS.
	waitPing(t, ctx, vm.Name, dports[0].FixedIPs[0].IPAddress, 10*time.Second)
	out := vmExec(t, ctx, vm.Name, "getent", "hosts", hostName(vm.IP.Addr().String()))
	require.Contains(t, out, vm.IP.Addr().String())

	// A second network's VM on the other compute host.
	vm2 := createDHCPVM(t, ctx, vmSpec{Name: "dhcpagent-s2-vm2", Network: nets[2], Host: 3, Project: project})
	require.True(t, strings.HasPrefix(vm2.IP.String(), "10.10.30."), "vm2 address %s", vm2.IP)
	require.Equal(t, "10.10.30.1", vm2.Gateway.String())
}

// hostName is Neutron's default DNS name of an address.
func hostName(ip string) string { return "host-" + strings.ReplaceAll(ip, ".", "-") }

// TestDHCPSeed000DNS is seed 000 with DHCP and private DNS: two projects,
// the same CIDR, the same VM names (dns_name vm1, vm2) and the same
// addresses (the DHCP ports' too); project b's network has its own
// dns_domain. Each VM resolves its peer by short name and by FQDN to its
// own project's VM, and not the other project's domain. Since the answers
// would be the same either way, an nftables counter on DNS queries in each
// qdhcp- namespace proves that lookups never reach the other project's
// dnsmasq.
func TestDHCPSeed000DNS(t *testing.T) {
	ctx := testCtx(t, 3*time.Minute)
	domains := map[string]string{"a": "openstacklocal", "b": "dhcpdefault-b.example"}
	ips := map[string]string{"vm1": "10.1.0.11", "vm2": "10.1.0.12"}
	vms := map[string][]*lab.VM{}
	netIDs := map[string]string{}
	for i, tenant := range []string{"a", "b"} {
		project := "dhcpagent-s0-" + tenant
		spec := netSpec{Name: project + "-net", Project: project, Type: api.NetworkTypeVXLAN, CIDR: "10.1.0.0/24"}
		if tenant == "b" {
			spec.DNSDomain = domains["b"] + "."
		}
		n, _ := makeNetwork(t, ctx, spec)
		require.Equal(t, spec.DNSDomain, n.DNSDomain, "network %s dns_domain", n.Name)
		netIDs[tenant] = n.ID
		dp := dhcpPort(t, ctx, n, 1)
		require.Equal(t, "10.1.0.2", dp.FixedIPs[0].IPAddress, "both projects' DHCP ports have the same address")
		for j, name := range []string{"vm1", "vm2"} {
			vm := createDHCPVM(t, ctx, vmSpec{Name: fmt.Sprintf("dhcpagent-s0%s%d", tenant, j+1), Network: n,
				Host: 2 + (i+j)%2, IP: ips[name], Project: project, DNSName: name})
			require.Equal(t, ips[name]+"/24", vm.IP.String())
			vms[tenant] = append(vms[tenant], vm)
		}
	}
	for _, tenant := range []string{"a", "b"} {
		other := map[string]string{"a": "b", "b": "a"}[tenant]
		countDNS(t, ctx, netIDs["a"])
		countDNS(t, ctx, netIDs["b"])
		for j, vm := range vms[tenant] {
			resolv := vmExec(t, ctx, vm.Name, "cat", "/etc/resolv.conf")
			require.Contains(t, resolv, "search "+domains[tenant], "%s: its network's domain by DHCP", vm.Name)
			peer := []string{"vm2", "vm1"}[j]
			for _, name := range []string{peer, peer + "." + domains[tenant]} {
				out := vmExec(t, ctx, vm.Name, "getent", "hosts", name)
				require.Contains(t, out, ips[peer], "%s resolves %s", vm.Name, name)
			}
			out, err := sharedLab(t).Exec(ctx, vm.Name, "getent", "hosts", peer+"."+domains[other])
			require.Error(t, err, "%s (project %s) resolved the other project's name %s.%s: %s",
				vm.Name, tenant, peer, domains[other], out)
		}
		require.Positive(t, countDNS(t, ctx, netIDs[tenant]), "project %s's lookups reached its own dnsmasq", tenant)
		require.Zero(t, countDNS(t, ctx, netIDs[other]), "project %s's lookups reached project %s's dnsmasq", tenant, other)
	}
}

// countDNS returns how many DNS queries network netID's qdhcp- namespace on
// host1 received since the previous call, and resets the count (the first
// call installs the counter; the namespace's table goes with it).
func countDNS(t *testing.T, ctx context.Context, netID string) int {
	t.Helper()
	ns := dhcp.NSPrefix + netID
	nft := func(args ...string) string {
		out, err := sharedLab(t).HostExec(ctx, 1, append([]string{"ip", "netns", "exec", ns, "nft"}, args...)...)
		require.NoError(t, err, "nft %v in %s: %s", args, ns, out)
		return string(out)
	}
	nft("add table inet e2edns")
	nft("add counter inet e2edns queries")
	nft("add chain inet e2edns input { type filter hook input priority 0 ; }")
	if !strings.Contains(nft("list chain inet e2edns input"), "counter name") {
		nft("add rule inet e2edns input udp dport 53 counter name queries")
		nft("add rule inet e2edns input tcp dport 53 counter name queries")
	}
	m := regexp.MustCompile(`packets (\d+)`).FindStringSubmatch(nft("reset counter inet e2edns queries"))
	require.NotNil(t, m, "no counter in %s", ns)
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestDHCPFixedIPMoves: a port with a fixed IP, deleted and re-created on
// another host with the same IP, gets that IP there by DHCP.
func TestDHCPFixedIPMoves(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	project := "dhcpagent-mv"
	n, _ := makeNetwork(t, ctx, netSpec{Name: "dhcpagent-mv-net", Project: project, Type: api.NetworkTypeVXLAN, CIDR: "10.44.0.0/24"})
	dhcpPort(t, ctx, n, 1)
	l := sharedLab(t)
	vm := createDHCPVM(t, ctx, vmSpec{Name: "dhcpagent-mv1", Network: n, Host: 2, IP: "10.44.0.77", Project: project})
	require.Equal(t, "10.44.0.77/24", vm.IP.String())
	require.NoError(t, l.DeleteVM(ctx, vm.Name))
	vm = createDHCPVM(t, ctx, vmSpec{Name: "dhcpagent-mv1", Network: n, Host: 3, IP: "10.44.0.77", Project: project})
	require.Equal(t, "host3", vm.Host)
	require.Equal(t, "10.44.0.77/24", vm.IP.String(), "same fixed IP by DHCP on the new host")
}

// dnsmasqPid is the pid of the dnsmasq serving network id on host1.
func dnsmasqPid(t *testing.T, id string) int {
	t.Helper()
	h, err := sharedLab(t).HostInfo(1)
	require.NoError(t, err)
	b, _ := os.ReadFile(filepath.Join(h.Dir, "dhcp", id, "pid"))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid // 0 while being restarted
}

var renewRE = regexp.MustCompile(`(?m)^(\S+) (RENEW|REBIND) ip=(\S+)`)

// TestDHCPRenewalsSurvive: killing dnsmasq (it is restarted within a
// second) and restarting the DHCP host's agent (it adopts the running
// dnsmasq: same pid) do not stop renewals: the VM's next renewal, at half
// its 2 min lease, is acknowledged with the same address.
func TestDHCPRenewalsSurvive(t *testing.T) {
	ctx := testCtx(t, 3*time.Minute)
	project := "dhcpagent-rn"
	n, _ := makeNetwork(t, ctx, netSpec{Name: "dhcpagent-rn-net", Project: project, Type: api.NetworkTypeVXLAN, CIDR: "10.45.0.0/24"})
	dhcpPort(t, ctx, n, 1)
	l := sharedLab(t)
	vm := createDHCPVM(t, ctx, vmSpec{Name: "dhcpagent-rn1", Network: n, Host: 2, Project: project})
	bound := time.Now()

	pid := dnsmasqPid(t, n.ID)
	require.NoError(t, killPid(pid))
	killed := time.Now()
	require.Eventually(t, func() bool {
		p := dnsmasqPid(t, n.ID)
		return p != pid && pidAlive(p)
	}, 5*time.Second, 20*time.Millisecond, "dnsmasq restarted after being killed")
	t.Logf("FIGURE: killed dnsmasq replaced in %v", time.Since(killed).Round(time.Millisecond))
	pid = dnsmasqPid(t, n.ID)

	require.NoError(t, l.RestartAgent(ctx, 1))
	// The restarted agent has reconciled once it reports itself; give it a
	// resync's worth of debounce and check it kept the running dnsmasq.
	time.Sleep(2 * time.Second)
	require.Equal(t, pid, dnsmasqPid(t, n.ID), "the restarted agent adopts the running dnsmasq")

	// dhclient renews at T1 = half the lease (60 s) after BOUND.
	var m []string
	require.Eventually(t, func() bool {
		log, _ := l.DHCPLog(vm.Name)
		m = renewRE.FindStringSubmatch(log)
		return m != nil
	}, time.Until(bound.Add(80*time.Second)), 500*time.Millisecond, "no renewal within 80 s of the lease")
	require.Equal(t, vm.IP.Addr().String(), m[3], "renewed the same address")
	t.Logf("FIGURE: lease renewed (%s) %v after BOUND", m[2], time.Since(bound).Round(time.Second))
	waitPing(t, ctx, vm.Name, "10.45.0.2", 5*time.Second)
}

func killPid(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func pidAlive(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return pid > 0 && err == nil
}

// dhcpNetwork makes a VXLAN network with one subnet as sreq says, and a
// DHCP port for it on host1.
func dhcpNetwork(t *testing.T, ctx context.Context, name, project string, sreq client.SubnetCreate) api.Network {
	t.Helper()
	c := adminClient(t)
	pid, err := c.ProjectID(ctx, project)
	require.NoError(t, err)
	n, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: name, ProjectID: pid, NetworkType: api.NetworkTypeVXLAN})
	require.NoError(t, err)
	t.Cleanup(func() { deleteQuietly(t, "network "+n.ID, c.DeleteNetwork(context.Background(), n.ID)) })
	sreq.Name, sreq.ProjectID, sreq.NetworkID, sreq.IPVersion = name+"-sub", pid, n.ID, 4
	sub, err := c.CreateSubnet(ctx, sreq)
	require.NoError(t, err)
	t.Cleanup(func() { deleteQuietly(t, "subnet "+sub.ID, c.DeleteSubnet(context.Background(), sub.ID)) })
	n, err = c.GetNetwork(ctx, n.ID)
	require.NoError(t, err)
	dhcpPort(t, ctx, n, 1)
	return n
}

// TestDHCPSubnetOptions: host routes arrive as classless static routes
// (option 121, with the default route), the DNS server is the DHCP port
// even with dns_nameservers (which is where it forwards other names), and
// a subnet without gateway gives no default route; a subnet with DHCP off
// gets no namespace.
func TestDHCPSubnetOptions(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	project := "dhcpagent-op"
	n := dhcpNetwork(t, ctx, "dhcpagent-op-routes", project, client.SubnetCreate{CIDR: "10.47.0.0/24",
		DNSNameservers: []string{"192.0.2.53"},
		HostRoutes:     []api.HostRoute{{Destination: "172.16.0.0/12", NextHop: "10.47.0.254"}}})
	vm := createDHCPVM(t, ctx, vmSpec{Name: "dhcpagent-op1", Network: n, Host: 2, Project: project})
	routes := vmExec(t, ctx, vm.Name, "ip", "-4", "route")
	require.Contains(t, routes, "172.16.0.0/12 via 10.47.0.254 dev eth0")
	require.Contains(t, routes, "default via 10.47.0.1 dev eth0")
	resolv := vmExec(t, ctx, vm.Name, "cat", "/etc/resolv.conf")
	require.Contains(t, resolv, "nameserver 10.47.0.2")
	require.NotContains(t, resolv, "192.0.2.53")

	n2 := dhcpNetwork(t, ctx, "dhcpagent-op-nogw", project, client.SubnetCreate{CIDR: "10.48.0.0/24", NoGateway: true})
	vm2 := createDHCPVM(t, ctx, vmSpec{Name: "dhcpagent-op2", Network: n2, Host: 3, Project: project})
	require.True(t, strings.HasPrefix(vm2.IP.String(), "10.48.0."), "%s", vm2.IP)
	require.NotContains(t, vmExec(t, ctx, vm2.Name, "ip", "-4", "route"), "default", "no gateway: no default route")

	off := false
	c := adminClient(t)
	pid, err := c.ProjectID(ctx, project)
	require.NoError(t, err)
	n3, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: "dhcpagent-op-off", ProjectID: pid, NetworkType: api.NetworkTypeVXLAN})
	require.NoError(t, err)
	t.Cleanup(func() { deleteQuietly(t, "network "+n3.ID, c.DeleteNetwork(context.Background(), n3.ID)) })
	s3, err := c.CreateSubnet(ctx, client.SubnetCreate{Name: "off", ProjectID: pid, NetworkID: n3.ID, IPVersion: 4,
		CIDR: "10.49.0.0/24", EnableDHCP: &off})
	require.NoError(t, err)
	t.Cleanup(func() { deleteQuietly(t, "subnet "+s3.ID, c.DeleteSubnet(context.Background(), s3.ID)) })
	p3, err := c.CreatePort(ctx, client.PortCreate{ProjectID: pid, NetworkID: n3.ID, DeviceOwner: dhcp.DeviceOwner,
		DeviceID: "dhcphost1-" + n3.ID, BindingHostID: "host1"})
	require.NoError(t, err)
	t.Cleanup(func() { deleteQuietly(t, "port "+p3.ID, c.DeletePort(context.Background(), p3.ID)) })
	time.Sleep(time.Second)
	require.NotContains(t, hostNetns(t, ctx, 1), dhcp.NSPrefix+n3.ID, "DHCP off on every subnet: no namespace")
}
