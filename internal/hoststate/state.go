// Package hoststate is what one host's data plane should look like, as plain
// data. The agent computes a State from the store; the data plane
// (internal/dataplane) makes Open vSwitch match it. Keeping this pure makes
// restart, resync and tests all the same operation: compute, then apply.
package hoststate

import "net/netip"

// State is the desired data plane of one host.
type State struct {
	Host        string
	LocalIP     netip.Addr
	TunnelTypes []string // "vxlan", "gre", "geneve": tunnel ports this host may create
	// TunnelPorts is TunnelPortsPerPeer ("" too) or TunnelPortsFlow.
	TunnelPorts string
	// BridgeMappings maps a physical network name to its provider bridge.
	BridgeMappings map[string]string
	// Networks that have at least one port bound on this host, by id.
	Networks map[string]Network
	// Ports whose OVS interface (external_ids:iface-id) is on this host,
	// that exist in the store and are bound here (binding:host_id this host
	// or empty), by port id.
	Ports map[string]Port
	// Peers are the other hosts with ports on this host's tunnel networks.
	Peers []Peer
}

// Tunnel port modes: one br-tun port per peer and type (Neutron's, seeds
// 000/001), or one per type with remote_ip=flow and tun_dst set per flow.
const (
	TunnelPortsPerPeer = "per-peer"
	TunnelPortsFlow    = "flow"
)

// FlowTunnels reports whether the state uses one flow-based port per type.
func (s State) FlowTunnels() bool { return s.TunnelPorts == TunnelPortsFlow }

// Network is the part of a network the data plane needs.
type Network struct {
	ID              string
	Type            string // api.NetworkType*
	PhysicalNetwork string // flat and vlan only
	SegmentationID  int    // VNI, GRE key or VLAN id; 0 for flat/local
	MTU             int
}

// Port is one bound port.
type Port struct {
	ID                  string
	NetworkID           string
	MAC                 string
	IPs                 []netip.Addr
	PortSecurity        bool
	AllowedAddressPairs []AddressPair
	DeviceOwner         string
	AdminStateUp        bool
}

// AddressPair is an extra (IP or prefix, MAC) a port may send from. MAC is
// the port's own MAC when the API left it empty.
type AddressPair struct {
	Prefix netip.Prefix
	MAC    string
}

// Peer is another host, with the tunnel networks it has ports on.
type Peer struct {
	Host     string
	IP       netip.Addr
	Networks []string // network ids, sorted
	// Ports are its ports on those networks, sorted by id: l2population
	// (unicast flows and the ARP responder in br-tun) is built from them.
	Ports []Port
}

// Interface is an OVS interface on br-int carrying external_ids:iface-id,
// as the data plane reports it to the agent.
type Interface struct {
	Name    string
	IfaceID string
	MAC     string
	OFPort  int
}

// PortResult is what applying a State did to one port.
type PortResult struct {
	PortID    string
	LocalVLAN int
	Bound     bool // wired with its flows: the agent reports it ACTIVE
}
