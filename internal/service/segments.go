package service

import (
	"fmt"
	"slices"
	"sort"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
)

// Range is an inclusive range of segmentation ids.
type Range struct{ Min, Max int }

// SegmentConfig is ML2's type driver configuration.
type SegmentConfig struct {
	// TenantTypes are tried in order for networks without provider
	// attributes (ML2 tenant_network_types). Empty means "vxlan".
	TenantTypes []string
	// TunnelRanges are the allocatable ids per tunnel type ("vxlan":
	// vni_ranges, "gre": tunnel_id_ranges, "geneve").
	TunnelRanges map[string][]Range
	// VLANRanges maps each known physical network to its allocatable VLANs
	// (a physnet with no ranges takes provider networks only).
	VLANRanges map[string][]Range
	// FlatNetworks are the physnets allowed for flat networks; "*" allows
	// any.
	FlatNetworks []string
	// PhysnetMTU is the underlay MTU (global_physnet_mtu); 0 means 1500.
	PhysnetMTU int
}

// Encapsulation overheads on an IPv4 underlay, as Neutron's type drivers
// count them (Geneve with OVN's option bytes).
var encapOverhead = map[string]int{
	api.NetworkTypeVXLAN: 50, api.NetworkTypeGRE: 42, api.NetworkTypeGeneve: 58,
}

// maxSegmentID is the largest id each type can carry.
var maxSegmentID = map[string]int{
	api.NetworkTypeVXLAN: 1<<24 - 1, api.NetworkTypeGeneve: 1<<24 - 1,
	api.NetworkTypeGRE: 1<<32 - 1, api.NetworkTypeVLAN: 4094,
}

func (c *SegmentConfig) validate() error {
	if len(c.TenantTypes) == 0 {
		c.TenantTypes = []string{api.NetworkTypeVXLAN}
	}
	if c.PhysnetMTU == 0 {
		c.PhysnetMTU = 1500
	}
	for _, t := range c.TenantTypes {
		switch t {
		case api.NetworkTypeVXLAN, api.NetworkTypeGRE, api.NetworkTypeGeneve, api.NetworkTypeVLAN, api.NetworkTypeLocal:
		default:
			return fmt.Errorf("service: %q cannot be a tenant network type", t)
		}
	}
	return nil
}

// mtu is the largest MTU a network of type t can offer.
func (c *SegmentConfig) mtu(t string) int { return c.PhysnetMTU - encapOverhead[t] }

// segment is one network's place on the underlay.
type segment struct {
	Type    string
	Physnet string
	ID      int
}

// key is the segment's allocation key; "" when the type allocates nothing
// (local).
func (g segment) key() string {
	if g.Type == api.NetworkTypeLocal {
		return ""
	}
	return store.SegmentKey(g.Type, g.Physnet, g.ID)
}

// candidates lists, lowest first, the segments a tenant network (or a
// provider network of type t that leaves the id open) may take.
func (c *SegmentConfig) candidates(t, physnet string, fn func(segment) bool) {
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
			if !walk(c.VLANRanges[p], func(id int) bool { return fn(segment{t, p, id}) }) {
				return
			}
		}
	case api.NetworkTypeLocal:
		fn(segment{Type: t})
	default:
		walk(c.TunnelRanges[t], func(id int) bool { return fn(segment{Type: t, ID: id}) })
	}
}

func walk(ranges []Range, fn func(int) bool) bool {
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
func (c *SegmentConfig) providerSegment(r *NetworkRequest) (seg segment, open bool, err error) {
	t, phys, id := r.NetworkType.or(""), r.PhysicalNetwork.or(""), r.SegmentationID
	if t == "" {
		return seg, false, invalidInput("network_type required")
	}
	seg = segment{Type: t, Physnet: phys, ID: id.V}
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
func (g segment) inUse() error {
	switch g.Type {
	case api.NetworkTypeVLAN:
		return errorf(ErrVLANInUse, "Unable to create the network. The VLAN %d on physical network %s is in use.", g.ID, g.Physnet)
	case api.NetworkTypeFlat:
		return errorf(ErrFlatInUse, "Unable to create the flat network. Physical network %s is in use.", g.Physnet)
	}
	return errorf(ErrTunnelIDInUse, "Unable to create the network. The tunnel ID %d is in use.", g.ID)
}

// apply writes the segment into the network's provider attributes and MTU.
func (c *SegmentConfig) apply(n *api.Network, g segment) {
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
func segmentOf(n *api.Network) segment {
	g := segment{Type: n.NetworkType}
	if n.PhysicalNetwork != nil {
		g.Physnet = *n.PhysicalNetwork
	}
	if n.SegmentationID != nil {
		g.ID = *n.SegmentationID
	}
	return g
}
