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
	for _, tp := range TunnelPorts(s) {
		of := pm.Tunnels[tp.Name]
		t, _ := tunnelTable(tp.Type)
		if of > 0 {
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
	var ports []int
	for _, p := range s.Peers {
		if !p.IP.IsValid() || p.IP == s.LocalIP || !containsString(p.Networks, n.ID) {
			continue
		}
		if of := pm.Tunnels[TunnelPortName(n.Type, p.IP)]; of > 0 && !containsInt(ports, of) {
			ports = append(ports, of)
		}
	}
	if len(ports) == 0 {
		return Flow{}, false
	}
	sort.Ints(ports)
	acts := []string{"strip_vlan", loadTunID(n.SegmentationID)}
	for _, of := range ports {
		acts = append(acts, output(of))
	}
	return on(TunFlood, OwnerTunnel).prio(1).match(dlVLAN(vlan)).do(acts...), true
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

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
