package pipeline

import (
	"sort"

	"github.com/vland/vland/internal/hoststate"
)

// tunnelFlows are br-tun's per-tunnel and per-network flows: tunnel ports
// to their type's table, tunnel id to local VLAN (3/4/6), and flooding of
// the local VLAN to the peers that have ports on the network (22).
func tunnelFlows(s hoststate.State, pm PortMap) []Flow {
	var out []Flow
	if s.FlowTunnels() {
		out = append(out, flowTunnelClassifier(s, pm)...)
	}
	for _, tp := range TunnelPorts(s) {
		of := pm.Tunnels[tp.Name]
		t, _ := tunnelTable(tp.Type)
		if of > 0 && !s.FlowTunnels() {
			out = append(out, on(TunClassifier, OwnerTunnel).prio(1).match(inPort(of)).do(resubmit(t)))
		}
	}
	for _, id := range sortedNetworkIDs(s) {
		n := s.Networks[id]
		vlan := pm.LocalVLANs[id]
		t, ok := tunnelTable(n.Type)
		if !ok || vlan <= 0 || !hasType(s, n.Type) {
			continue
		}
		out = append(out, on(t, OwnerTunnel).prio(1).match(tunID(n.SegmentationID)).
			do(modVLAN(vlan), resubmit(TunLearn)))
		if f, ok := floodFlow(s, pm, n, vlan); ok {
			out = append(out, f)
		}
	}
	return out
}

// floodFlow sends broadcast and unknown unicast of one network to the
// tunnels of the peers with ports on it, and nowhere else.
func floodFlow(s hoststate.State, pm PortMap, n hoststate.Network, vlan int) (Flow, bool) {
	var outs []string // per peer: [set_field:IP->tun_dst,]output:T
	for _, p := range s.Peers {
		if !p.IP.IsValid() || p.IP == s.LocalIP || !containsString(p.Networks, n.ID) {
			continue
		}
		of, dst := tunnelPortFor(s, pm, n.Type, p.IP)
		if of <= 0 {
			continue
		}
		o := output(of)
		if dst != "" {
			o = dst + "," + o
		}
		if !containsString(outs, o) {
			outs = append(outs, o)
		}
	}
	if len(outs) == 0 {
		return Flow{}, false
	}
	sort.Strings(outs)
	acts := append([]string{"strip_vlan", loadTunID(n.SegmentationID)}, outs...)
	return on(TunFlood, OwnerTunnel).prio(1).match(dlVLAN(vlan)).do(acts...), true
}

// flowTunnelClassifier: with one flow-based port per type, any remote
// could send to it; table 0 accepts only the peers that share a network
// of that type with this host, by tunnel source address, as per-peer
// ports do by existing.
func flowTunnelClassifier(s hoststate.State, pm PortMap) []Flow {
	var out []Flow
	seen := map[string]bool{}
	for _, p := range s.Peers {
		if !p.IP.IsValid() || p.IP == s.LocalIP {
			continue
		}
		for _, netID := range p.Networks {
			n, ok := s.Networks[netID]
			t, isTun := tunnelTable(n.Type)
			if !ok || !isTun || !hasType(s, n.Type) {
				continue
			}
			of := pm.Tunnels[FlowTunnelPortName(n.Type)]
			src := "tun_src=" + p.IP.String()
			if p.IP.Is6() {
				src = "tun_ipv6_src=" + p.IP.String()
			}
			key := n.Type + src
			if of <= 0 || seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, on(TunClassifier, OwnerTunnel).prio(1).match(inPort(of), src).do(resubmit(t)))
		}
	}
	return out
}

func hasType(s hoststate.State, t string) bool { return containsString(s.TunnelTypes, t) }

func sortedNetworkIDs(s hoststate.State) []string {
	ids := make([]string, 0, len(s.Networks))
	for id := range s.Networks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func containsString(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
