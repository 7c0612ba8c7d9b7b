package lab_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/lab/labtest"
)

// TestDHCPNamespacesPerHostAndDown: a network served by host1 shows its
// qdhcp- namespace in host1's `ip netns` only (not host2's, not the
// root's); a DHCP VM on host2 gets its lease; then a crash (every process
// killed) is cleaned up: dnsmasq, dhclient, namespaces bound in the host
// directories, the VM's /etc/netns entry.
func TestDHCPNamespacesPerHostAndDown(t *testing.T) {
	before := labtest.Snapshot(t)
	l := labtest.Up(t, lab.Config{Hosts: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := l.Client()
	net, _ := makeNetwork(t, ctx, c, "dnet", "10.7.0.0/24")
	// The scheduler puts the network on host1, the only DHCP host.
	var p api.Port
	require.Eventually(t, func() bool {
		ps, err := c.ListPorts(ctx, url.Values{"network_id": {net.ID}, "device_owner": {"network:dhcp"}})
		require.NoError(t, err)
		if len(ps) == 1 && ps[0].BindingHostID == "host1" {
			p = ps[0]
		}
		return p.ID != ""
	}, 10*time.Second, 50*time.Millisecond, "the scheduler's DHCP port on host1")
	qdhcp := "qdhcp-" + net.ID
	require.Eventually(t, func() bool {
		out, _ := l.HostExec(ctx, 1, "ip", "netns")
		return strings.Contains(string(out), qdhcp)
	}, 10*time.Second, 50*time.Millisecond, "host1 `ip netns` shows %s", qdhcp)
	out, err := l.HostExec(ctx, 2, "ip", "netns")
	require.NoError(t, err)
	require.NotContains(t, string(out), qdhcp, "host2 does not serve the network")
	out, _ = exec.Command("ip", "netns").Output()
	require.NotContains(t, string(out), qdhcp, "the root's /run/netns")
	out, err = l.HostExec(ctx, 1, "ip", "netns", "exec", qdhcp, "ip", "-4", "-o", "addr")
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), p.FixedIPs[0].IPAddress+"/24")

	vm, err := l.CreateVM(ctx, lab.VMSpec{Name: "dvm", Network: net.ID, Host: "host2", DHCP: true})
	require.NoError(t, err)
	require.True(t, vm.DHCP)
	require.Equal(t, "10.7.0.1", vm.Gateway.String())
	require.Equal(t, 1450, vm.MTU)
	etc := filepath.Join("/etc/netns", l.Name()+"-vm-dvm")
	_, err = os.Stat(filepath.Join(etc, "resolv.conf"))
	require.NoError(t, err)

	name, dir := l.Name(), l.Dir()
	pids, _ := exec.Command("pgrep", "-f", dir).Output()
	require.NoError(t, exec.Command("kill", append([]string{"-9"}, strings.Fields(string(pids))...)...).Run())
	require.NoError(t, lab.Cleanup(context.Background(), name, dir))
	labtest.RequireClean(t, before, name, dir)
	_, err = os.Stat(etc)
	require.True(t, os.IsNotExist(err), "%s left", etc)
}

// TestDHCPTwoHosts: with --dhcp-agents-per-network=2 the scheduler puts
// the network on both DHCP hosts, each with its own DHCP port, namespace
// (the same qdhcp- name on both, each host seeing its own) and dnsmasq; a
// VM on a third host gets its lease, and both DHCP namespaces reach it.
func TestDHCPTwoHosts(t *testing.T) {
	l := labtest.Up(t, lab.Config{Hosts: 3, DHCPHosts: 2, ServerArgs: []string{"--dhcp-agents-per-network", "2"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := l.Client()
	net, _ := makeNetwork(t, ctx, c, "dnet2", "10.8.0.0/24")
	qdhcp := "qdhcp-" + net.ID
	addrs := map[int]string{}
	require.Eventually(t, func() bool {
		ps, err := c.ListPorts(ctx, url.Values{"network_id": {net.ID}, "device_owner": {"network:dhcp"}})
		require.NoError(t, err)
		clear(addrs)
		for _, p := range ps {
			if p.Status == "ACTIVE" && len(p.FixedIPs) == 1 {
				h, err := l.ParseHost(p.BindingHostID)
				require.NoError(t, err)
				addrs[h] = p.FixedIPs[0].IPAddress
			}
		}
		return len(addrs) == 2
	}, 20*time.Second, 50*time.Millisecond, "an ACTIVE DHCP port on each DHCP host")
	require.Contains(t, addrs, 1)
	require.Contains(t, addrs, 2)
	out, err := l.HostExec(ctx, 3, "ip", "netns")
	require.NoError(t, err)
	require.NotContains(t, string(out), qdhcp)
	vm, err := l.CreateVM(ctx, lab.VMSpec{Name: "dvm2", Network: net.ID, Host: "host3", DHCP: true})
	require.NoError(t, err)
	require.Equal(t, 1450, vm.MTU)
	for host, addr := range addrs {
		out, err := l.HostExec(ctx, host, "ip", "netns", "exec", qdhcp, "ip", "-4", "-o", "addr")
		require.NoError(t, err, "%s", out)
		require.Contains(t, string(out), addr+"/24", "host%d's %s holds its own DHCP port", host, qdhcp)
		// The VM pings its DHCP servers (its default security group admits
		// only replies and its own group's traffic, as Neutron's does).
		out, err = l.Exec(ctx, vm.Name, "ping", "-c1", "-W2", addr)
		require.NoError(t, err, "the VM reaches host%d's DHCP namespace: %s", host, out)
	}
}
