package e2e_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/netns"
)

// These tests send hand-made Ethernet frames from inside a VM (an AF_PACKET
// socket opened in its namespace) and capture in other VMs the same way, so
// they control exactly what leaves the VM: an 802.1Q header, a source
// address the VM does not own. Every frame carries a marker naming its
// kind; a capture counts the frames of each kind from the sender's MAC.

// sendsPerKind is how many frames of each kind a test sends.
const sendsPerKind = 5

// TestVLANEscape: a VM of project A sends frames tagged with the local
// VLAN that project B's network has on its host (ARP request, broadcast,
// unicast to B's VMs on its own and on other hosts). No VM of B may see any
// frame from it: with the port tagged as it should be, and with the port
// turned into a trunk (what a failed tag write leaves), where only br-int
// table 0's drop of tagged frames stops them. The captures are shown to
// work: the same frames untagged reach A's other VM, and a frame of B's
// own reaches every VM of B.
func TestVLANEscape(t *testing.T) {
	ctx := testCtx(t, 3*time.Minute)
	l := sharedLab(t)
	na, _ := makeNetwork(t, ctx, netSpec{Name: "esc-a", Project: "esc-a", Type: api.NetworkTypeVXLAN, CIDR: "10.7.0.0/24"})
	nb, _ := makeNetwork(t, ctx, netSpec{Name: "esc-b", Project: "esc-b", Type: api.NetworkTypeVXLAN, CIDR: "10.7.0.0/24"})
	vms := createVMs(t, ctx,
		vmSpec{Name: "esc-a1", Network: na, Host: 1, IP: "10.7.0.11", Project: "esc-a"},
		vmSpec{Name: "esc-a2", Network: na, Host: 2, IP: "10.7.0.12", Project: "esc-a"},
		vmSpec{Name: "esc-b1", Network: nb, Host: 1, IP: "10.7.0.21", Project: "esc-b"},
		vmSpec{Name: "esc-b2", Network: nb, Host: 2, IP: "10.7.0.22", Project: "esc-b"},
		vmSpec{Name: "esc-b3", Network: nb, Host: 3, IP: "10.7.0.23", Project: "esc-b"})
	attacker, peer, victims := vms[0], vms[1], vms[2:]
	waitPing(t, ctx, attacker.Name, "10.7.0.12", 20*time.Second)
	waitPing(t, ctx, victims[0].Name, "10.7.0.22", 20*time.Second)
	waitPing(t, ctx, victims[0].Name, "10.7.0.23", 20*time.Second)

	// The victims' network's local VLAN on the attacker's host.
	vlan := portTag(t, ctx, 1, victims[0].Tap)
	require.NotEqual(t, portTag(t, ctx, 1, attacker.Tap), vlan)
	t.Logf("victim network's local VLAN on host1: %d", vlan)

	attack := func(tag int) []kindFrame {
		fs := []kindFrame{
			{"arp-request", arpRequest(attacker, tag, netip.MustParseAddr("10.7.0.21"))},
			{"udp-broadcast", ipv4UDP(attacker, tag, broadcastMAC, addrOf(attacker), netip.MustParseAddr("255.255.255.255"), 5000, 5000)},
		}
		for _, v := range victims {
			fs = append(fs, kindFrame{"udp-unicast-" + v.Name, ipv4UDP(attacker, tag, mustMAC(v.MAC), addrOf(attacker), addrOf(v), 5000, 5000)})
		}
		return fs
	}

	// The captures work: A's frames untagged reach A's other VM and no VM
	// of B; a broadcast of B's reaches every other VM of B. (The ARP asks
	// for an address no port has: host1's ARP responder answers for
	// 10.7.0.12 itself, and the request would never reach the peer.)
	caps := startCaptures(t, append(victims, peer))
	sendFrames(t, attacker, []kindFrame{
		{"arp-request", arpRequest(attacker, 0, netip.MustParseAddr("10.7.0.250"))},
		{"udp-broadcast", ipv4UDP(attacker, 0, broadcastMAC, addrOf(attacker), netip.MustParseAddr("255.255.255.255"), 5000, 5000)},
		{"udp-unicast-" + peer.Name, ipv4UDP(attacker, 0, mustMAC(peer.MAC), addrOf(attacker), addrOf(peer), 5000, 5000)},
	})
	sendFrames(t, victims[1], []kindFrame{{"b-broadcast", ipv4UDP(victims[1], 0, broadcastMAC, addrOf(victims[1]), netip.MustParseAddr("10.7.0.255"), 5000, 5000)}})
	got := stopCaptures(caps)
	require.Equal(t, map[string]int{"arp-request": sendsPerKind, "udp-broadcast": sendsPerKind, "udp-unicast-esc-a2": sendsPerKind},
		got[peer.Name].from(attacker.MAC), "untagged frames from the attacker to its own network")
	for _, v := range victims {
		require.Empty(t, got[v.Name].from(attacker.MAC), "%s got untagged frames of another network", v.Name)
		if v != victims[1] {
			require.Equal(t, map[string]int{"b-broadcast": sendsPerKind}, got[v.Name].from(victims[1].MAC), "%s: capture works", v.Name)
		}
	}
	t.Logf("FIGURE: control: untagged from %s: %d frames sent, %s received %v", attacker.Name, 3*sendsPerKind, peer.Name, got[peer.Name].from(attacker.MAC))

	// The attack: frames tagged by hand (exactly what a VLAN sub-interface
	// sends) and, where the kernel has 802.1Q (module 8021q; this lab's
	// machine may not), through a sub-interface as a VM would make one.
	// Both with the port as the agent left it and as a trunk.
	vif := fmt.Sprintf("eth0.%d", vlan)
	out, err := l.Exec(ctx, attacker.Name, "ip", "link", "add", "link", "eth0", "name", vif, "type", "vlan", "id", fmt.Sprint(vlan))
	subIface := err == nil
	if subIface {
		vmExec(t, ctx, attacker.Name, "ip", "addr", "add", "10.7.0.99/24", "dev", vif)
		vmExec(t, ctx, attacker.Name, "ip", "link", "set", vif, "up")
	} else {
		require.Contains(t, string(out), "Unknown device type", "ip link add %s", vif)
		t.Logf("no 802.1Q in this kernel (%s): tagged frames are sent by hand only", strings.TrimSpace(string(out)))
	}
	for _, mode := range []string{"access", "trunk"} {
		if mode == "trunk" {
			// What a failed tag write leaves: a port that carries every VLAN.
			hostExec(t, ctx, 1, "ovs-vsctl", "set", "Port", attacker.Tap, "vlan_mode=trunk")
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				l.HostExec(ctx, 1, "ovs-vsctl", "--if-exists", "clear", "Port", attacker.Tap, "vlan_mode")
			})
		}
		caps := startCaptures(t, victims)
		frames := attack(vlan)
		sendFrames(t, attacker, frames)
		pings := 0
		if subIface {
			// ARP, broadcast and unicast (to a victim's MAC) pings.
			l.Exec(ctx, attacker.Name, "ping", "-c", "3", "-i", "0.2", "-W", "1", "-I", vif, "10.7.0.21")
			l.Exec(ctx, attacker.Name, "ping", "-b", "-c", "3", "-i", "0.2", "-W", "1", "-I", vif, "10.7.0.255")
			vmExec(t, ctx, attacker.Name, "ip", "neigh", "replace", "10.7.0.22", "lladdr", victims[1].MAC, "dev", vif)
			l.Exec(ctx, attacker.Name, "ping", "-c", "3", "-i", "0.2", "-W", "1", "-I", vif, "10.7.0.22")
			pings = 9
		}
		got := stopCaptures(caps)
		leaked := map[string]map[string]int{}
		for _, v := range victims {
			if fs := got[v.Name]; len(fs.all(attacker.MAC)) > 0 {
				leaked[v.Name] = fs.from(attacker.MAC)
			}
		}
		t.Logf("FIGURE: VLAN escape, attacker port %s: %d tagged frames (%d kinds x %d) + %d pings via %s sent; frames from the attacker seen by %d victims: %d",
			mode, len(frames)*sendsPerKind, len(frames), sendsPerKind, pings, vif, len(victims), countAll(got, victims, attacker.MAC))
		require.Empty(t, leaked, "port %s: the other project's VMs received the attacker's frames from VLAN %d (by VM, by kind)", mode, vlan)
	}
}

// TestIPSourceSpoofing: with port security, IPv4 and IPv6 packets whose
// source the port does not own are dropped (one-way UDP and ICMP, to a VM
// on the same host and on another); DHCP from 0.0.0.0 and IPv6 link-local
// pass, as does the VM's own address. With port security off, the spoofed
// packets arrive.
func TestIPSourceSpoofing(t *testing.T) {
	ctx := testCtx(t, 3*time.Minute)
	c := adminClient(t)
	n, _ := makeNetwork(t, ctx, netSpec{Name: "ipsp-net", Project: "ipsp", Type: api.NetworkTypeVXLAN, CIDR: "10.8.0.0/24"})
	vms := createVMs(t, ctx,
		vmSpec{Name: "ipsp-s", Network: n, Host: 1, IP: "10.8.0.11", Project: "ipsp"},
		vmSpec{Name: "ipsp-far", Network: n, Host: 2, IP: "10.8.0.12", Project: "ipsp"},
		vmSpec{Name: "ipsp-near", Network: n, Host: 1, IP: "10.8.0.13", Project: "ipsp"})
	s, peers := vms[0], vms[1:]
	for _, p := range peers {
		waitPing(t, ctx, s.Name, p.IP.Addr().String(), 20*time.Second)
	}
	ip := netip.MustParseAddr
	frames := func() (spoofed, allowed []kindFrame) {
		for i, p := range peers {
			dst, to, other := mustMAC(p.MAC), addrOf(p), addrOf(peers[1-i])
			spoofed = append(spoofed,
				kindFrame{"udp-unowned-" + p.Name, ipv4UDP(s, 0, dst, ip("10.8.0.77"), to, 5000, 5000)},
				kindFrame{"icmp-as-other-vm-" + p.Name, ipv4ICMPEcho(s, dst, other, to)},
				kindFrame{"udp-offnet-" + p.Name, ipv4UDP(s, 0, dst, ip("192.0.2.1"), to, 5000, 5000)},
				kindFrame{"udp-zero-not-dhcp-" + p.Name, ipv4UDP(s, 0, dst, ip("0.0.0.0"), to, 68, 80)},
				kindFrame{"udp6-global-" + p.Name, ipv6UDP(s, dst, ip("2001:db8::77"), ip("2001:db8::1"), 5000, 5000)},
			)
			allowed = append(allowed,
				kindFrame{"udp-own-" + p.Name, ipv4UDP(s, 0, dst, addrOf(s), to, 5000, 5000)},
				kindFrame{"udp6-link-local-" + p.Name, ipv6UDP(s, dst, ip("fe80::f816:3eff:fe00:1"), ip("fe80::1"), 5000, 5000)},
			)
		}
		allowed = append(allowed, kindFrame{"dhcp-discover", ipv4UDP(s, 0, broadcastMAC, ip("0.0.0.0"), ip("255.255.255.255"), 68, 67)})
		return spoofed, allowed
	}
	spoofed, allowed := frames()
	kindsTo := func(p *lab.VM, fs []kindFrame) map[string]int {
		want := map[string]int{}
		for _, f := range fs {
			if strings.HasSuffix(f.kind, "-"+p.Name) || f.kind == "dhcp-discover" {
				want[f.kind] = sendsPerKind
			}
		}
		return want
	}

	caps := startCaptures(t, peers)
	sendFrames(t, s, append(spoofed, allowed...))
	got := stopCaptures(caps)
	for _, p := range peers {
		require.Equal(t, kindsTo(p, allowed), got[p.Name].from(s.MAC), "%s: port security on", p.Name)
	}
	t.Logf("FIGURE: IP spoofing, port security on: spoofed %d frames sent, %d delivered; allowed %d sent, %d delivered (the DHCP broadcast to each peer)",
		len(spoofed)*sendsPerKind, countKinds(got, peers, s.MAC, spoofed), len(allowed)*sendsPerKind, countKinds(got, peers, s.MAC, allowed))

	off, none := false, []string{}
	_, err := c.UpdatePort(ctx, s.PortID, client.PortUpdate{PortSecurityEnabled: &off, SecurityGroups: &none})
	require.NoError(t, err)
	ofport := vsctlGet(t, ctx, 1, "Interface", s.Tap, "ofport")
	require.Eventually(t, func() bool {
		out, err := sharedLab(t).HostExec(ctx, 1, "ovs-ofctl", "dump-flows", "br-int", "table=0,in_port="+ofport)
		return err == nil && strings.Contains(string(out), "actions=resubmit(,60)")
	}, 20*time.Second, 100*time.Millisecond, "port security off reaches host1's flows")
	caps = startCaptures(t, peers)
	sendFrames(t, s, spoofed)
	got = stopCaptures(caps)
	for _, p := range peers {
		require.Equal(t, kindsTo(p, spoofed), got[p.Name].from(s.MAC), "%s: port security off", p.Name)
	}
	t.Logf("FIGURE: IP spoofing, port security off: spoofed %d frames sent, %d delivered", len(spoofed)*sendsPerKind, countKinds(got, peers, s.MAC, spoofed))
}

// TestBindingHostElsewhere: a VIF plugged on host1 whose port is bound to
// host2 is not wired on host1 (dead VLAN, no traffic, not ACTIVE from
// host1); bound back to host1 it is.
func TestBindingHostElsewhere(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	c := adminClient(t)
	n, _ := makeNetwork(t, ctx, netSpec{Name: "bind-net", Project: "bind", Type: api.NetworkTypeVXLAN, CIDR: "10.9.0.0/24"})
	vms := createVMs(t, ctx,
		vmSpec{Name: "bind-1", Network: n, Host: 1, IP: "10.9.0.11", Project: "bind"},
		vmSpec{Name: "bind-2", Network: n, Host: 2, IP: "10.9.0.12", Project: "bind"})
	vm := vms[0]
	waitPing(t, ctx, vm.Name, "10.9.0.12", 20*time.Second)

	host2 := "host2"
	_, err := c.UpdatePort(ctx, vm.PortID, client.PortUpdate{BindingHostID: &host2})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		out, err := sharedLab(t).HostExec(ctx, 1, "ovs-vsctl", "get", "Port", vm.Tap, "tag")
		return err == nil && strings.TrimSpace(string(out)) == "4095"
	}, 20*time.Second, 100*time.Millisecond, "port bound to host2 keeps its tag on host1")
	require.Equal(t, 100, pingLoss(t, ctx, vm.Name, "10.9.0.12", 3), "a VIF bound elsewhere forwards")
	p, err := c.GetPort(ctx, vm.PortID)
	require.NoError(t, err)
	require.NotEqual(t, api.StatusActive, p.Status)

	host1 := "host1"
	_, err = c.UpdatePort(ctx, vm.PortID, client.PortUpdate{BindingHostID: &host1})
	require.NoError(t, err)
	waitActive(t, ctx, vm.PortID)
	t.Logf("FIGURE: bound back to host1 -> traffic in %v", waitPing(t, ctx, vm.Name, "10.9.0.12", 20*time.Second))
}

// kindFrame is a frame and the marker kind it carries.
type kindFrame struct {
	kind  string
	frame func(marker []byte) []byte
}

var broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func addrOf(vm *lab.VM) netip.Addr { return vm.IP.Addr() }

// markerOf is the payload that names a frame's kind.
func markerOf(kind string) []byte { return []byte("vland-isolation:" + kind + ";") }

// ethernet returns an Ethernet header, with an 802.1Q tag if vlan > 0.
func ethernet(dst, src net.HardwareAddr, vlan int, etherType uint16) []byte {
	b := append(append([]byte{}, dst...), src...)
	if vlan > 0 {
		b = binary.BigEndian.AppendUint16(b, 0x8100)
		b = binary.BigEndian.AppendUint16(b, uint16(vlan))
	}
	return binary.BigEndian.AppendUint16(b, etherType)
}

// arpRequest asks for target from the VM's own MAC and IP (so it passes
// the ARP and MAC checks); the marker rides as padding.
func arpRequest(vm *lab.VM, vlan int, target netip.Addr) func([]byte) []byte {
	return func(marker []byte) []byte {
		src := mustMAC(vm.MAC)
		b := ethernet(broadcastMAC, src, vlan, 0x0806)
		b = append(b, 0, 1, 8, 0, 6, 4, 0, 1)
		b = append(b, src...)
		b = append(b, vm.IP.Addr().AsSlice()...)
		b = append(b, 0, 0, 0, 0, 0, 0)
		b = append(b, target.AsSlice()...)
		return append(b, marker...)
	}
}

func ipv4(vm *lab.VM, vlan int, dst net.HardwareAddr, src, to netip.Addr, proto byte, l4 []byte) []byte {
	b := ethernet(dst, mustMAC(vm.MAC), vlan, 0x0800)
	h := []byte{0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0}
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(l4)))
	h = append(append(h, src.AsSlice()...), to.AsSlice()...)
	binary.BigEndian.PutUint16(h[10:], checksum(h))
	return append(append(b, h...), l4...)
}

func ipv4UDP(vm *lab.VM, vlan int, dst net.HardwareAddr, src, to netip.Addr, sport, dport uint16) func([]byte) []byte {
	return func(marker []byte) []byte {
		u := binary.BigEndian.AppendUint16(nil, sport)
		u = binary.BigEndian.AppendUint16(u, dport)
		u = binary.BigEndian.AppendUint16(u, uint16(8+len(marker)))
		u = append(u, 0, 0) // no checksum (IPv4)
		return ipv4(vm, vlan, dst, src, to, 17, append(u, marker...))
	}
}

func ipv4ICMPEcho(vm *lab.VM, dst net.HardwareAddr, src, to netip.Addr) func([]byte) []byte {
	return func(marker []byte) []byte {
		m := append([]byte{8, 0, 0, 0, 0x12, 0x34, 0, 1}, marker...)
		binary.BigEndian.PutUint16(m[2:], checksum(m))
		return ipv4(vm, 0, dst, src, to, 1, m)
	}
}

func ipv6UDP(vm *lab.VM, dst net.HardwareAddr, src, to netip.Addr, sport, dport uint16) func([]byte) []byte {
	return func(marker []byte) []byte {
		n := 8 + len(marker)
		u := binary.BigEndian.AppendUint16(nil, sport)
		u = binary.BigEndian.AppendUint16(u, dport)
		u = binary.BigEndian.AppendUint16(u, uint16(n))
		u = append(append(u, 0, 0), marker...)
		pseudo := append(append(src.AsSlice(), to.AsSlice()...), 0, 0, byte(n>>8), byte(n), 0, 0, 0, 17)
		binary.BigEndian.PutUint16(u[6:], checksum(append(pseudo, u...)))
		b := ethernet(dst, mustMAC(vm.MAC), 0, 0x86dd)
		b = append(b, 0x60, 0, 0, 0, byte(n>>8), byte(n), 17, 64)
		b = append(append(b, src.AsSlice()...), to.AsSlice()...)
		return append(b, u...)
	}
}

// checksum is the Internet checksum.
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// packetSocket opens an AF_PACKET socket on the VM's eth0, inside its
// namespace (the socket stays in it). proto 0 receives nothing.
func packetSocket(t *testing.T, vm *lab.VM, proto uint16) int {
	t.Helper()
	fd := -1
	err := netns.Do(vm.NetNS, func() error {
		ifc, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		s, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(proto)))
		if err != nil {
			return err
		}
		if err := syscall.Bind(s, &syscall.SockaddrLinklayer{Protocol: htons(proto), Ifindex: ifc.Index}); err != nil {
			syscall.Close(s)
			return err
		}
		fd = s
		return nil
	})
	require.NoError(t, err, "packet socket in %s", vm.Name)
	return fd
}

// sendFrames sends sendsPerKind of each frame from the VM's eth0,
// interleaved, 20 ms apart.
func sendFrames(t *testing.T, vm *lab.VM, fs []kindFrame) {
	t.Helper()
	fd := packetSocket(t, vm, 0)
	defer syscall.Close(fd)
	for range sendsPerKind {
		for _, f := range fs {
			_, err := syscall.Write(fd, f.frame(markerOf(f.kind)))
			require.NoError(t, err, "send %s from %s", f.kind, vm.Name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// capture records the frames a VM's eth0 receives.
type capture struct {
	vm     *lab.VM
	fd     int
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	frames [][]byte
}

// captured are one VM's received frames.
type captured [][]byte

// from counts, by marker kind, the marked frames whose source MAC is mac.
func (c captured) from(mac string) map[string]int {
	out := map[string]int{}
	for _, f := range c.all(mac) {
		if i := bytes.Index(f, []byte("vland-isolation:")); i >= 0 {
			rest := f[i+len("vland-isolation:"):]
			if j := bytes.IndexByte(rest, ';'); j >= 0 {
				out[string(rest[:j])]++
			}
		}
	}
	return out
}

// all returns every frame whose source MAC is mac, marked or not.
func (c captured) all(mac string) [][]byte {
	src := mustMAC(mac)
	var out [][]byte
	for _, f := range c {
		if len(f) >= 12 && bytes.Equal(f[6:12], src) {
			out = append(out, f)
		}
	}
	return out
}

func startCaptures(t *testing.T, vms []*lab.VM) []*capture {
	t.Helper()
	var caps []*capture
	for _, vm := range vms {
		fd := packetSocket(t, vm, syscall.ETH_P_ALL)
		tv := syscall.Timeval{Usec: 100_000}
		require.NoError(t, syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv))
		c := &capture{vm: vm, fd: fd, stop: make(chan struct{}), done: make(chan struct{})}
		go c.run()
		t.Cleanup(func() { c.close() })
		caps = append(caps, c)
	}
	return caps
}

func (c *capture) run() {
	defer close(c.done)
	buf := make([]byte, 65536)
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		n, from, err := syscall.Recvfrom(c.fd, buf, 0)
		if err != nil || n <= 0 {
			continue // timeout: check stop
		}
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == syscall.PACKET_OUTGOING {
			continue
		}
		c.mu.Lock()
		if len(c.frames) < 10000 {
			c.frames = append(c.frames, bytes.Clone(buf[:n]))
		}
		c.mu.Unlock()
	}
}

func (c *capture) close() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
		<-c.done
		syscall.Close(c.fd)
	}
}

// stopCaptures waits for frames in flight (a second: userspace tunnels),
// stops the captures and returns their frames by VM name.
func stopCaptures(caps []*capture) map[string]captured {
	time.Sleep(time.Second)
	out := map[string]captured{}
	for _, c := range caps {
		c.close()
		c.mu.Lock()
		out[c.vm.Name] = c.frames
		c.mu.Unlock()
	}
	return out
}

func countAll(got map[string]captured, vms []*lab.VM, mac string) int {
	n := 0
	for _, v := range vms {
		n += len(got[v.Name].all(mac))
	}
	return n
}

func countKinds(got map[string]captured, vms []*lab.VM, mac string, fs []kindFrame) int {
	n := 0
	for _, v := range vms {
		counts := got[v.Name].from(mac)
		for _, f := range fs {
			n += counts[f.kind]
		}
	}
	return n
}
