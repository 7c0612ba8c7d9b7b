package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

// TestAntiSpoofing checks br-int's tables 24/25 (seed 001): a VM that takes
// an address it was not given, or changes its MAC, gets nothing through;
// with port security disabled on its port it does. A port's allowed address
// pair lets its VM use that extra address, and only that one.
func TestAntiSpoofing(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	c := adminClient(t)
	n, _ := makeNetwork(t, ctx, netSpec{Name: "spoof-net", Project: "spoof", Type: api.NetworkTypeVXLAN, CIDR: "10.3.0.0/24"})
	vms := createVMs(t, ctx,
		vmSpec{Name: "sp-peer", Network: n, Host: 2, IP: "10.3.0.10", Project: "spoof"},
		vmSpec{Name: "sp-ip", Network: n, Host: 1, IP: "10.3.0.11", Project: "spoof"},
		vmSpec{Name: "sp-mac", Network: n, Host: 1, IP: "10.3.0.12", Project: "spoof"},
		vmSpec{Name: "sp-pair", Network: n, Host: 1, IP: "10.3.0.13", Project: "spoof"})
	peer, spIP, spMAC, spPair := vms[0], vms[1], vms[2], vms[3]
	unfiltered(t, ctx, peer) // what reaches the peer is decided at the senders' ports
	const peerIP = "10.3.0.10"
	for _, vm := range vms[1:] {
		waitPing(t, ctx, vm.Name, peerIP, 15*time.Second)
	}

	// An address nobody was given: its ARP (arp_spa 10.3.0.50) is dropped.
	vmExec(t, ctx, spIP.Name, "ip", "addr", "flush", "dev", "eth0")
	vmExec(t, ctx, spIP.Name, "ip", "addr", "add", "10.3.0.50/24", "dev", "eth0")
	// Another VM's MAC address: every frame is dropped.
	vmExec(t, ctx, spMAC.Name, "ip", "link", "set", "eth0", "address", "fa:16:3e:00:0e:99")
	vmExec(t, ctx, spMAC.Name, "ip", "neigh", "flush", "dev", "eth0")
	require.Equal(t, 100, pingLoss(t, ctx, spIP.Name, peerIP, 3), "spoofed IP got through")
	require.Equal(t, 100, pingLoss(t, ctx, spMAC.Name, peerIP, 3), "spoofed MAC got through")

	off, none := false, []string{}
	for _, vm := range []string{spIP.PortID, spMAC.PortID} {
		p, err := c.UpdatePort(ctx, vm, client.PortUpdate{PortSecurityEnabled: &off, SecurityGroups: &none})
		require.NoError(t, err)
		require.False(t, p.PortSecurityEnabled)
	}
	t.Logf("FIGURE: port security off -> spoofed IP passes in %v", waitPing(t, ctx, spIP.Name, peerIP, 10*time.Second))
	t.Logf("FIGURE: port security off -> spoofed MAC passes in %v", waitPing(t, ctx, spMAC.Name, peerIP, 10*time.Second))

	testAllowedPair(t, ctx, c, spPair.Name, spPair.PortID, peer.Name, peerIP)
}

// testAllowedPair: an extra address is dropped until it is an allowed pair
// of the VM's port; other extra addresses stay dropped.
func testAllowedPair(t *testing.T, ctx context.Context, c *client.Client, vm, portID, peer, peerIP string) {
	vmExec(t, ctx, vm, "ip", "addr", "add", "10.3.0.100/24", "dev", "eth0")
	vmExec(t, ctx, vm, "ip", "addr", "add", "10.3.0.101/24", "dev", "eth0")
	flush := func() {
		vmExec(t, ctx, vm, "ip", "neigh", "flush", "dev", "eth0")
		vmExec(t, ctx, peer, "ip", "neigh", "flush", "dev", "eth0")
	}
	flush()
	require.Equal(t, 100, pingLoss(t, ctx, vm, peerIP, 3, "-I", "10.3.0.100"), "extra address got through without a pair")

	pairs := []api.AddressPair{{IPAddress: "10.3.0.100"}}
	p, err := c.UpdatePort(ctx, portID, client.PortUpdate{AllowedAddressPairs: &pairs})
	require.NoError(t, err)
	require.Len(t, p.AllowedAddressPairs, 1)
	require.Equal(t, p.MACAddress, p.AllowedAddressPairs[0].MACAddress)
	flush()
	t.Logf("FIGURE: allowed address pair usable in %v", waitPing(t, ctx, vm, peerIP, 10*time.Second, "-I", "10.3.0.100"))
	require.Zero(t, pingLoss(t, ctx, vm, peerIP, 3, "-I", "10.3.0.100"))
	require.Zero(t, pingLoss(t, ctx, vm, peerIP, 3), "the fixed IP still works")
	flush()
	require.Equal(t, 100, pingLoss(t, ctx, vm, peerIP, 3, "-I", "10.3.0.101"), "an address outside the pair got through")
}
