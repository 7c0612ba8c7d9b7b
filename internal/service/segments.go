package service

import (
	"slices"
	"sort"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/segment"
	"github.com/vland/vland/internal/store"
)

// segConfig is the type driver configuration in the shape allocation
// walks it: tunnel ranges by type, VLAN ranges by physnet.
type segConfig struct {
	TenantTypes  []string
	TunnelRanges map[string][]segment.Range
	VLANRanges   map[string][]segment.Range
	FlatNetworks []string
	PhysnetMTU   int
}

// newSegConfig validates an ML2 configuration (the zero value means
// segment.DefaultConfig) and reshapes it.
func newSegConfig(c segment.Config) (segConfig, error) {
	if len(c.TenantNetworkTypes) == 0 && c.GlobalPhysnetMTU == 0 && c.VNIRanges == nil {
		c = segment.DefaultConfig()
	}
	if c.GlobalPhysnetMTU == 0 {
		c.GlobalPhysnetMTU = 1500
	}
	if len(c.TenantNetworkTypes) == 0 {
		c.TenantNetworkTypes = []string{segment.TypeVXLAN}
	}
	if err := c.Validate(); err != nil {
		return segConfig{}, err
	}
	vlans := c.NetworkVLANRanges
	if vlans == nil {
		vlans = map[string][]segment.Range{}
	}
	return segConfig{
		TenantTypes: c.TenantNetworkTypes,
		TunnelRanges: map[string][]segment.Range{
			api.NetworkTypeVXLAN: c.VNIRanges, api.NetworkTypeGRE: c.TunnelIDRanges, api.NetworkTypeGeneve: c.GeneveVNIRanges,
		},
		VLANRanges: vlans, FlatNetworks: c.FlatNetworks, PhysnetMTU: c.GlobalPhysnetMTU,
	}, nil
}

// maxSegmentID is the largest id each type can carry.
var maxSegmentID = map[string]int{
	api.NetworkTypeVXLAN: 1<<24 - 1, api.NetworkTypeGeneve: 1<<24 - 1,
	api.NetworkTypeGRE: 1<<32 - 1, api.NetworkTypeVLAN: 4094,
}

// mtu is the largest MTU a network of type t can offer.
func (c *segConfig) mtu(t string) int { return segment.MTU(t, c.PhysnetMTU) }

// netSegment is one network's place on the underlay.
type netSegment struct {
	Type    string
	Physnet string
	ID      int
}

// key is the segment's allocation key; "" when the type allocates nothing
// (local).
func (g netSegment) key() string {
	if g.Type == api.NetworkTypeLocal {
		return ""
	}
	return store.SegmentKey(g.Type, g.Physnet, g.ID)
}

// candidates lists, lowest first, the segments a tenant network (or a
// provider network of type t that leaves the id open) may take.
func (c *segConfig) candidates(t, physnet string, fn func(netSegment) bool) {
	switch t {
	case api.NetworkTypeVLAN:
		nets := make([]string, 0, len(c.VLANRanges))
		for p := range c.VLANRanges {
			if physnet == "" || p == physnet {
				nets = append(nets, p)
			}
		}
		sort.Strings(nets)
		for _, p := range nets {
			if !walk(c.VLANRanges[p], func(id int) bool { return fn(netSegment{t, p, id}) }) {
				return
			}
		}
	case api.NetworkTypeLocal:
		fn(netSegment{Type: t})
	default:
		walk(c.TunnelRanges[t], func(id int) bool { return fn(netSegment{Type: t, ID: id}) })
	}
}

func walk(ranges []segment.Range, fn func(int) bool) bool {
	for _, r := range ranges {
		for id := r.Min; id <= r.Max; id++ {
			if !fn(id) {
				return false
			}
		}
	}
	return true
}

// providerSegment validates admin-given provider attributes. It returns
// the segment with ID 0 and open=true when the id is to be allocated.
func (c *segConfig) providerSegment(r *NetworkRequest) (seg netSegment, open bool, err error) {
	t, phys, id := r.NetworkType.or(""), r.PhysicalNetwork.or(""), r.SegmentationID
	if t == "" {
		return seg, false, invalidInput("network_type required")
	}
	seg = netSegment{Type: t, Physnet: phys, ID: id.V}
	switch t {
	case api.NetworkTypeLocal:
		if phys != "" || id.has() {
			return seg, false, invalidInput("provider:physical_network and provider:segmentation_id prohibited for local provider network")
		}
		return seg, false, nil
	case api.NetworkTypeFlat:
		if id.has() {
			return seg, false, invalidInput("segmentation_id prohibited for flat provider network")
		}
		if phys == "" {
			return seg, false, invalidInput("physical_network required for flat provider network")
		}
		if !slices.Contains(c.FlatNetworks, "*") && !slices.Contains(c.FlatNetworks, phys) {
			return seg, false, invalidInput("physical_network '%s' unknown for flat provider network", phys)
		}
		return seg, false, nil
	case api.NetworkTypeVLAN:
		if _, known := c.VLANRanges[phys]; phys != "" && !known {
			return seg, false, invalidInput("physical_network '%s' unknown for VLAN provider network", phys)
		}
		if id.has() && phys == "" {
			return seg, false, invalidInput("physical_network required for VLAN provider network")
		}
	case api.NetworkTypeVXLAN, api.NetworkTypeGRE, api.NetworkTypeGeneve:
		if phys != "" {
			return seg, false, invalidInput("provider:physical_network specified for %s network", t)
		}
	default:
		return seg, false, invalidInput("network_type value '%s' not supported", t)
	}
	if !id.has() {
		return seg, true, nil
	}
	if id.V < 1 || id.V > maxSegmentID[t] {
		return seg, false, invalidInput("segmentation_id out of range (1 through %d)", maxSegmentID[t])
	}
	return seg, false, nil
}

// inUse is the error for a taken provider segment, as Neutron words it.
func (g netSegment) inUse() error {
	switch g.Type {
	case api.NetworkTypeVLAN:
		return errorf(ErrVLANInUse, "Unable to create the network. The VLAN %d on physical network %s is in use.", g.ID, g.Physnet)
	case api.NetworkTypeFlat:
		return errorf(ErrFlatInUse, "Unable to create the flat network. Physical network %s is in use.", g.Physnet)
	}
	return errorf(ErrTunnelIDInUse, "Unable to create the network. The tunnel ID %d is in use.", g.ID)
}

// apply writes the segment into the network's provider attributes and MTU.
func (c *segConfig) apply(n *api.Network, g netSegment) {
	n.NetworkType = g.Type
	n.PhysicalNetwork, n.SegmentationID = nil, nil
	if g.Physnet != "" {
		p := g.Physnet
		n.PhysicalNetwork = &p
	}
	if g.Type != api.NetworkTypeLocal && g.Type != api.NetworkTypeFlat {
		id := g.ID
		n.SegmentationID = &id
	}
}

// segmentOf reads a stored network's segment back.
func segmentOf(n *api.Network) netSegment {
	g := netSegment{Type: n.NetworkType}
	if n.PhysicalNetwork != nil {
		g.Physnet = *n.PhysicalNetwork
	}
	if n.SegmentationID != nil {
		g.ID = *n.SegmentationID
	}
	return g
}
