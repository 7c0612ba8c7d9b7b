package probe

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
)

// Every frame carries its marker and the headers its kind promises.
func TestBuildFrames(t *testing.T) {
	eps := seed000()
	nodes := make([]node, len(eps))
	for i, e := range eps {
		var err error
		if nodes[i], err = parseNode(e); err != nil {
			t.Fatal(err)
		}
	}
	id := newRunID()
	src, dst := nodes[0], nodes[5]
	frames := buildFrames(id, nodes, 0, 5)
	if len(frames) != FramesPerPair() {
		t.Fatalf("%d frames, want %d", len(frames), FramesPerPair())
	}
	perKind := map[Kind]int{}
	for i, f := range frames {
		m, ok := id.find(f)
		if !ok || m.Src != 0 || m.Dst != 5 {
			t.Fatalf("frame %d: marker %+v %v", i, m, ok)
		}
		perKind[m.Kind]++
		if len(f) < minFrame {
			t.Errorf("frame %d (%s) is %d bytes, below the Ethernet minimum", i, m.Kind, len(f))
		}
		eth := binary.BigEndian.Uint16(f[12:])
		from, to := net.HardwareAddr(f[6:12]), net.HardwareAddr(f[0:6])
		switch m.Kind {
		case KindEcho, KindSpoofIP:
			ip := f[14:34]
			if eth != etherTypeIPv4 || checksum(ip) != 0 || !bytes.Equal(ip[16:20], dst.ip[:]) || !bytes.Equal(to, dst.mac) {
				t.Errorf("frame %d (%s): bad IPv4 header % x", i, m.Kind, ip)
			}
			icmpLen := int(binary.BigEndian.Uint16(ip[2:])) - 20
			if checksum(f[34:34+icmpLen]) != 0 {
				t.Errorf("frame %d (%s): bad ICMP checksum", i, m.Kind)
			}
			spoofed := !bytes.Equal(ip[12:16], src.ip[:])
			if spoofed != (m.Kind == KindSpoofIP) || !bytes.Equal(from, src.mac) {
				t.Errorf("frame %d (%s): source %v %v", i, m.Kind, net.IP(ip[12:16]), from)
			}
		case KindARP, KindSpoofARP:
			spa := f[28:32]
			askTarget := bytes.Equal(f[38:42], dst.ip[:])
			if eth != etherTypeARP || !bytes.Equal(to, broadcastMAC) || !bytes.Equal(f[38:41], dst.ip[:3]) ||
				askTarget != (m.Kind == KindSpoofARP || m.Seq%2 == 0) {
				t.Errorf("frame %d (%s): bad ARP % x", i, m.Kind, f[14:42])
			}
			if bytes.Equal(spa, src.ip[:]) != (m.Kind == KindARP) {
				t.Errorf("frame %d (%s): sender IP %v", i, m.Kind, net.IP(spa))
			}
		case KindUnicast, KindBroadcast, KindSpoofMAC:
			ip := f[14:34]
			wantDst := dst.ip
			if m.Kind == KindBroadcast {
				wantDst = broadcastIP
			}
			if eth != etherTypeIPv4 || checksum(ip) != 0 || ip[9] != 17 || !bytes.Equal(ip[12:16], src.ip[:]) || !bytes.Equal(ip[16:20], wantDst[:]) {
				t.Errorf("frame %d (%s): bad IPv4/UDP header % x", i, m.Kind, ip)
			}
			if bytes.Equal(from, src.mac) != (m.Kind != KindSpoofMAC) {
				t.Errorf("frame %d (%s): source MAC %v", i, m.Kind, from)
			}
			if m.Kind == KindUnicast && !bytes.Equal(to, dst.mac) || m.Kind == KindBroadcast && !bytes.Equal(to, broadcastMAC) {
				t.Errorf("frame %d (%s): destination MAC %v", i, m.Kind, to)
			}
		}
	}
	for k := range NumKinds {
		if perKind[k] != kindInfo[k].PerPair {
			t.Errorf("%s: %d frames, want %d", k, perKind[k], kindInfo[k].PerPair)
		}
	}
	if _, ok := newRunID().find(frames[0]); ok {
		t.Error("another run's marker matched")
	}
}

// A target's echo reply carries the request's marker back: it counts as
// the target's own traffic, never as a frame of the source.
func TestTallyEchoReply(t *testing.T) {
	eps := seed000()[:2]
	nodes := []node{}
	for _, e := range eps {
		n, err := parseNode(e)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	id := newRunID()
	req := buildFrames(id, nodes, 0, 1)[0] // icmp-echo from a1 to a2
	m, _ := id.find(req)
	if m.Kind != KindEcho {
		t.Fatalf("first frame is %s", m.Kind)
	}
	reply := ether(nodes[0].mac, nodes[1].mac, etherTypeIPv4, ipv4ICMP(nodes[1].ip, nodes[0].ip, 0, m.Seq, id.stamp(m)))
	tl := tallyFrames(id, eps, [][][]byte{{reply}, {req}})
	if got := tl.seen[[2]int{0, 1}]; got == nil || got[KindEcho] != 1 {
		t.Errorf("request not counted for a1 -> a2: %v", got)
	}
	if tl.seen[[2]int{1, 0}] != nil || tl.stray[[2]int{1, 0}] != 1 || tl.stray[[2]int{0, 0}] != 0 {
		t.Errorf("reply miscounted: seen %v stray %v", tl.seen, tl.stray)
	}
}
