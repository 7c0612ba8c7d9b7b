package lab_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/lab/labtest"
)

// TestVMPingAcrossHosts is the data-plane check: two VMs of one VXLAN
// network on different hosts ping each other through br-int, br-tun and a
// userspace VXLAN tunnel over the underlay; a VM of another project's
// network with the same addresses is not reached.
func TestVMPingAcrossHosts(t *testing.T) {
	l := labtest.Up(t, lab.Config{Hosts: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := l.Client()
	netA, _ := makeNetwork(t, ctx, c, "neta", "10.1.0.0/24")
	netB, _ := makeNetwork(t, ctx, c, "netb", "10.1.0.0/24")
	require.Equal(t, 1450, netA.MTU, "VXLAN network MTU")

	for _, s := range []lab.VMSpec{
		{Name: "a1", Network: netA.ID, Host: "host1", IP: "10.1.0.11"},
		{Name: "a2", Network: netA.ID, Host: "host2", IP: "10.1.0.12"},
		{Name: "b2", Network: netB.ID, Host: "host2", IP: "10.1.0.13"},
	} {
		_, err := l.CreateVM(ctx, s)
		require.NoError(t, err)
	}
	// The agents need a moment to program the new ports.
	require.Eventually(t, func() bool {
		_, err := l.Exec(ctx, "a1", "ping", "-c1", "-W1", "10.1.0.12")
		return err == nil
	}, 30*time.Second, 500*time.Millisecond, "a1 (host1) -> a2 (host2) over VXLAN")
	out, err := l.Exec(ctx, "a2", "ping", "-c3", "-i0.2", "-W2", "10.1.0.11")
	require.NoError(t, err, string(out))
	// Isolation: b2 (other network, same subnet) is not reachable from a1.
	_, err = l.Exec(ctx, "a1", "ping", "-c2", "-i0.2", "-W1", "10.1.0.13")
	require.Error(t, err, "a1 reached b2 on another network")
}

// TestHostControls exercises what e2e tests use to disturb a host: kill and
// start its agent, restart it, restart its ovs-vswitchd; the data path comes
// back each time.
func TestHostControls(t *testing.T) {
	l := labtest.Up(t, lab.Config{Hosts: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	net, _ := makeNetwork(t, ctx, l.Client(), "net1", "10.2.0.0/24")
	for _, s := range []lab.VMSpec{{Name: "v1", Network: net.ID, Host: "host1"}, {Name: "v2", Network: net.ID, Host: "host2"}} {
		_, err := l.CreateVM(ctx, s)
		require.NoError(t, err)
	}
	v2, err := l.VM("v2")
	require.NoError(t, err)
	// Without an IP a VM gets its address by DHCP (host1 holds the dhcp role).
	require.True(t, v2.DHCP, "v2 is addressed by its DHCP client")
	require.True(t, v2.IP.IsValid(), "v2 has a lease")
	pings := func(msg string) {
		t.Helper()
		require.Eventually(t, func() bool {
			_, err := l.Exec(ctx, "v1", "ping", "-c1", "-W1", v2.IP.Addr().String())
			return err == nil
		}, 30*time.Second, 300*time.Millisecond, msg)
	}
	pings("initial")

	old := l.AgentPid(2)
	require.NotZero(t, old)
	require.NoError(t, l.KillAgent(2))
	require.Zero(t, l.AgentPid(2))
	require.NoError(t, l.StartAgent(2))
	require.NoError(t, l.WaitAgents(ctx))
	require.NotEqual(t, old, l.AgentPid(2))
	pings("after agent kill + start")

	require.NoError(t, l.RestartAgent(ctx, 1))
	pings("after agent restart")

	require.NoError(t, l.RestartVswitchd(ctx, 2))
	pings("after ovs-vswitchd restart")
}

// TestExternalNetwork builds a lab with the external network and checks
// its plumbing, then that a VM on the flat external network reaches the
// gateway and the internet host through host1's br-ex.
func TestExternalNetwork(t *testing.T) {
	l := labtest.Up(t, lab.Config{Hosts: 2, External: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ports, err := l.HostExec(ctx, 1, "ovs-vsctl", "list-ports", "br-ex")
	require.NoError(t, err)
	require.Contains(t, strings.Fields(string(ports)), "eth2")
	agents, err := l.Client().ListAgents(ctx, nil)
	require.NoError(t, err)
	var mapped bool
	for _, a := range agents {
		if a.Host == "host1" && a.AgentType == api.AgentTypeOVS {
			mapped = a.Configurations.BridgeMappings["public"] == "br-ex"
		}
	}
	require.True(t, mapped, "host1 agent reports bridge mapping public:br-ex: %+v", agents)

	c := l.Client()
	ext, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: "public", NetworkType: "flat", PhysicalNetwork: "public"})
	require.NoError(t, err)
	gw := lab.ExternalGateway.String()
	_, err = c.CreateSubnet(ctx, client.SubnetCreate{NetworkID: ext.ID, IPVersion: 4, CIDR: lab.ExternalCIDR.String(), GatewayIP: &gw})
	require.NoError(t, err)
	_, err = l.CreateVM(ctx, lab.VMSpec{Name: "e1", Network: ext.ID, Host: "host1", IP: "203.0.113.50"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := l.Exec(ctx, "e1", "ping", "-c1", "-W1", gw)
		return err == nil
	}, 30*time.Second, 500*time.Millisecond, "VM on the flat external network reaches the gateway")
	out, err := l.Exec(ctx, "e1", "ping", "-c1", "-W2", lab.InternetIP.String())
	require.NoError(t, err, string(out))
	// The VM's default security group admits only its own members (as in
	// Neutron): let the outside world ping in.
	vm, err := l.VM("e1")
	require.NoError(t, err)
	port, err := c.GetPort(ctx, vm.PortID)
	require.NoError(t, err)
	require.Len(t, port.SecurityGroups, 1)
	_, err = c.CreateSecurityGroupRule(ctx, client.SecurityGroupRuleCreate{SecurityGroupID: port.SecurityGroups[0],
		Direction: "ingress", Protocol: "icmp"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := l.ExternalExec(ctx, "ping", "-c1", "-W1", "203.0.113.50")
		return err == nil
	}, 10*time.Second, 200*time.Millisecond, "the outside reaches the VM once its group admits ICMP")
	out, err = l.ExternalExec(ctx, "ping", "-c1", "-W2", "203.0.113.50")
	require.NoError(t, err, string(out))
}
