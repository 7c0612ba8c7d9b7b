package e2e_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
)

// TestL2Population checks l2population and the ARP responder on the
// underlay (issue 11): br-tun table 20 holds the remote VM before any
// traffic; a VM's first ping to a peer on another host resolves it locally
// (table 21) and sends no ARP and no unknown unicast across the fabric; a
// host with no port on the network receives none of its broadcasts although
// it has a tunnel from the sender's host (for another network).
func TestL2Population(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	l := sharedLab(t)

	n, _ := makeNetwork(t, ctx, netSpec{Name: "l2pop-net", Project: "admin", Type: api.NetworkTypeVXLAN, CIDR: "10.61.0.0/24"})
	other, _ := makeNetwork(t, ctx, netSpec{Name: "l2pop-other", Project: "admin", Type: api.NetworkTypeVXLAN, CIDR: "10.62.0.0/24"})
	vms := createVMs(t, ctx,
		vmSpec{Name: "l2p-a", Network: n, Host: 1, Project: "admin"},
		vmSpec{Name: "l2p-b", Network: n, Host: 2, Project: "admin"},
		// host1 and host3 share only "other": host1 has a tunnel to host3.
		vmSpec{Name: "l2p-c", Network: other, Host: 1, Project: "admin"},
		vmSpec{Name: "l2p-d", Network: other, Host: 3, Project: "admin"})
	a, b := vms[0], vms[1]
	vni := *n.SegmentationID

	// Before any traffic between them, each host has the other VM in table
	// 20 (priority 2, vland's cookie) and its IP in table 21.
	start := time.Now()
	waitL2popFlows(t, ctx, 1, 2, b, vni)
	waitL2popFlows(t, ctx, 2, 1, a, vni)
	t.Logf("FIGURE: l2pop flows on both hosts %v after both ports were ACTIVE", time.Since(start).Round(time.Millisecond))
	tun13 := tunnelPortName(api.NetworkTypeVXLAN, underlayIP(t, 3))
	require.NotEmpty(t, vsctlGet(t, ctx, 1, "Interface", tun13, "ofport"), "host1 needs a tunnel to host3 for the flooding check to mean anything")
	// Before any traffic too, each host's ovs-vswitchd knows the other's
	// underlay MAC: the agent primes it (without, the first packet is lost).
	start = time.Now()
	waitTunnelNeigh(t, ctx, 1, 2)
	waitTunnelNeigh(t, ctx, 2, 1)
	t.Logf("FIGURE: tunnel neighbours known on both hosts %v after the l2pop flows", time.Since(start).Round(time.Millisecond))

	// The first ping: caches empty, capture every host's cable.
	for _, vm := range []*lab.VM{a, b} {
		vmExec(t, ctx, vm.Name, "ip", "neigh", "flush", "dev", "eth0")
	}
	miss1 := flowPackets(t, ctx, 1, "table=20", "priority=0")
	miss2 := flowPackets(t, ctx, 2, "table=20", "priority=0")
	arp1 := flowPackets(t, ctx, 1, "table=21", "arp_tpa="+b.IP.Addr().String())
	arp2 := flowPackets(t, ctx, 2, "table=21", "arp_tpa="+a.IP.Addr().String())
	caps := startFabricCaptures(t, ctx, l)
	require.True(t, pingOnce(ctx, l, a.Name, b.IP.Addr().String()), "first ping %s -> %s", a.Name, b.IP.Addr())
	got := stopFabricCaptures(t, caps)
	for host := 1; host <= 3; host++ {
		arps, bcast := got[host].count(vni, isARP), got[host].count(vni, isBroadcast)
		t.Logf("FIGURE: first ping: host%d cable carried %d VXLAN frames of vni %d: %d ARP, %d broadcast", host, got[host].count(vni, anyFrame), vni, arps, bcast)
		require.Zero(t, arps, "host%d: ARP crossed the fabric on the first ping", host)
		require.Zero(t, bcast, "host%d: broadcast crossed the fabric on the first ping", host)
	}
	require.NotZero(t, got[2].count(vni, anyFrame), "the echo request must cross the fabric to host2 (capture works)")
	require.Equal(t, miss1, flowPackets(t, ctx, 1, "table=20", "priority=0"), "host1 flooded unknown unicast")
	require.Equal(t, miss2, flowPackets(t, ctx, 2, "table=20", "priority=0"), "host2 flooded unknown unicast")
	require.Greater(t, flowPackets(t, ctx, 1, "table=21", "arp_tpa="+b.IP.Addr().String()), arp1, "host1 answered a's ARP for b")
	require.Greater(t, flowPackets(t, ctx, 2, "table=21", "arp_tpa="+a.IP.Addr().String()), arp2, "host2 answered b's ARP for a")
	require.Contains(t, vmExec(t, ctx, a.Name, "ip", "neigh", "show", b.IP.Addr().String()), b.MAC, "a resolved b to b's MAC")

	// Broadcasts of the network (ARP for an unknown address, a broadcast
	// ping) reach host2, which has a port on it, and never host3.
	caps = startFabricCaptures(t, ctx, l)
	_, _ = l.Exec(ctx, a.Name, "ping", "-c", "2", "-i", "0.2", "-W", "1", "10.61.0.250")
	_, _ = l.Exec(ctx, a.Name, "ping", "-b", "-c", "2", "-i", "0.2", "-W", "1", "10.61.0.255")
	got = stopFabricCaptures(t, caps)
	t.Logf("FIGURE: broadcasts of vni %d: host2 received %d, host3 %d", vni, got[2].count(vni, isBroadcast), got[3].count(vni, anyFrame))
	require.NotZero(t, got[2].count(vni, isARP), "the unknown address's ARP is flooded to host2")
	require.NotZero(t, got[2].count(vni, isBroadcast), "broadcasts reach host2")
	require.Zero(t, got[3].count(vni, anyFrame), "host3 has no port on the network and must receive none of its traffic")
}

// waitL2popFlows waits (up to 5 s) until host's br-tun has l2population's
// flows for peer: its MAC to the tunnel towards peerHost with the
// network's VNI in table 20, its IP in table 21.
func waitL2popFlows(t *testing.T, ctx context.Context, host, peerHost int, peer *lab.VM, vni int) {
	t.Helper()
	ofport := vsctlGet(t, ctx, host, "Interface", tunnelPortName(api.NetworkTypeVXLAN, underlayIP(t, peerHost)), "ofport")
	deadline := time.Now().Add(5 * time.Second)
	for {
		fs := dumpFlows(t, ctx, host, "br-tun")
		uc := withText(fs, 20, "priority=2,", "dl_dst="+peer.MAC, fmt.Sprintf("load:%#x->NXM_NX_TUN_ID[]", vni),
			tunDstText(underlayIP(t, peerHost)), "output:"+ofport)
		arp := withText(fs, 21, "arp_tpa="+peer.IP.Addr().String(), "mod_dl_src:"+peer.MAC, "load:0x2->NXM_OF_ARP_OP[]", "IN_PORT")
		if len(uc) == 1 && len(arp) == 1 {
			require.Equal(t, uint16(vlandComponent), cookieComponent(uc[0].Cookie))
			t.Logf("host%d br-tun:\n%s", host, flowLines(append(uc, arp...)))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("host%d: no l2population flows for %s (%s) within 5s:\n%s", host, peer.Name, peer.MAC, flowLines(fs))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitTunnelNeigh waits (up to 5 s) until host's ovs-vswitchd has
// peerHost's underlay address in its tunnel neighbour cache. The lab's
// userspace datapath encapsulates only towards a next hop in that cache: on
// a miss it sends an ARP request and drops the packet, so the agent primes
// the cache as soon as it has a tunnel to the peer. (OVS's ARP goes
// between the hosts' br-phy, outside VXLAN: the captures below do not see
// it, and it is not the VMs' traffic.)
func waitTunnelNeigh(t *testing.T, ctx context.Context, host, peerHost int) {
	t.Helper()
	ip := underlayIP(t, peerHost).String()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := hostExec(t, ctx, host, "ovs-appctl", "tnl/neigh/show")
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[0] == ip {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("host%d: ovs-vswitchd's tunnel neighbour cache lacks host%d (%s) within 5s (the agent primes it):\n%s", host, peerHost, ip, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var nPacketsRE = regexp.MustCompile(`n_packets=(\d+)`)

// flowPackets sums n_packets of host's br-tun flows containing every part.
func flowPackets(t *testing.T, ctx context.Context, host int, parts ...string) int {
	t.Helper()
	out := hostExec(t, ctx, host, "ovs-ofctl", "dump-flows", "br-tun")
	total := 0
	for _, line := range strings.Split(out, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if m := nPacketsRE.FindStringSubmatch(line); ok && m != nil {
			v, _ := strconv.Atoi(m[1])
			total += v
		}
	}
	return total
}

// fabricCapture is tcpdump on one host's cable in the fabric namespace,
// writing VXLAN packets to a pcap file.
type fabricCapture struct {
	host int
	file string
	wait func() error
	stop func()
}

// startFabricCaptures captures VXLAN on every host's cable and returns
// once every tcpdump listens. --immediate-mode: without it, packets still
// in the capture ring when tcpdump is interrupted are never written.
func startFabricCaptures(t *testing.T, ctx context.Context, l *lab.Lab) []*fabricCapture {
	t.Helper()
	dir := t.TempDir()
	var caps []*fabricCapture
	for i := 1; i <= l.NumHosts(); i++ {
		c := &fabricCapture{host: i, file: filepath.Join(dir, fmt.Sprintf("h%d.pcap", i))}
		cmd := l.FabricCommand(ctx, "tcpdump", "-i", fmt.Sprintf("h%d", i), "--immediate-mode", "-U", "-Z", "root", "-w", c.file, "udp", "port", "4789")
		stderr, err := cmd.StderrPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
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
			_ = cmd.Process.Kill()
			t.Fatalf("tcpdump on h%d did not start", i)
		}
		c.wait = cmd.Wait
		c.stop = func() { _ = cmd.Process.Signal(syscall.SIGINT) }
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		caps = append(caps, c)
	}
	return caps
}

// stopFabricCaptures lets late packets arrive, stops the captures and
// decodes them, by host.
func stopFabricCaptures(t *testing.T, caps []*fabricCapture) map[int]vxlanFrames {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	out := map[int]vxlanFrames{}
	for _, c := range caps {
		c.stop()
		_ = c.wait()
		data, err := os.ReadFile(c.file)
		require.NoError(t, err)
		fs, err := parseVXLANPcap(data)
		require.NoError(t, err, "h%d pcap", c.host)
		t.Logf("h%d: pcap %d bytes, %d VXLAN frames", c.host, len(data), len(fs))
		out[c.host] = fs
	}
	return out
}

// vxlanFrame is one inner Ethernet frame seen on the underlay.
type vxlanFrame struct {
	VNI       int
	Dst       []byte
	Inner     []byte // the whole inner frame
	EtherType uint16
}

type vxlanFrames []vxlanFrame

func (fs vxlanFrames) count(vni int, pred func(vxlanFrame) bool) int {
	n := 0
	for _, f := range fs {
		if f.VNI == vni && pred(f) {
			n++
		}
	}
	return n
}

func anyFrame(vxlanFrame) bool      { return true }
func isARP(f vxlanFrame) bool       { return f.EtherType == 0x0806 }
func isBroadcast(f vxlanFrame) bool { return string(f.Dst) == "\xff\xff\xff\xff\xff\xff" }

// parseVXLANPcap decodes a classic pcap (Ethernet link type) of
// Ethernet/IPv4/UDP/VXLAN packets into their inner frames.
func parseVXLANPcap(b []byte) (vxlanFrames, error) {
	if len(b) < 24 {
		return nil, fmt.Errorf("short pcap (%d bytes)", len(b))
	}
	var bo binary.ByteOrder = binary.LittleEndian
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
	default:
		bo = binary.BigEndian
	}
	var out vxlanFrames
	for off := 24; off+16 <= len(b); {
		incl := int(bo.Uint32(b[off+8:]))
		off += 16
		if off+incl > len(b) {
			break
		}
		pkt := b[off : off+incl]
		off += incl
		if len(pkt) < 14+20 || binary.BigEndian.Uint16(pkt[12:]) != 0x0800 {
			continue
		}
		ihl := int(pkt[14]&0x0f) * 4
		udp := 14 + ihl
		vx := udp + 8
		inner := vx + 8
		if pkt[14+9] != 17 || len(pkt) < inner+14 || binary.BigEndian.Uint16(pkt[udp+2:]) != 4789 {
			continue
		}
		vni := int(pkt[vx+4])<<16 | int(pkt[vx+5])<<8 | int(pkt[vx+6])
		out = append(out, vxlanFrame{VNI: vni, Dst: pkt[inner : inner+6], EtherType: binary.BigEndian.Uint16(pkt[inner+12:]), Inner: pkt[inner:]})
	}
	return out, nil
}

// TestTunnelPortCount: with VMs of one network on the three hosts, host1's
// br-tun has one VXLAN port per peer (2) with per-peer tunnel ports, and
// one (remote_ip=flow) with flow-based ones; traffic flows to both peers.
func TestTunnelPortCount(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	n, _ := makeNetwork(t, ctx, netSpec{Name: "tunports", Project: "admin", Type: api.NetworkTypeVXLAN, CIDR: "10.63.0.0/24"})
	vms := createVMs(t, ctx,
		vmSpec{Name: "tp-1", Network: n, Host: 1, Project: "admin"},
		vmSpec{Name: "tp-2", Network: n, Host: 2, Project: "admin"},
		vmSpec{Name: "tp-3", Network: n, Host: 3, Project: "admin"})
	for _, peer := range vms[1:] {
		d := waitPing(t, ctx, vms[0].Name, peer.IP.Addr().String(), 15*time.Second)
		t.Logf("FIGURE: tunnel ports (%s): %s reached %s %v after all ports were ACTIVE", tunnelPortsName(), vms[0].Name, peer.Name, d.Round(time.Millisecond))
	}
	ports := strings.Fields(hostExec(t, ctx, 1, "ovs-vsctl", "list-ports", "br-tun"))
	var vxlan []string
	for _, p := range ports {
		if vsctlGet(t, ctx, 1, "Interface", p, "type") == api.NetworkTypeVXLAN {
			vxlan = append(vxlan, p+" remote_ip="+vsctlGet(t, ctx, 1, "Interface", p, "options:remote_ip"))
		}
	}
	t.Logf("FIGURE: tunnel ports (%s): host1 has %d VXLAN ports for 2 peers: %v", tunnelPortsName(), len(vxlan), vxlan)
	want := 2
	if flowTunnels() {
		want = 1
	}
	require.Len(t, vxlan, want)
	for _, h := range []int{2, 3} {
		require.Contains(t, vxlan, tunnelPortName(api.NetworkTypeVXLAN, underlayIP(t, h))+" remote_ip="+tunnelRemote(underlayIP(t, h)))
	}
}

func tunnelPortsName() string {
	if flowTunnels() {
		return "flow"
	}
	return "per-peer"
}

// TestL2popPortMove: a VM's port moves from host2 to host3 (its tap
// re-plugged there and the port rebound, as in a live migration); host1,
// which has learned the way to host2, reaches it at host3 (target: within a
// second): l2population's table-20 flow (above the learned one) follows the
// store.
func TestL2popPortMove(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	l := sharedLab(t)
	c := adminClient(t)
	n, _ := makeNetwork(t, ctx, netSpec{Name: "l2pop-move", Project: "admin", Type: api.NetworkTypeVXLAN, CIDR: "10.64.0.0/24"})
	vms := createVMs(t, ctx,
		vmSpec{Name: "mv-a", Network: n, Host: 1, Project: "admin"},
		vmSpec{Name: "mv-b", Network: n, Host: 2, Project: "admin"},
		// host3 has a port on the network already: its tunnel exists.
		vmSpec{Name: "mv-c", Network: n, Host: 3, Project: "admin"})
	a, b := vms[0], vms[1]
	bIP := b.IP.Addr().String()
	waitPing(t, ctx, a.Name, bIP, 15*time.Second)
	require.Zero(t, pingLoss(t, ctx, a.Name, bIP, 3))

	h3, err := l.HostInfo(3)
	require.NoError(t, err)
	t.Cleanup(func() {
		// The lab deletes the VM from host2's br-int: unplug it from host3's.
		_, _ = l.HostExec(context.Background(), 3, "ovs-vsctl", "--if-exists", "del-port", "br-int", b.Tap)
	})
	hostExec(t, ctx, 2, "ovs-vsctl", "del-port", "br-int", b.Tap)
	// `ip -n` from here: inside `ip netns exec` the other namespace's
	// name may not resolve (its own mount namespace).
	h2, err := l.HostInfo(2)
	require.NoError(t, err)
	for _, argv := range [][]string{{"ip", "-n", h2.NetNS, "link", "set", b.Tap, "netns", h3.NetNS}, {"ip", "-n", h3.NetNS, "link", "set", b.Tap, "up"}} {
		out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		require.NoError(t, err, "%v: %s", argv, out)
	}
	start := time.Now()
	hostExec(t, ctx, 3, "ovs-vsctl", "add-port", "br-int", b.Tap, "--", "set", "Interface", b.Tap,
		"external_ids:iface-id="+b.PortID, "external_ids:attached-mac="+b.MAC, "external_ids:iface-status=active")
	host3 := "host3"
	_, err = c.UpdatePort(ctx, b.PortID, client.PortUpdate{BindingHostID: &host3})
	require.NoError(t, err)
	rebound := time.Now()
	tun := tunnelPortName(api.NetworkTypeVXLAN, underlayIP(t, 3))
	ofport := vsctlGet(t, ctx, 1, "Interface", tun, "ofport")
	tunDst3 := tunDstText(underlayIP(t, 3)) // t's helpers only on the test goroutine
	var active, flowed atomic.Int64         // durations
	go func() {
		// Where the time goes: host3 wiring the port, host1 following it.
		for active.Load() == 0 || flowed.Load() == 0 {
			if p, err := c.GetPort(ctx, b.PortID); err == nil && p.Status == api.StatusActive && active.Load() == 0 {
				active.Store(int64(time.Since(rebound)))
			}
			out, err := l.HostExec(ctx, 1, "ovs-ofctl", "dump-flows", "br-tun", "table=20,dl_dst="+b.MAC)
			if err == nil && strings.Contains(string(out), "priority=2") && strings.Contains(string(out), "output:"+ofport) &&
				strings.Contains(string(out), tunDst3) && flowed.Load() == 0 {
				flowed.Store(int64(time.Since(rebound)))
			}
			if ctx.Err() != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	// Nova resumes the migrated VM once its port is ACTIVE (vif-plugged),
	// and QEMU announces it (RARP): the VM sends a frame from its new
	// place. Until then host3's br-int has b's MAC learned on patch-tun,
	// and NORMAL would drop a's traffic to it.
	waitActive(t, ctx, b.PortID)
	_, _ = l.Exec(ctx, b.Name, "ping", "-c", "1", "-W", "0.2", a.IP.Addr().String())
	waitPing(t, ctx, a.Name, bIP, 10*time.Second, "-W", "0.2") // fine-grained retries
	d := time.Since(rebound)
	time.Sleep(100 * time.Millisecond)
	t.Logf("FIGURE: port move: ACTIVE (from host3) %v, host1's table-20 flow to host3 %v after the rebinding",
		time.Duration(active.Load()).Round(time.Millisecond), time.Duration(flowed.Load()).Round(time.Millisecond))
	t.Logf("FIGURE: port moved host2 -> host3: reached there %v after it was rebound (%v after the re-plug)", d.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	// Target (issue 11): within a second. Measured 0.3-0.7 s on an idle
	// machine, 1.8 s at load average 9 on 2 cores (agents wiring and
	// recomputing): the bound leaves room for shared CI machines.
	require.Less(t, d, 3*time.Second, "moved port reached within a few seconds of its rebinding")

	fs := dumpFlows(t, ctx, 1, "br-tun")
	uc := withText(fs, 20, "priority=2,", "dl_dst="+b.MAC, tunDstText(underlayIP(t, 3)), "output:"+ofport)
	require.Len(t, uc, 1, "host1's l2population flow for %s follows it to host3:\n%s", b.Name, flowLines(fs))
}
