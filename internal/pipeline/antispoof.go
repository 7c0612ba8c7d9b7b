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

// portFlows are br-int's per-port flows: table 0 classification and the
// ARP (24) and MAC/IP source (25) anti-spoofing tables.
func portFlows(s hoststate.State, pm PortMap) []Flow {
	ids := make([]string, 0, len(s.Ports))
	for id := range s.Ports {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []Flow
	fc, conj := newFlowCollector(), newConjIDs(s)
	for _, id := range ids {
		p := s.Ports[id]
		of, ok := wiredPort(s, pm, p)
		if !ok {
			continue
		}
		lv := pm.LocalVLANs[p.NetworkID]
		// A port is an access port: a frame it sends with an 802.1Q header
		// could carry another network's local VLAN, should OVS ever treat
		// the port as a trunk (its tag missing). Drop it first, whatever
		// the port's security.
		out = append(out, on(IntClassifier, OwnerPort).prio(11).match(inPort(of), vlanTagged).do(actDrop))
		if Trusted(p) {
			// reg6 lets table 60 steer its unicast to filtered ports.
			out = append(out, on(IntClassifier, OwnerPort).prio(9).match(inPort(of)).
				do(sprintf("load:%d->%s", lv, regZone), resubmit(IntTransient)))
			directFlows(p, of, lv, fc)
			continue
		}
		out = append(out, antiSpoofFlows(p, of, egressNext(p, lv))...)
		if filteredPort(p) {
			firewallPortFlows(s, p, of, lv, fc, conj)
		} else {
			directFlows(p, of, lv, fc)
		}
	}
	firewallConjFlows(s, fc, conj)
	return append(out, fc.list()...)
}

// vlanTagged matches frames that carry an 802.1Q header (the CFI/present
// bit of the TCI), as Neutron's drop of tagged frames from access ports.
const vlanTagged = "vlan_tci=0x1000/0x1000"

// antiSpoofFlows: ARP must carry one of the port's IPs (fixed or allowed
// pair) as sender and IPv6 neighbour advertisements one as target (24);
// then (25) every frame must come from the port MAC or an allowed-pair
// MAC, IPv4 and IPv6 from an address that goes with that MAC, as Neutron's
// firewall base egress table does. Allowed without an address: DHCP
// discover/request from 0.0.0.0, IPv6 link-local sources and DAD/MLD from
// the unspecified address. Other ethertypes drop, as in Neutron with no
// permitted_ethertypes.
func antiSpoofFlows(p hoststate.Port, of int, next string) []Flow {
	in := inPort(of)
	out := []Flow{
		on(IntClassifier, OwnerPort).prio(10).match("arp", in).do(resubmit(IntARPSpoof)),
		on(IntClassifier, OwnerPort).prio(9).match(in).do(resubmit(IntMACSpoof)),
	}
	v4, v6 := portPrefixes(p)
	for _, pfx := range v4 {
		out = append(out, on(IntARPSpoof, OwnerPort).prio(2).match("arp", in, "arp_spa="+prefixText(pfx)).do(resubmit(IntMACSpoof)))
	}
	if len(v6) > 0 {
		out = append(out, on(IntClassifier, OwnerPort).prio(10).match("icmp6", in, "icmp_type=136").do(resubmit(IntARPSpoof)))
	}
	for _, pfx := range v6 {
		out = append(out, on(IntARPSpoof, OwnerPort).prio(2).match("icmp6", in, "icmp_type=136", "nd_target="+prefixText(pfx)).do(resubmit(IntMACSpoof)))
	}
	src := func(proto string, match ...string) {
		out = append(out, on(IntMACSpoof, OwnerPort).prio(2).match(append([]string{proto, in}, match...)...).do(next))
	}
	for _, mac := range portMACs(p) {
		dl := "dl_src=" + mac
		src("arp", dl) // its sender address was checked in 24
		src("udp", dl, "nw_src=0.0.0.0", "tp_src=68", "tp_dst=67")
		src("ipv6", dl, "ipv6_src=fe80::/64")
		for _, typ := range dadICMPv6Types {
			src("icmp6", dl, "ipv6_src=::", sprintf("icmp_type=%d", typ))
		}
	}
	for _, a := range portSources(p) {
		if a.prefix.Addr().Is4() {
			src("ip", "dl_src="+a.mac, "nw_src="+prefixText(a.prefix))
		} else {
			src("ipv6", "dl_src="+a.mac, "ipv6_src="+prefixText(a.prefix))
		}
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
