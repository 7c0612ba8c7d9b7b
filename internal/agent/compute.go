package agent

import (
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/hoststate"
)

// HostConfig is what a host says about itself: its name, tunnel endpoint
// and the networking it can offer.
type HostConfig struct {
	Host           string
	LocalIP        netip.Addr
	TunnelTypes    []string
	BridgeMappings map[string]string
	// TunnelPorts is hoststate.TunnelPortsPerPeer ("" too) or TunnelPortsFlow
	// (`vland agent --tunnel-ports`, default flow).
	TunnelPorts string
}

// Compute returns the desired data plane of one host. It is pure: the same
// interfaces and snapshot always give the same State, which is what makes an
// agent restart or resync a no-op for traffic.
//
// Following Neutron's model, a port belongs to this host when an interface
// on br-int carries its id in external_ids:iface-id and the port is bound
// here: its binding:host_id names this host, or is empty (the agent then
// binds it here by reporting it). Neutron refuses to wire a VIF whose port
// is bound to another host, and so does vland: such an interface, one with
// an id unknown to the store, or a port whose network is not (yet) in the
// store is left out, so the data plane gives it the dead VLAN and no flows.
func Compute(h HostConfig, ifaces []hoststate.Interface, snap Snapshot) hoststate.State {
	st := hoststate.State{
		Host:           h.Host,
		LocalIP:        h.LocalIP,
		TunnelTypes:    slices.Clone(h.TunnelTypes),
		TunnelPorts:    h.TunnelPorts,
		BridgeMappings: maps.Clone(h.BridgeMappings),
		Networks:       map[string]hoststate.Network{},
		Ports:          map[string]hoststate.Port{},
	}
	for _, ifc := range ifaces {
		p, ok := snap.Ports[ifc.IfaceID]
		if !ok || !boundHere(h.Host, *p) {
			continue
		}
		n, ok := snap.Networks[p.NetworkID]
		if !ok {
			continue
		}
		st.Networks[n.ID] = toNetwork(n)
		st.Ports[p.ID] = toPort(*p, n)
	}
	st.Peers = peers(h.Host, st, snap)
	securityGroups(&st, snap)
	return st
}

// boundHere reports whether a port may be wired on host: bound to it, or
// not bound yet.
func boundHere(host string, p api.Port) bool {
	return p.BindingHostID == "" || p.BindingHostID == host
}

// peers lists the other hosts with ports on this host's tunnel networks,
// with their tunnel endpoint, sorted by host.
//
// A host whose agent is dead stays a peer while the store says it has
// ports: the agent's heartbeat says nothing about the host's Open vSwitch,
// which keeps forwarding while its agent restarts or after it crashed.
// Dropping the tunnel then would cut working traffic (measured: 40% loss
// of a 10/s ping across one graceful agent restart). A host leaves the
// peers when its ports go (deleted, or reported elsewhere) or when its
// agent record is deleted.
func peers(self string, st hoststate.State, snap Snapshot) []hoststate.Peer {
	byHost := map[string]map[string]bool{}
	ports := map[string][]hoststate.Port{}
	for _, p := range snap.Ports {
		n, ok := st.Networks[p.NetworkID]
		if !ok || !isTunnel(n.Type) {
			continue
		}
		if _, local := st.Ports[p.ID]; local {
			// Its VIF is here now, whatever an older record says.
			continue
		}
		host := snap.portHost(*p)
		if host == "" || host == self {
			continue
		}
		if byHost[host] == nil {
			byHost[host] = map[string]bool{}
		}
		byHost[host][n.ID] = true
		ports[host] = append(ports[host], toPort(*p, snap.Networks[p.NetworkID]))
	}
	var out []hoststate.Peer
	for host, nets := range byHost {
		agent, ok := snap.Agents[host]
		if !ok {
			continue // unknown or deleted host
		}
		ip, err := netip.ParseAddr(agent.Configurations.LocalIP)
		if err != nil {
			continue // no usable tunnel endpoint registered
		}
		ps := ports[host]
		sort.Slice(ps, func(i, j int) bool { return ps[i].ID < ps[j].ID })
		out = append(out, hoststate.Peer{Host: host, IP: ip, Networks: slices.Sorted(maps.Keys(nets)), Ports: ps})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out
}

func isTunnel(netType string) bool {
	switch netType {
	case api.NetworkTypeVXLAN, api.NetworkTypeGRE, api.NetworkTypeGeneve:
		return true
	}
	return false
}

func toNetwork(n api.Network) hoststate.Network {
	out := hoststate.Network{ID: n.ID, Type: n.NetworkType, MTU: n.MTU}
	if n.PhysicalNetwork != nil {
		out.PhysicalNetwork = *n.PhysicalNetwork
	}
	if n.SegmentationID != nil {
		out.SegmentationID = *n.SegmentationID
	}
	return out
}

// toPort converts a port of network n. As in Neutron's OVS agent, a port on
// an administratively down network is down too. Addresses that do not parse
// are skipped: the server validates them, and the agent must not fail on one.
func toPort(p api.Port, n api.Network) hoststate.Port {
	mac := strings.ToLower(p.MACAddress)
	out := hoststate.Port{
		ID:           p.ID,
		NetworkID:    p.NetworkID,
		MAC:          mac,
		PortSecurity: p.PortSecurityEnabled,
		DeviceOwner:  p.DeviceOwner,
		AdminStateUp: p.AdminStateUp && n.AdminStateUp,
	}
	if filtered(p) {
		out.Filtered = true
		out.SecurityGroups = slices.Sorted(slices.Values(p.SecurityGroups))
	}
	for _, f := range p.FixedIPs {
		if a, err := netip.ParseAddr(f.IPAddress); err == nil {
			out.IPs = append(out.IPs, a)
		}
	}
	for _, ap := range p.AllowedAddressPairs {
		pfx, ok := parsePrefix(ap.IPAddress)
		if !ok {
			continue
		}
		pm := strings.ToLower(ap.MACAddress)
		if pm == "" {
			pm = mac
		}
		out.AllowedAddressPairs = append(out.AllowedAddressPairs, hoststate.AddressPair{Prefix: pfx, MAC: pm})
	}
	return out
}

// parsePrefix accepts a CIDR or a bare address (as a host prefix).
func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err == nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}
