package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
)

// TestNDResponder checks the IPv6 counterpart of the ARP responder (issue
// 11): a VM's first ping6 to a peer on another host resolves it in br-tun
// table 21, so no neighbour solicitation crosses the fabric; the VM's
// kernel accepts the advertisement built by flow actions (tcpdump -vv in
// the VM: checksum ok; the peer's MAC in its neighbour table) and the ping
// works. Unknown addresses and duplicate address detection still flood,
// and a DAD for the peer's address reaches the peer, which defends it.
// The lab has no DHCPv6: each VM's IPv6 fixed IP is set on its NIC, as
// its IPv4 one is.
func TestNDResponder(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	l := sharedLab(t)
	n, _ := makeNetwork(t, ctx, netSpec{Name: "nd-net", Project: "admin", Type: api.NetworkTypeVXLAN, CIDR: "10.67.0.0/24"})
	addIPv6Subnet(t, ctx, n, "fd00:67::/64")
	vms := createVMs(t, ctx,
		vmSpec{Name: "nd-a", Network: n, Host: 1, Project: "admin"},
		vmSpec{Name: "nd-b", Network: n, Host: 2, Project: "admin"})
	a, b := vms[0], vms[1]
	a6, b6 := setIPv6(t, ctx, a), setIPv6(t, ctx, b)
	vni := *n.SegmentationID

	// Before any traffic, each host answers for the other VM's address.
	waitNDFlow(t, ctx, 1, b, b6)
	waitNDFlow(t, ctx, 2, a, a6)

	// The first ping6: caches empty, capture every host's cable and what
	// VM a receives.
	for _, vm := range []*lab.VM{a, b} {
		vmExec(t, ctx, vm.Name, "ip", "-6", "neigh", "flush", "dev", "eth0")
	}
	nd1 := flowPackets(t, ctx, 1, "table=21", "nd_target="+b6)
	nd2 := flowPackets(t, ctx, 2, "table=21", "nd_target="+a6)
	adverts := startVMCapture(t, ctx, a.Name, "icmp6 and ip6[40] == 136")
	caps := startFabricCaptures(t, ctx, l)
	require.True(t, pingOnce(ctx, l, a.Name, b6), "first ping6 %s -> %s", a.Name, b6)
	got := stopFabricCaptures(t, caps)
	na := adverts()
	t.Logf("advertisements VM %s received:\n%s", a.Name, na)
	for host := 1; host <= 3; host++ {
		ns := got[host].count(vni, solicits(a6, b6))
		t.Logf("FIGURE: first ping6: host%d cable carried %d VXLAN frames of vni %d: %d neighbour solicitations for a or b (others: %v)",
			host, got[host].count(vni, anyFrame), vni, ns, solicitations(got[host], vni))
		require.Zero(t, ns, "host%d: a neighbour solicitation for a or b crossed the fabric on the first ping6", host)
	}
	require.NotZero(t, got[2].count(vni, isIPv6), "the echo request must cross the fabric to host2 (capture works)")
	require.Greater(t, flowPackets(t, ctx, 1, "table=21", "nd_target="+b6), nd1, "host1 answered a's solicitation for b")
	require.Greater(t, flowPackets(t, ctx, 2, "table=21", "nd_target="+a6), nd2, "host2 answered b's solicitation for a")
	// What the VM received: an advertisement for b, with a valid checksum,
	// the solicited and override flags and b's MAC as target link-layer
	// address; its kernel took it (b's MAC in a's neighbour table).
	require.Contains(t, na, "> "+a6+": [icmp6 sum ok] ICMP6, neighbor advertisement, length 32, tgt is "+b6+", Flags [solicited, override]")
	require.Contains(t, na, "destination link-address option (2), length 8 (1): "+b.MAC)
	neigh := vmExec(t, ctx, a.Name, "ip", "-6", "neigh", "show", b6, "dev", "eth0")
	require.Contains(t, neigh, "lladdr "+b.MAC, "a resolved b6 to b's MAC")
	require.Regexp(t, `REACHABLE|STALE|DELAY|PROBE`, neigh)
	dp := hostExec(t, ctx, 1, "ovs-appctl", "dpctl/dump-flows")
	for _, line := range strings.Split(dp, "\n") {
		if strings.Contains(line, "icmpv6(type=135") && strings.Contains(line, "target="+b6) {
			t.Logf("host1 datapath flow of the solicitation: %s", strings.TrimSpace(line))
		}
	}
	require.Zero(t, pingLoss(t, ctx, a.Name, b6, 3))

	// Solicitations the responder does not answer still flood to the
	// hosts of the network (host2), never elsewhere (host3): one for an
	// unknown address, and a's duplicate address detection for b's
	// address, which b defends (a's copy goes dadfailed).
	caps = startFabricCaptures(t, ctx, l)
	_, _ = l.Exec(ctx, a.Name, "ping", "-c", "1", "-W", "1", "fd00:67::fe")
	vmExec(t, ctx, a.Name, "ip", "-6", "addr", "add", b6+"/128", "dev", "eth0")
	waitDADFailed(t, ctx, a.Name, b6)
	got = stopFabricCaptures(t, caps)
	unknown, dad := got[2].count(vni, solicits("fd00:67::fe")), got[2].count(vni, solicits(b6))
	t.Logf("FIGURE: unanswered solicitations of vni %d: host2 received %d for the unknown address, %d DAD for b's; host3 %d frames", vni, unknown, dad, got[3].count(vni, anyFrame))
	require.NotZero(t, unknown, "the unknown address's solicitation is flooded to host2")
	require.NotZero(t, dad, "the DAD for b's address is flooded to host2")
	require.Zero(t, got[3].count(vni, anyFrame), "host3 has no port on the network and must receive none of its traffic")
}

// addIPv6Subnet adds an IPv6 subnet (no DHCP, no gateway) to network n,
// deleted at the end of the test (before n).
func addIPv6Subnet(t *testing.T, ctx context.Context, n api.Network, cidr string) {
	t.Helper()
	c := adminClient(t)
	off := false
	sub, err := c.CreateSubnet(ctx, client.SubnetCreate{Name: n.Name + "-v6", ProjectID: n.ProjectID, NetworkID: n.ID,
		IPVersion: 6, CIDR: cidr, EnableDHCP: &off, NoGateway: true})
	require.NoError(t, err, "create IPv6 subnet of %s", n.Name)
	t.Cleanup(func() { deleteQuietly(t, "subnet "+sub.ID, c.DeleteSubnet(context.Background(), sub.ID)) })
}

// setIPv6 sets the IPv6 fixed IP of vm's port on its NIC (without DAD, as
// a statically configured guest may) and returns it.
func setIPv6(t *testing.T, ctx context.Context, vm *lab.VM) string {
	t.Helper()
	p, err := adminClient(t).GetPort(ctx, vm.PortID)
	require.NoError(t, err)
	for _, f := range p.FixedIPs {
		if a, err := netip.ParseAddr(f.IPAddress); err == nil && a.Is6() {
			vmExec(t, ctx, vm.Name, "ip", "-6", "addr", "add", a.String()+"/64", "dev", "eth0", "nodad")
			return a.String()
		}
	}
	t.Fatalf("port of %s has no IPv6 fixed IP: %+v", vm.Name, p.FixedIPs)
	return ""
}

// waitNDFlow waits (up to 5 s) until host's br-tun table 21 answers
// solicitations for ip with peer's MAC.
func waitNDFlow(t *testing.T, ctx context.Context, host int, peer *lab.VM, ip string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		fs := dumpFlows(t, ctx, host, "br-tun")
		nd := withText(fs, 21, "icmp_type=135", "nd_target="+ip, "mod_dl_src:"+peer.MAC, "resubmit(,21)")
		if len(nd) == 1 {
			require.Equal(t, uint16(vlandComponent), cookieComponent(nd[0].Cookie))
			t.Logf("host%d br-tun:\n%s", host, flowLines(append(nd, withText(fs, 21, "icmp_type=136")...)))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("host%d: no ND responder flow for %s (%s) within 5s:\n%s", host, ip, peer.MAC, flowLines(fs))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitDADFailed waits (up to 10 s) until vm's kernel marks ip dadfailed.
func waitDADFailed(t *testing.T, ctx context.Context, vm, ip string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := vmExec(t, ctx, vm, "ip", "-6", "addr", "show", "dev", "eth0")
		if strings.Contains(out, ip+"/128") && strings.Contains(out, "dadfailed") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: DAD for %s did not fail within 10s (its owner never answered):\n%s", vm, ip, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startVMCapture runs tcpdump -vv with filter inside vm until the returned
// function is called, which returns what it printed.
func startVMCapture(t *testing.T, ctx context.Context, vm, filter string) func() string {
	t.Helper()
	cmd, err := sharedLab(t).Command(ctx, vm, "tcpdump", "-i", "eth0", "-nn", "-vv", "-l", "--immediate-mode", filter)
	require.NoError(t, err)
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				close(listening)
			}
		}
	}()
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		t.Fatalf("tcpdump in %s did not start", vm)
	}
	return func() string {
		time.Sleep(200 * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
		return out.String()
	}
}

func isIPv6(f vxlanFrame) bool { return f.EtherType == 0x86dd }

// isSolicitedNode: a frame to a solicited-node multicast MAC
// (33:33:ff:XX:XX:XX) is a neighbour solicitation (address resolution or
// duplicate address detection, e.g. of a VM's link-local address).
func isSolicitedNode(f vxlanFrame) bool {
	return f.EtherType == 0x86dd && bytes.HasPrefix(f.Dst, []byte{0x33, 0x33, 0xff})
}

// solicitations describes the neighbour solicitations among fs, as
// "source->target" (a VM's own duplicate address detection is from ::).
func solicitations(fs vxlanFrames, vni int) []string {
	var out []string
	for _, f := range fs {
		b := f.Inner
		if f.VNI != vni || !isSolicitedNode(f) || len(b) < 14+40+24 || b[14+6] != 58 || b[14+40] != 135 {
			continue
		}
		src, _ := netip.AddrFromSlice(b[14+8 : 14+24])
		target, _ := netip.AddrFromSlice(b[14+40+8 : 14+40+24])
		out = append(out, src.String()+"->"+target.String())
	}
	return out
}

// solicits matches neighbour solicitations (untagged IPv6, no extension
// header: what Linux sends) whose target is one of targets.
func solicits(targets ...string) func(vxlanFrame) bool {
	return func(f vxlanFrame) bool {
		const ip6, icmp = 14, 14 + 40
		b := f.Inner
		if f.EtherType != 0x86dd || len(b) < icmp+24 || b[ip6+6] != 58 || b[icmp] != 135 {
			return false
		}
		target, _ := netip.AddrFromSlice(b[icmp+8 : icmp+24])
		for _, t := range targets {
			if target.String() == t {
				return true
			}
		}
		return false
	}
}
