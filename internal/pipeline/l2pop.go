package pipeline

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/vland/vland/internal/hoststate"
)

// l2popFlows are l2population's flows in br-tun, as Neutron's l2pop
// mechanism driver and ARP responder make them: for every port of a peer
// on one of this host's tunnel networks,
//   - table 20, priority 2 (above learned flows): its MAC to its host's
//     tunnel with the network's tunnel id, so unicast to it never floods;
//   - table 21: ARP requests for its IPv4 addresses, and neighbour
//     solicitations for its IPv6 ones (ndresponder.go), are answered here,
//     so resolving it sends no broadcast or multicast across the fabric.
//
// Ports on this host are left out: br-int already reaches them, and they
// answer ARP themselves. A MAC or an IP claimed by more than one host (a
// port moving, a shared VIP in allowed address pairs) is left out too: it
// falls back to learning and flooding, which stay correct.
func l2popFlows(s hoststate.State, pm PortMap) []Flow {
	// Broadcast ARP from br-int is offered to the responder first; what it
	// does not know goes on to flooding (table 21's miss).
	out := []Flow{on(TunPatchLVToTun, OwnerBase).prio(1).match("arp", "dl_dst=ff:ff:ff:ff:ff:ff").do(resubmit(TunARPResponder))}
	out = append(out, ndBaseFlows()...)
	for _, id := range sortedNetworkIDs(s) {
		n := s.Networks[id]
		vlan := pm.LocalVLANs[id]
		if !IsTunnelType(n.Type) || vlan <= 0 || !hasType(s, n.Type) {
			continue
		}
		macs, ips := remoteAddrs(s, pm, n)
		for _, mac := range sortedKeys(macs) {
			if to := macs[mac]; to.of > 0 {
				acts := []string{"strip_vlan", loadTunID(n.SegmentationID)}
				if to.dst != "" {
					acts = append(acts, to.dst)
				}
				out = append(out, on(TunUcast, OwnerTunnel).prio(2).match(dlVLAN(vlan), "dl_dst="+mac).
					do(append(acts, output(to.of))...))
			}
		}
		for _, ip := range sortedKeys(ips) {
			nb := ips[ip]
			switch a := netip.MustParseAddr(ip); {
			case nb.mac == "": // ambiguous: left to flooding
			case a.Is4():
				out = append(out, on(TunARPResponder, OwnerTunnel).prio(1).
					match("arp", dlVLAN(vlan), "arp_op=1", "arp_tpa="+ip).do(arpReply(nb.mac, ip)))
			default:
				out = append(out, ndAnswer(vlan, a, nb.mac, nb.router))
			}
		}
	}
	return out
}

// tunnelTo is how to reach a remote MAC: the tunnel port and, with
// flow-based ports, the action setting the peer's address.
type tunnelTo struct {
	of  int
	dst string
}

// neighbour is who owns a remote IP address: its MAC, and whether it is a
// router's interface (IPv6 advertisements then carry the R flag).
type neighbour struct {
	mac    string
	router bool
}

// remoteAddrs returns, for network n, the tunnel of every remote MAC and
// the owner of every remote IPv4 and IPv6 address. An ambiguous entry
// (claimed by two hosts or MACs, or also by a local port) maps to the zero
// tunnelTo or neighbour.
func remoteAddrs(s hoststate.State, pm PortMap, n hoststate.Network) (map[string]tunnelTo, map[string]neighbour) {
	macs, ips := map[string]tunnelTo{}, map[string]neighbour{}
	addMAC := func(mac string, of tunnelTo) {
		hw, err := net.ParseMAC(mac)
		if err != nil || len(hw) != 6 {
			return // the server validates; never let one bad MAC break br-tun's bundle
		}
		mac = hw.String()
		if old, ok := macs[mac]; ok && old != of {
			of = tunnelTo{}
		}
		macs[mac] = of
	}
	addIP := func(ip netip.Addr, mac string, router bool) {
		hw, err := net.ParseMAC(mac)
		if !answerable(ip) || err != nil || len(hw) != 6 {
			return
		}
		nb := neighbour{mac: hw.String(), router: router}
		k := ip.String()
		if old, ok := ips[k]; ok {
			nb.router = nb.router || old.router
			if old.mac != nb.mac {
				nb = neighbour{}
			}
		}
		ips[k] = nb
	}
	for _, p := range s.Peers {
		port, dst := tunnelPortFor(s, pm, n.Type, p.IP)
		of := tunnelTo{of: port, dst: dst}
		if port <= 0 || p.IP == s.LocalIP {
			continue
		}
		for _, rp := range p.Ports {
			if rp.NetworkID != n.ID || !rp.AdminStateUp || rp.MAC == "" {
				continue
			}
			addMAC(rp.MAC, of)
			for _, ip := range rp.IPs {
				addIP(ip, rp.MAC, isRouterPort(rp.DeviceOwner))
			}
			for _, ap := range rp.AllowedAddressPairs {
				addMAC(ap.MAC, of)
				if ap.Prefix.IsSingleIP() {
					addIP(ap.Prefix.Addr(), ap.MAC, false)
				}
			}
		}
	}
	// What a local port owns is answered by that port, never by a tunnel.
	for _, lp := range s.Ports {
		if lp.NetworkID != n.ID {
			continue
		}
		if _, ok := macs[lp.MAC]; ok {
			macs[lp.MAC] = tunnelTo{}
		}
		for _, ip := range lp.IPs {
			delete(ips, ip.String())
		}
		for _, ap := range lp.AllowedAddressPairs {
			if _, ok := macs[ap.MAC]; ok {
				macs[ap.MAC] = tunnelTo{}
			}
			for ip := range ips {
				if a, err := netip.ParseAddr(ip); err == nil && ap.Prefix.Contains(a) {
					delete(ips, ip)
				}
			}
		}
	}
	return macs, ips
}

// arpReply is Neutron's ARP responder (ovs_lib ARP_RESPONDER_ACTIONS): turn
// the request into the reply in place and send it back where it came from.
func arpReply(mac, ip string) string {
	a := netip.MustParseAddr(ip).As4()
	return strings.Join([]string{
		"move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]",
		"mod_dl_src:" + mac,
		"load:0x2->NXM_OF_ARP_OP[]",
		"move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]",
		"move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]",
		"load:0x" + strings.ReplaceAll(mac, ":", "") + "->NXM_NX_ARP_SHA[]",
		fmt.Sprintf("load:%#x->NXM_OF_ARP_SPA[]", uint32(a[0])<<24|uint32(a[1])<<16|uint32(a[2])<<8|uint32(a[3])),
		"IN_PORT",
	}, ",")
}
