package openflow

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// MatchBuilder accumulates match fields in ovs-ofctl syntax. The zero value
// (or Match()) matches everything. Methods append and return the builder.
type MatchBuilder struct{ fields []string }

// Match starts a match.
func Match() *MatchBuilder { return &MatchBuilder{} }

// String renders the match ("" for match-all).
func (m *MatchBuilder) String() string { return strings.Join(m.fields, ",") }

func (m *MatchBuilder) add(f string, args ...any) *MatchBuilder {
	m.fields = append(m.fields, fmt.Sprintf(f, args...))
	return m
}

// Raw appends ovs-ofctl match text as is (escape hatch).
func (m *MatchBuilder) Raw(s string) *MatchBuilder { return m.add("%s", s) }

// InPort matches the ingress OpenFlow port.
func (m *MatchBuilder) InPort(port int) *MatchBuilder { return m.add("in_port=%d", port) }

// DlVlan matches an 802.1Q VLAN id.
func (m *MatchBuilder) DlVlan(vid int) *MatchBuilder { return m.add("dl_vlan=%d", vid) }

// NoVlan matches untagged packets.
func (m *MatchBuilder) NoVlan() *MatchBuilder { return m.add("vlan_tci=0x0000/0x1fff") }

// TunID matches the tunnel key (VNI).
func (m *MatchBuilder) TunID(id uint64) *MatchBuilder { return m.add("tun_id=%#x", id) }

// DlType matches the Ethernet type.
func (m *MatchBuilder) DlType(t uint16) *MatchBuilder { return m.add("dl_type=%#06x", t) }

// Protocol shorthands.
func (m *MatchBuilder) ARP() *MatchBuilder   { return m.add("arp") }
func (m *MatchBuilder) IP() *MatchBuilder    { return m.add("ip") }
func (m *MatchBuilder) IPv6() *MatchBuilder  { return m.add("ipv6") }
func (m *MatchBuilder) TCP() *MatchBuilder   { return m.add("tcp") }
func (m *MatchBuilder) UDP() *MatchBuilder   { return m.add("udp") }
func (m *MatchBuilder) ICMP() *MatchBuilder  { return m.add("icmp") }
func (m *MatchBuilder) TCP6() *MatchBuilder  { return m.add("tcp6") }
func (m *MatchBuilder) UDP6() *MatchBuilder  { return m.add("udp6") }
func (m *MatchBuilder) ICMP6() *MatchBuilder { return m.add("icmp6") }

// DlSrc / DlDst match Ethernet addresses.
func (m *MatchBuilder) DlSrc(mac net.HardwareAddr) *MatchBuilder { return m.add("dl_src=%s", mac) }
func (m *MatchBuilder) DlDst(mac net.HardwareAddr) *MatchBuilder { return m.add("dl_dst=%s", mac) }

// DlDstMasked matches the destination MAC under mask (e.g. multicast bit:
// 01:00:00:00:00:00/01:00:00:00:00:00).
func (m *MatchBuilder) DlDstMasked(mac, mask net.HardwareAddr) *MatchBuilder {
	return m.add("dl_dst=%s/%s", mac, mask)
}

// DlSrcMasked matches the source MAC under mask.
func (m *MatchBuilder) DlSrcMasked(mac, mask net.HardwareAddr) *MatchBuilder {
	return m.add("dl_src=%s/%s", mac, mask)
}

// ArpOp matches the ARP opcode (1 request, 2 reply).
func (m *MatchBuilder) ArpOp(op int) *MatchBuilder { return m.add("arp_op=%d", op) }

// ArpSpa / ArpTpa match ARP protocol addresses.
func (m *MatchBuilder) ArpSpa(ip netip.Addr) *MatchBuilder { return m.add("arp_spa=%s", ip) }
func (m *MatchBuilder) ArpTpa(ip netip.Addr) *MatchBuilder { return m.add("arp_tpa=%s", ip) }

// ArpSha matches the ARP sender hardware address.
func (m *MatchBuilder) ArpSha(mac net.HardwareAddr) *MatchBuilder { return m.add("arp_sha=%s", mac) }

// NwSrc / NwDst match IPv4 addresses or prefixes (a /32 renders as a host).
func (m *MatchBuilder) NwSrc(p netip.Prefix) *MatchBuilder { return m.add("nw_src=%s", prefix(p)) }
func (m *MatchBuilder) NwDst(p netip.Prefix) *MatchBuilder { return m.add("nw_dst=%s", prefix(p)) }

// IPv6Src / IPv6Dst match IPv6 addresses or prefixes.
func (m *MatchBuilder) IPv6Src(p netip.Prefix) *MatchBuilder { return m.add("ipv6_src=%s", prefix(p)) }
func (m *MatchBuilder) IPv6Dst(p netip.Prefix) *MatchBuilder { return m.add("ipv6_dst=%s", prefix(p)) }

// NwProto matches the IP protocol number.
func (m *MatchBuilder) NwProto(p uint8) *MatchBuilder { return m.add("nw_proto=%d", p) }

// TpSrc / TpDst match L4 ports; TpDstMasked a port range expressed as
// value/mask.
func (m *MatchBuilder) TpSrc(p uint16) *MatchBuilder { return m.add("tp_src=%d", p) }
func (m *MatchBuilder) TpDst(p uint16) *MatchBuilder { return m.add("tp_dst=%d", p) }
func (m *MatchBuilder) TpDstMasked(p, mask uint16) *MatchBuilder {
	return m.add("tp_dst=%#x/%#x", p, mask)
}

// IcmpType / IcmpCode match ICMP fields.
func (m *MatchBuilder) IcmpType(t uint8) *MatchBuilder { return m.add("icmp_type=%d", t) }
func (m *MatchBuilder) IcmpCode(c uint8) *MatchBuilder { return m.add("icmp_code=%d", c) }

// CtState matches conntrack state flags, e.g. "+trk+est-rel".
func (m *MatchBuilder) CtState(s string) *MatchBuilder { return m.add("ct_state=%s", s) }

// CtZone / CtMark match conntrack zone and mark.
func (m *MatchBuilder) CtZone(z uint16) *MatchBuilder { return m.add("ct_zone=%d", z) }
func (m *MatchBuilder) CtMark(v, mask uint32) *MatchBuilder {
	return m.add("ct_mark=%#x/%#x", v, mask)
}

// Reg matches register n (0-15) under mask.
func (m *MatchBuilder) Reg(n int, v, mask uint32) *MatchBuilder {
	return m.add("reg%d=%#x/%#x", n, v, mask)
}

// Metadata matches the OpenFlow metadata field under mask.
func (m *MatchBuilder) Metadata(v, mask uint64) *MatchBuilder {
	return m.add("metadata=%#x/%#x", v, mask)
}

func prefix(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.Masked().String()
}
