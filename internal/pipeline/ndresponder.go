package pipeline

import (
	"net/netip"
	"strings"
)

// The IPv6 counterpart of the ARP responder (l2population): a neighbour
// solicitation for a remote port's IPv6 address (fixed IP or single-IP
// allowed address pair) is turned into the neighbour advertisement the
// port would send, in br-tun, and goes back to br-int instead of across the
// tunnels.
//
// OVS cannot set nd_tll on a flow whose match says "solicitation"
// (nd_tll's prerequisite is icmpv6_type=136, checked against the match
// when the flow is added), so an answer takes two passes through table 21:
//   - per address, priority 1: the solicitation becomes an advertisement
//     (addresses swapped, type 136, flags, option type 2) and is
//     resubmitted to 21;
//   - once, priority 1: an advertisement (only ever one made in the first
//     pass: table 2 sends no advertisement here) gets its target
//     link-layer address from its new source MAC and leaves by IN_PORT.
//
// Solicitations without a source link-layer option are left to flooding
// (priority 2): duplicate address detection (from ::, answered to
// ff02::1 and without S) and the rare solicitation without the option,
// whose rewrite would have no option to turn into the target's.
//
// Neither the kernel nor the userspace datapath has an action that sets
// ICMPv6 or ND fields: ovs-vswitchd executes these flows in userspace
// (slow path), as it does the ARP responder's ARP rewrites. The ICMPv6
// checksum is recomputed there (docs/pipeline.md has the evidence).

// Neighbour advertisement flags in nd_reserved (RFC 4861 4.4).
const (
	ndRouter    = 0x80000000
	ndSolicited = 0x40000000
	ndOverride  = 0x20000000
)

// ndBaseFlows send multicast solicitations from br-int to table 21 and
// finish the advertisements its per-address flows start.
func ndBaseFlows() []Flow {
	return []Flow{
		on(TunPatchLVToTun, OwnerBase).prio(1).match("icmp6", "dl_dst=33:33:ff:00:00:00/ff:ff:ff:00:00:00", "icmp_type=135").
			do(resubmit(TunARPResponder)),
		on(TunARPResponder, OwnerBase).prio(2).match("icmp6", "icmp_type=135", "nd_sll=00:00:00:00:00:00").
			do(resubmit(TunFlood)),
		on(TunARPResponder, OwnerBase).prio(1).match("icmp6", "icmp_type=136").
			do("move:NXM_OF_ETH_SRC[]->NXM_NX_ND_TLL[]", "IN_PORT"),
	}
}

// ndAnswer answers solicitations for ip, owned by the remote port with
// mac, on the network with local VLAN vlan. router sets the R flag, so a
// VM keeps a router's address marked as a router (RFC 4861 7.2.5).
func ndAnswer(vlan int, ip netip.Addr, mac string, router bool) Flow {
	return on(TunARPResponder, OwnerTunnel).prio(1).
		match("icmp6", dlVLAN(vlan), "icmp_type=135", "nd_target="+ip.String()).
		do(ndAdvert(ip, mac, router))
}

// ndAdvert turns a solicitation for ip into the first half of its answer,
// from mac (ndBaseFlows has the second): back to the solicitor's MAC and
// address, from the target's, type 136, solicited and override (and
// router) flags, the option a target link-layer one.
func ndAdvert(ip netip.Addr, mac string, router bool) string {
	flags := uint32(ndSolicited | ndOverride)
	if router {
		flags |= ndRouter
	}
	return strings.Join([]string{
		"move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]",
		"mod_dl_src:" + mac,
		"move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[]",
		"set_field:" + ip.String() + "->ipv6_src",
		"set_field:136->icmpv6_type",
		sprintf("set_field:%d->nd_reserved", flags),
		"set_field:2->nd_options_type",
		resubmit(TunARPResponder),
	}, ",")
}

// isRouterPort reports whether a port with this device owner is a router's
// interface, whose advertisements carry the R flag.
func isRouterPort(owner string) bool {
	return strings.HasPrefix(owner, "network:router_interface") || owner == "network:ha_router_replicated_interface"
}

// answerable reports whether the responder may answer for ip: any IPv4
// address, and IPv6 unicast ones a port can own (not link-local: Neutron
// never lists those, and a VM's own is derived on the VM).
func answerable(ip netip.Addr) bool {
	if ip.Is4() {
		return true
	}
	return ip.Is6() && !ip.Is4In6() && ip.IsGlobalUnicast()
}
