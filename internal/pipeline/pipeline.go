// Package pipeline is vland's OpenFlow pipeline on one host: which flows
// br-int, br-tun and the provider bridges must hold for a hoststate.State.
// It is pure: tables are declared once (tables.go), cookies once
// (cookie.go), and each feature (classifier/anti-spoofing, local VLANs,
// tunnels, provider bridges) adds its flows in its own file. The data plane
// (internal/dataplane) gathers the OVS facts it needs into a PortMap and
// installs what Build returns.
package pipeline

import (
	"sort"

	"github.com/vland/vland/internal/hoststate"
)

// PortMap is what OVS assigned that flows refer to: OpenFlow port numbers
// and local VLANs. A zero ofport means "not there (yet)": flows needing it
// are left out, so Build never emits a flow to a wrong port.
type PortMap struct {
	// Ports are the ofports on br-int of bound ports, by port id.
	Ports map[string]int
	// LocalVLANs are the br-int tags of networks, by network id.
	LocalVLANs map[string]int
	// PatchTun is br-int's end of the br-int/br-tun patch, PatchInt br-tun's.
	PatchTun, PatchInt int
	// Tunnels are br-tun tunnel ports by name (TunnelPortName).
	Tunnels map[string]int
	// Providers are the provider bridge patches, by physical network.
	Providers map[string]ProviderPorts
}

// ProviderPorts are the two ends of the patch between br-int and one
// provider bridge: int-<bridge> on br-int, phy-<bridge> on the bridge.
type ProviderPorts struct {
	Bridge  string
	IntPort int // int-br-ex on br-int
	PhyPort int // phy-br-ex on br-ex
}

// Flows is the whole desired flow set of a host, by bridge.
type Flows struct {
	Int      []Flow
	Tun      []Flow
	Provider map[string][]Flow // by provider bridge name
}

// Build returns every flow the state needs. Output is sorted and depends
// only on its inputs.
func Build(s hoststate.State, pm PortMap) Flows {
	out := Flows{Provider: map[string][]Flow{}}
	out.Int = append(out.Int, missFlows(RoleInt)...)
	out.Int = append(out.Int, intBaseFlows(pm)...)
	out.Int = append(out.Int, antiSpoofBaseFlows()...)
	out.Int = append(out.Int, firewallBaseFlows()...)
	out.Int = append(out.Int, deliverBaseFlows()...)
	out.Int = append(out.Int, portFlows(s, pm)...)
	out.Tun = append(out.Tun, missFlows(RoleTun)...)
	out.Tun = append(out.Tun, tunBaseFlows(s, pm)...)
	out.Tun = append(out.Tun, tunnelFlows(s, pm)...)
	out.Tun = append(out.Tun, l2popFlows(s, pm)...)
	intProv, prov := providerFlows(s, pm)
	out.Int = append(out.Int, intProv...)
	for br, fs := range prov {
		out.Provider[br] = append(missFlows(RoleProvider), fs...)
		sortFlows(out.Provider[br])
	}
	sortFlows(out.Int)
	sortFlows(out.Tun)
	return out
}

// BoundPorts returns the ids of ports Build wired (classifier flows
// installed): present on br-int, with a local VLAN, admin up.
func BoundPorts(s hoststate.State, pm PortMap) map[string]bool {
	out := map[string]bool{}
	for id, p := range s.Ports {
		if _, ok := wiredPort(s, pm, p); ok {
			out[id] = true
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
