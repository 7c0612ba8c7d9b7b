package pipeline

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/vland/vland/internal/hoststate"
)

// wiredPort returns the ofport of a port Build gives flows to: plugged into
// br-int, its network has a local VLAN, admin state up. Other ports have no
// classifier flow, so table 0 drops what they send.
func wiredPort(s hoststate.State, pm PortMap, p hoststate.Port) (int, bool) {
	of := pm.Ports[p.ID]
	if of <= 0 || !p.AdminStateUp {
		return 0, false
	}
	if _, ok := s.Networks[p.NetworkID]; !ok {
		return 0, false
	}
	if pm.LocalVLANs[p.NetworkID] <= 0 {
		return 0, false
	}
	return of, true
}

// Trusted reports whether a port skips anti-spoofing: port security off, or
// owned by a network service (DHCP, router), as Neutron treats them.
func Trusted(p hoststate.Port) bool {
	return !p.PortSecurity || strings.HasPrefix(p.DeviceOwner, "network:")
}

// portFlows are br-int's per-port flows: table 0 classification, the ARP
// (24) and IP source (25) anti-spoofing tables, and each port's delivery
// and firewall flows (firewall.go).
func portFlows(s hoststate.State, pm PortMap) []Flow {
	ids := make([]string, 0, len(s.Ports))
	for id := range s.Ports {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []Flow
	fc, conj, sets := newFlowCollector(), newConjIDs(s), newGroupSets(s, pm)
	for _, id := range ids {
		p := s.Ports[id]
		of, ok := wiredPort(s, pm, p)
		if !ok {
			continue
		}
		lv := pm.LocalVLANs[p.NetworkID]
		// Every table-0 flow of a port matches untagged frames only: a VM
		// port is an access port, and a frame it sends with an 802.1Q
		// header could carry another network's local VLAN, should OVS
		// ever treat the port as a trunk (its tag missing). Tagged frames
		// fall to the table's miss: drop, whatever the port's security.
		in := []string{inPort(of), vlanUntagged}
		zone := sprintf("load:%d->%s", lv, regZone)
		if Trusted(p) {
			// reg6 lets table 60 steer its unicast to filtered ports.
			out = append(out, on(IntClassifier, OwnerPort).prio(9).match(in...).do(zone, resubmit(IntTransient)))
			directFlows(p, of, lv, fc)
			continue
		}
		load := []string{zone}
		if filteredPort(p) {
			// reg7: the port's group set, whose egress rules apply (72).
			load = append(load, sprintf("load:%#x->%s", sets.id(p), regSet))
			firewallPortFlows(s, p, of, lv, sets.id(p), fc)
		} else {
			directFlows(p, of, lv, fc)
		}
		out = append(out, antiSpoofFlows(p, of, load)...)
	}
	firewallSetFlows(s, sets, fc, conj)
	return append(out, fc.list()...)
}

// vlanUntagged matches frames without an 802.1Q header (the CFI/present
// bit of the TCI clear): Neutron drops tagged frames from access ports.
const vlanUntagged = "vlan_tci=0x0000/0x1000"

// antiSpoofFlows are a port's own anti-spoofing flows, as Neutron's
// firewall base egress table checks: in table 0 the frame must come from
// the port MAC or an allowed-pair MAC (one flow per MAC, which also loads
// the port's registers); ARP must carry one of the port's IPs (fixed or
// allowed pair) as sender and, for a port with IPv6 addresses, IPv6
// neighbour advertisements one as target (24); IPv4 and IPv6 must come
// from an address that goes with the frame's MAC (25). What needs no
// address (DHCP discover from 0.0.0.0, IPv6 link-local sources, DAD and
// MLD from the unspecified address) passes 25 by shared flows
// (antiSpoofBaseFlows): the MAC was checked in table 0, and only frames
// of this port's table-0 flows reach 24 and 25. Other ethertypes drop, as
// in Neutron with no permitted_ethertypes.
func antiSpoofFlows(p hoststate.Port, of int, load []string) []Flow {
	in := inPort(of)
	next := resubmit(IntBaseEgress)
	var out []Flow
	for _, mac := range portMACs(p) {
		out = append(out, on(IntClassifier, OwnerPort).prio(9).match(in, "dl_src="+mac, vlanUntagged).
			do(append(slices.Clone(load), resubmit(IntARPSpoof))...))
	}
	v4, v6 := portPrefixes(p)
	for _, pfx := range v4 {
		out = append(out, on(IntARPSpoof, OwnerPort).prio(2).match("arp", in, "arp_spa="+prefixText(pfx)).do(next))
	}
	if len(v6) > 0 {
		// Its neighbour advertisements must name one of its addresses
		// (a port without IPv6 addresses is not checked: link-local only).
		out = append(out, on(IntARPSpoof, OwnerPort).prio(1).match("icmp6", in, "icmp_type=136").do(actDrop))
	}
	for _, pfx := range v6 {
		out = append(out, on(IntARPSpoof, OwnerPort).prio(2).match("icmp6", in, "icmp_type=136", "nd_target="+prefixText(pfx)).do(resubmit(IntMACSpoof)))
	}
	for _, a := range portSources(p) {
		if a.prefix.Addr().Is4() {
			out = append(out, on(IntMACSpoof, OwnerPort).prio(2).match("ip", in, "dl_src="+a.mac, "nw_src="+prefixText(a.prefix)).do(next))
		} else {
			out = append(out, on(IntMACSpoof, OwnerPort).prio(2).match("ipv6", in, "dl_src="+a.mac, "ipv6_src="+prefixText(a.prefix)).do(next))
		}
	}
	return out
}

// antiSpoofBaseFlows are the port-independent flows of 24 and 25: ARP
// whose sender no port flow accepted drops; what needs no address passes.
func antiSpoofBaseFlows() []Flow {
	next := resubmit(IntBaseEgress)
	out := []Flow{
		on(IntARPSpoof, OwnerBase).prio(1).match("arp").do(actDrop),
		on(IntMACSpoof, OwnerBase).prio(2).match("udp", "nw_src=0.0.0.0", "tp_src=68", "tp_dst=67").do(next),
		on(IntMACSpoof, OwnerBase).prio(2).match("ipv6", "ipv6_src=fe80::/64").do(next),
	}
	for _, typ := range dadICMPv6Types {
		out = append(out, on(IntMACSpoof, OwnerBase).prio(2).match("icmp6", "ipv6_src=::", sprintf("icmp_type=%d", typ)).do(next))
	}
	return out
}

// dadICMPv6Types are what an IPv6 host sends from the unspecified address
// before it owns one: neighbour solicitations of duplicate address
// detection and the MLDv2 reports that join their multicast group.
var dadICMPv6Types = []int{135, 143}

// source is a (MAC, IP prefix) a port may send IP from.
type source struct {
	mac    string
	prefix netip.Prefix
}

// portSources pairs the port MAC with its fixed IPs and each allowed pair's
// MAC with its prefix, deduplicated and sorted.
func portSources(p hoststate.Port) []source {
	var out []source
	add := func(mac string, pfx netip.Prefix) {
		if !pfx.IsValid() {
			return
		}
		a := pfx.Addr().Unmap()
		s := source{mac: strings.ToLower(mac), prefix: netip.PrefixFrom(a, min(pfx.Bits(), a.BitLen())).Masked()}
		if s.mac != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, ip := range p.IPs {
		add(p.MAC, netip.PrefixFrom(ip, ip.BitLen()))
	}
	for _, ap := range p.AllowedAddressPairs {
		add(ap.MAC, ap.Prefix)
	}
	slices.SortFunc(out, func(a, b source) int {
		if c := strings.Compare(a.mac, b.mac); c != 0 {
			return c
		}
		if c := a.prefix.Addr().Compare(b.prefix.Addr()); c != 0 {
			return c
		}
		return a.prefix.Bits() - b.prefix.Bits()
	})
	return out
}

// portPrefixes returns the port's fixed IPs and allowed pairs, per family,
// deduplicated and sorted.
func portPrefixes(p hoststate.Port) (v4, v6 []netip.Prefix) {
	seen := map[netip.Prefix]bool{}
	add := func(pfx netip.Prefix) {
		if !pfx.IsValid() {
			return
		}
		pfx = pfx.Masked()
		if seen[pfx] {
			return
		}
		seen[pfx] = true
		if pfx.Addr().Is4() {
			v4 = append(v4, pfx)
		} else {
			v6 = append(v6, pfx)
		}
	}
	for _, ip := range p.IPs {
		add(netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
	}
	for _, ap := range p.AllowedAddressPairs {
		add(netip.PrefixFrom(ap.Prefix.Addr().Unmap(), min(ap.Prefix.Bits(), ap.Prefix.Addr().Unmap().BitLen())))
	}
	cmp := func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	}
	slices.SortFunc(v4, cmp)
	slices.SortFunc(v6, cmp)
	return v4, v6
}

// prefixText writes a host prefix as a bare address, like Neutron's flows.
func prefixText(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// portMACs returns the port MAC and allowed-pair MACs, lower case, sorted.
func portMACs(p hoststate.Port) []string {
	var out []string
	add := func(m string) {
		m = strings.ToLower(m)
		if m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	add(p.MAC)
	for _, ap := range p.AllowedAddressPairs {
		add(ap.MAC)
	}
	sort.Strings(out)
	return out
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
