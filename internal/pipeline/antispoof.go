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
// ARP (24) and MAC (25) anti-spoofing tables.
func portFlows(s hoststate.State, pm PortMap) []Flow {
	ids := make([]string, 0, len(s.Ports))
	for id := range s.Ports {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []Flow
	for _, id := range ids {
		p := s.Ports[id]
		of, ok := wiredPort(s, pm, p)
		if !ok {
			continue
		}
		if Trusted(p) {
			out = append(out, on(IntClassifier, OwnerPort).prio(9).match(inPort(of)).do(resubmit(IntTransient)))
			continue
		}
		out = append(out, antiSpoofFlows(p, of)...)
	}
	return out
}

// antiSpoofFlows: ARP must carry one of the port's IPs (fixed or allowed
// pair) as sender; IPv6 neighbour advertisements one as target; every frame
// must carry the port MAC or an allowed-pair MAC.
func antiSpoofFlows(p hoststate.Port, of int) []Flow {
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
	for _, mac := range portMACs(p) {
		out = append(out, on(IntMACSpoof, OwnerPort).prio(2).match(in, "dl_src="+mac).do(resubmit(IntTransient)))
	}
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
