package probe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
)

// Kind is one kind of frame the probe sends from a source towards a target.
type Kind uint8

const (
	KindEcho      Kind = iota // ICMP echo request to the target's IP and MAC
	KindARP                   // broadcast ARP who-has the target's IP, or another address of its /24
	KindUnicast               // UDP to the target's IP and MAC: unknown unicast on another network
	KindBroadcast             // UDP to 255.255.255.255 and ff:ff:ff:ff:ff:ff
	KindSpoofIP               // ICMP echo reply to the target from a forged source IP (the source's own MAC)
	KindSpoofMAC              // UDP from a forged source MAC (random, or the target's own)
	KindSpoofARP              // broadcast ARP whose sender IP is forged (random, or the target's own)
	NumKinds
)

// kindInfo says how many frames of a kind go to each target and whether,
// within one network, they must arrive: those kinds are the positive control
// proving that the target's capture works. Forged-MAC and forged-ARP frames
// are dropped at the sender's own port by anti-spoofing (br-int tables 24
// and 25), even within a network; forged IPs with the sender's MAC are not
// (no security groups yet), but a firewall may drop them, so they prove nothing.
var kindInfo = [NumKinds]struct {
	Name       string
	PerPair    int
	MustArrive bool
}{
	KindEcho:      {"icmp-echo", 4, true},
	KindARP:       {"arp-who-has", 4, true},
	KindUnicast:   {"unicast-udp", 16, true},
	KindBroadcast: {"broadcast-udp", 8, true},
	KindSpoofIP:   {"spoofed-ip", 32, false},
	KindSpoofMAC:  {"spoofed-mac", 32, false},
	KindSpoofARP:  {"spoofed-arp", 16, false},
}

func (k Kind) String() string {
	if k < NumKinds {
		return kindInfo[k].Name
	}
	return fmt.Sprintf("kind%d", k)
}

// FramesPerPair is how many frames a source sends towards each target.
func FramesPerPair() int {
	n := 0
	for _, ki := range kindInfo {
		n += ki.PerPair
	}
	return n
}

const (
	// Only IPv4 and ARP: port security drops every other Ethertype at the
	// sender's port, so frames of other types would prove nothing.
	etherTypeIPv4 = 0x0800
	etherTypeARP  = 0x0806
	minFrame      = 60 // Ethernet minimum without FCS; short frames are padded
	markerLen     = 16
	probePort     = 9 // discard: nothing in a VM answers it
)

// marker is stamped into every frame the probe sends (in the payload, or in
// the Ethernet padding of ARP) so a capture matches only this run's frames
// and knows who sent each one, for whom, and of which kind, even when its
// source addresses are forged.
type marker struct {
	Src, Dst uint16 // endpoint indexes
	Kind     Kind
	Seq      uint16
}

// runID is random per probe run: frames of another run (or of anyone
// else) never match.
type runID [8]byte

func newRunID() runID {
	var r runID
	binary.BigEndian.PutUint64(r[:], rand.Uint64())
	return r
}

func (r runID) stamp(m marker) []byte {
	b := make([]byte, markerLen)
	copy(b, r[:])
	binary.BigEndian.PutUint16(b[8:], m.Src)
	binary.BigEndian.PutUint16(b[10:], m.Dst)
	b[12] = byte(m.Kind)
	binary.BigEndian.PutUint16(b[14:], m.Seq)
	return b
}

// find looks for this run's marker anywhere in a frame.
func (r runID) find(frame []byte) (marker, bool) {
	i := bytes.Index(frame, r[:])
	if i < 0 || i+markerLen > len(frame) {
		return marker{}, false
	}
	b := frame[i:]
	return marker{Src: binary.BigEndian.Uint16(b[8:]), Dst: binary.BigEndian.Uint16(b[10:]),
		Kind: Kind(b[12]), Seq: binary.BigEndian.Uint16(b[14:])}, true
}

// node is an endpoint's addresses in wire form.
type node struct {
	mac net.HardwareAddr
	ip  [4]byte
}

func parseNode(e Endpoint) (node, error) {
	mac, err := net.ParseMAC(e.MAC)
	if err != nil || len(mac) != 6 {
		return node{}, fmt.Errorf("probe: %s: bad MAC %q", e.Name, e.MAC)
	}
	ip, err := netip.ParseAddr(e.IP)
	if err != nil || !ip.Is4() {
		return node{}, fmt.Errorf("probe: %s: IP %q is not IPv4", e.Name, e.IP)
	}
	return node{mac: mac, ip: ip.As4()}, nil
}

var (
	broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	broadcastIP  = [4]byte{255, 255, 255, 255}
)

// buildFrames returns every frame endpoint si sends towards endpoint di:
// FramesPerPair of them, each carrying a marker.
func buildFrames(run runID, nodes []node, si, di int) [][]byte {
	src, dst := nodes[si], nodes[di]
	var out [][]byte
	for k := range NumKinds {
		for seq := range kindInfo[k].PerPair {
			m := run.stamp(marker{Src: uint16(si), Dst: uint16(di), Kind: k, Seq: uint16(seq)})
			var f []byte
			switch k {
			case KindEcho:
				f = ether(dst.mac, src.mac, etherTypeIPv4, ipv4ICMP(src.ip, dst.ip, 8, uint16(seq), m))
			case KindARP:
				// Even ones ask for the target's IP; odd ones for an
				// unowned address of its /24. With l2population, the
				// source's host answers the first kind itself when the
				// target is remote (br-tun's ARP responder), so only the
				// second must cross the fabric and arrive.
				tpa := dst.ip
				if seq%2 == 1 {
					tpa = otherIP(src, dst)
				}
				f = ether(broadcastMAC, src.mac, etherTypeARP, arpRequest(src.mac, src.ip, tpa, m))
			case KindUnicast:
				f = ether(dst.mac, src.mac, etherTypeIPv4, ipv4UDP(src.ip, dst.ip, m))
			case KindBroadcast:
				f = ether(broadcastMAC, src.mac, etherTypeIPv4, ipv4UDP(src.ip, broadcastIP, m))
			case KindSpoofIP:
				f = ether(dst.mac, src.mac, etherTypeIPv4, ipv4ICMP(forgedIP(src, dst), dst.ip, 0, uint16(seq), m))
			case KindSpoofMAC:
				// Every fourth impersonates the target; half go to broadcast.
				from, to := randomMAC(), dst.mac
				if seq%4 == 0 {
					from = dst.mac
				}
				if seq%2 == 1 {
					to = broadcastMAC
				}
				f = ether(to, from, etherTypeIPv4, ipv4UDP(src.ip, dst.ip, m))
			case KindSpoofARP:
				spa := forgedIP(src, dst)
				if seq%4 == 0 && dst.ip != src.ip {
					spa = dst.ip // claims the target's address
				}
				f = ether(broadcastMAC, src.mac, etherTypeARP, arpRequest(src.mac, spa, dst.ip, m))
			}
			out = append(out, f)
		}
	}
	return out
}

// forgedIP is a random address in the target's /24 that is not the
// source's own.
func forgedIP(src, dst node) [4]byte {
	ip := dst.ip
	for {
		ip[3] = byte(2 + rand.IntN(252))
		if ip != src.ip {
			return ip
		}
	}
}

// otherIP is a random address in the target's /24 that is neither the
// source's nor the target's.
func otherIP(src, dst node) [4]byte {
	for {
		if ip := forgedIP(src, dst); ip != dst.ip {
			return ip
		}
	}
}

// randomMAC is a random locally administered unicast MAC.
func randomMAC() net.HardwareAddr {
	m := make(net.HardwareAddr, 6)
	for i := range m {
		m[i] = byte(rand.IntN(256))
	}
	m[0] = m[0]&^1 | 2
	return m
}

func ether(dst, src net.HardwareAddr, etherType uint16, payload []byte) []byte {
	f := make([]byte, 0, max(minFrame, 14+len(payload)))
	f = append(f, dst...)
	f = append(f, src...)
	f = binary.BigEndian.AppendUint16(f, etherType)
	f = append(f, payload...)
	for len(f) < minFrame {
		f = append(f, 0)
	}
	return f
}

// arpRequest is who-has tpa tell spa; the marker follows the 28-byte ARP
// body, where Ethernet padding would be.
func arpRequest(sha net.HardwareAddr, spa, tpa [4]byte, m []byte) []byte {
	b := []byte{0, 1, 8, 0, 6, 4, 0, 1}
	b = append(b, sha...)
	b = append(b, spa[:]...)
	b = append(b, 0, 0, 0, 0, 0, 0)
	b = append(b, tpa[:]...)
	return append(b, m...)
}

// ipv4ICMP is an IPv4 packet carrying an ICMP echo request (typ 8) or
// reply (typ 0) whose payload is the marker.
func ipv4ICMP(src, dst [4]byte, typ uint8, seq uint16, m []byte) []byte {
	icmp := []byte{typ, 0, 0, 0, 0x76, 0x6c} // id "vl"
	icmp = binary.BigEndian.AppendUint16(icmp, seq)
	icmp = append(icmp, m...)
	binary.BigEndian.PutUint16(icmp[2:], checksum(icmp))
	return ipv4Header(src, dst, 1, icmp)
}

// ipv4UDP is an IPv4 packet carrying a UDP datagram to the discard port
// whose payload is the marker (UDP checksum 0: none, as IPv4 allows).
func ipv4UDP(src, dst [4]byte, m []byte) []byte {
	udp := binary.BigEndian.AppendUint16(nil, probePort)
	udp = binary.BigEndian.AppendUint16(udp, probePort)
	udp = binary.BigEndian.AppendUint16(udp, uint16(8+len(m)))
	udp = append(udp, 0, 0)
	udp = append(udp, m...)
	return ipv4Header(src, dst, 17, udp)
}

// ipv4Header prefixes payload with an IPv4 header for protocol proto.
func ipv4Header(src, dst [4]byte, proto uint8, payload []byte) []byte {
	ip := []byte{0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0}
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(payload)))
	ip = append(ip, src[:]...)
	ip = append(ip, dst[:]...)
	binary.BigEndian.PutUint16(ip[10:], checksum(ip))
	return append(ip, payload...)
}

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}
