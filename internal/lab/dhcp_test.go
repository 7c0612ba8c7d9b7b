package lab_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/client"
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
	p, err := c.CreatePort(ctx, client.PortCreate{NetworkID: net.ID, DeviceOwner: "network:dhcp",
		DeviceID: "dhcphost1-" + net.ID, BindingHostID: "host1"})
	require.NoError(t, err)
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

// TestDHCPTwoHosts: two DHCP hosts serve the same network, each with its
// own DHCP port, namespace (the same qdhcp- name on both, each host seeing
// its own) and dnsmasq; a VM on a third host gets its lease, and both
// DHCP namespaces reach it.
func TestDHCPTwoHosts(t *testing.T) {
	l := labtest.Up(t, lab.Config{Hosts: 3, DHCPHosts: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := l.Client()
	net, _ := makeNetwork(t, ctx, c, "dnet2", "10.8.0.0/24")
	qdhcp := "qdhcp-" + net.ID
	addrs := map[int]string{}
	for _, host := range []int{1, 2} {
		p, err := c.CreatePort(ctx, client.PortCreate{NetworkID: net.ID, DeviceOwner: "network:dhcp",
			DeviceID: fmt.Sprintf("dhcphost%d-%s", host, net.ID), BindingHostID: fmt.Sprintf("host%d", host)})
		require.NoError(t, err)
		addrs[host] = p.FixedIPs[0].IPAddress
		_, err = c.WaitPortStatus(ctx, p.ID, "ACTIVE", 20*time.Millisecond)
		require.NoError(t, err)
	}
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
		out, err = l.HostExec(ctx, host, "ip", "netns", "exec", qdhcp, "ping", "-c1", "-W2", vm.IP.Addr().String())
		require.NoError(t, err, "host%d's DHCP namespace reaches the VM: %s", host, out)
	}
}
