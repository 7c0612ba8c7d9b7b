package l3

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
)

// NAT is decided on a connection's first packet and kept in conntrack, so
// when a floating address changes hands (associated, moved, disassociated,
// forwardings changed), the router forgets that address's connections:
// inbound ones to it and outbound ones translated to it. Without this, a
// client that kept probing the address while it was unassociated (a ping
// keeps one ICMP id) would stay untranslated until its entry expired. An
// agent restart flushes nothing (see apply).
func flushConntrack(nsPath string, addrs []netip.Addr) error {
	if len(addrs) == 0 {
		return nil
	}
	nsh, err := vnetns.GetFromPath(nsPath)
	if err != nil {
		return fmt.Errorf("l3: conntrack: %w", err)
	}
	defer nsh.Close()
	h, err := netlink.NewHandleAt(nsh)
	if err != nil {
		return fmt.Errorf("l3: conntrack: %w", err)
	}
	defer h.Close()
	var filters []netlink.CustomConntrackFilter
	for _, a := range addrs {
		for _, tp := range []netlink.ConntrackFilterType{netlink.ConntrackOrigDstIP, netlink.ConntrackReplyDstIP} {
			f := &netlink.ConntrackFilter{}
			if err := f.AddIP(tp, a.AsSlice()); err != nil {
				return fmt.Errorf("l3: conntrack: %w", err)
			}
			filters = append(filters, f)
		}
	}
	if _, err := h.ConntrackDeleteFilters(netlink.ConntrackTable, netlink.FAMILY_V4, filters...); err != nil {
		return fmt.Errorf("l3: conntrack flush %v: %w", addrs, err)
	}
	return nil
}

// changedFloating lists the floating addresses whose translation differs
// between two NAT states.
func changedFloating(old, cur NAT) []netip.Addr {
	m := func(n NAT) map[netip.Addr]string {
		out := map[netip.Addr]string{}
		for _, f := range n.FIPs {
			out[f.Floating] += "fip " + f.Fixed.String() + ";"
		}
		for _, f := range n.Forwards {
			out[f.Floating] += fmt.Sprintf("%s %d-%d %s %d-%d;", f.Protocol, f.ExtLo, f.ExtHi, f.Internal, f.IntLo, f.IntHi)
		}
		return out
	}
	o, c := m(old), m(cur)
	var out []netip.Addr
	for a, v := range o {
		if c[a] != v {
			out = append(out, a)
		}
	}
	for a := range c {
		if _, ok := o[a]; !ok {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}
