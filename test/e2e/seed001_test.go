package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/lab"
)

// TestSeed001 is seed 001: admin creates a VXLAN network with segment 111
// and a subnet with an allocation pool; two VMs on two hosts get addresses
// from the pool and MTU 1450, and ping each other; br-tun maps tun_id 0x6f
// to each host's local VLAN and learns the way back to the peer's MAC. As
// in seed 002, the network has different local VLANs on the two hosts.
func TestSeed001(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)

	// Another network first, with a VM on host1 only: host1 has a local
	// VLAN in use when vxlan_net arrives, host2 has none, so vxlan_net's
	// lowest free tag differs between them.
	other, _ := makeNetwork(t, ctx, netSpec{Name: "s1-other", Project: "admin", Type: api.NetworkTypeVXLAN, CIDR: "10.11.0.0/24"})
	occupant := createVMs(t, ctx, vmSpec{Name: "s1-occupant", Network: other, Host: 1, Project: "admin"})[0]

	pool := api.AllocationPool{Start: "172.16.166.100", End: "172.16.166.200"}
	n, sub := makeNetwork(t, ctx, netSpec{Name: "vxlan_net", Project: "admin", Type: api.NetworkTypeVXLAN,
		Segment: 111, CIDR: "172.16.166.0/24", Pool: &pool})
	require.Equal(t, 111, *n.SegmentationID)
	require.Equal(t, 1450, n.MTU)
	require.Equal(t, []api.AllocationPool{pool}, sub.AllocationPools)

	vms := createVMs(t, ctx,
		vmSpec{Name: "s1-servera", Network: n, Host: 1, Project: "admin"},
		vmSpec{Name: "s1-serverb", Network: n, Host: 2, Project: "admin"})
	a, b := vms[0], vms[1]
	lo, hi := netip.MustParseAddr(pool.Start), netip.MustParseAddr(pool.End)
	for _, vm := range vms {
		ip := vm.IP.Addr()
		require.True(t, ip.Compare(lo) >= 0 && ip.Compare(hi) <= 0, "%s got %s outside the pool", vm.Name, ip)
		require.Equal(t, 24, vm.IP.Bits())
		require.Equal(t, 1450, vmMTU(t, ctx, vm.Name), "MTU inside %s", vm.Name)
	}
	require.NotEqual(t, a.IP, b.IP)

	waitPing(t, ctx, a.Name, b.IP.Addr().String(), 15*time.Second)
	require.Zero(t, pingLoss(t, ctx, a.Name, b.IP.Addr().String(), 3))
	require.Zero(t, pingLoss(t, ctx, b.Name, a.IP.Addr().String(), 3))

	tag1 := portTag(t, ctx, 1, a.Tap)
	tag2 := portTag(t, ctx, 2, b.Tap)
	otherTag := portTag(t, ctx, 1, occupant.Tap)
	t.Logf("local VLAN of vxlan_net: host1 %d, host2 %d (s1-other on host1: %d)", tag1, tag2, otherTag)
	require.NotEqual(t, otherTag, tag1)
	require.NotEqual(t, tag1, tag2, "the same network has different local VLANs on the two hosts")

	requireSeed001Flows(t, ctx, 1, 2, tag1, b)
	requireSeed001Flows(t, ctx, 2, 1, tag2, a)
}

// requireSeed001Flows checks host's br-tun: table 4 maps tun_id 0x6f to
// the host's local VLAN, and table 20 learned the way to the peer VM, out
// of the VXLAN port towards the peer's host.
func requireSeed001Flows(t *testing.T, ctx context.Context, host, peerHost, tag int, peer *lab.VM) {
	t.Helper()
	tun := tunnelPortName(api.NetworkTypeVXLAN, underlayIP(t, peerHost))
	ofport := vsctlGet(t, ctx, host, "Interface", tun, "ofport")
	fs := dumpFlows(t, ctx, host, "br-tun")
	in := withText(fs, 4, "tun_id=0x6f", fmt.Sprintf("actions=mod_vlan_vid:%d,resubmit(,10)", tag))
	require.Len(t, in, 1, "host%d table 4:\n%s", host, flowLines(fs))
	learned := withText(fs, 20, "hard_timeout=300", "dl_dst="+peer.MAC, "load:0x6f->NXM_NX_TUN_ID[]",
		fmt.Sprintf("vlan_tci=0x%04x/0x0fff", tag), tunDstText(underlayIP(t, peerHost)), "output:"+ofport)
	require.Len(t, learned, 1, "host%d learned flow to %s:\n%s", host, peer.MAC, flowLines(fs))
	require.Equal(t, uint16(learnedComponent), cookieComponent(learned[0].Cookie))
	t.Logf("host%d br-tun:\n%s", host, flowLines(append(in, learned...)))
}

// vmMTU reads eth0's MTU inside a VM with `ip -j link show eth0`.
func vmMTU(t *testing.T, ctx context.Context, vm string) int {
	t.Helper()
	out := vmExec(t, ctx, vm, "ip", "-j", "link", "show", "eth0")
	var links []struct {
		MTU int `json:"mtu"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &links), out)
	require.Len(t, links, 1)
	return links[0].MTU
}
