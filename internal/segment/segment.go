// Package segment is vland's ML2-style type-driver layer, the one home of
// network segments: which network types exist (local, flat, vlan, vxlan,
// gre, geneve), their ID ranges and MTUs (Config), the validation of
// admin-chosen provider segments (Config.ValidateProvider), and the choice
// of a free segment (Config.Choose, Config.ChooseTenant).
//
// Configuration uses Neutron's ML2 string syntax (ParseRanges for
// "1000:2000,3000:3010", ParseVLANRanges for "physnet1:100:200,physnet2").
// A segment is allocated when its store.SegmentKey(type, physnet, id)
// exists (flat networks use id 0: one network per physnet; local networks
// have no key).
//
// segment holds no state and never reads the store. The choice is a pure
// walk of the ranges, lowest ID first, asking a take callback about each
// candidate; internal/service answers from its watch-fed cache of the
// segment keys and its in-flight reservations, and makes the choice real
// with a compare-and-create of Segment.Key() in the network's transaction
// (on conflict it syncs its cache and chooses again). A separate stateful
// allocator here would only duplicate that cache.
package segment

import (
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/store"
)

// Segment is a network's provider attributes. SegmentationID 0 means "not
// given" (no type uses ID 0; give -1 for an explicit but invalid 0).
type Segment struct {
	NetworkType     string
	PhysicalNetwork string
	SegmentationID  int
}

// Key is the segment's allocation key; "" for local networks, which
// allocate nothing. Flat networks use ID 0.
func (s Segment) Key() string {
	if s.NetworkType == TypeLocal {
		return ""
	}
	return store.SegmentKey(s.NetworkType, s.PhysicalNetwork, s.SegmentationID)
}

// complete reports whether the segment names one allocatable thing; a
// partial one (vlan without ID or physnet, tunnel without ID) gets its ID
// from the tenant ranges.
func (s Segment) complete() bool {
	switch s.NetworkType {
	case TypeLocal, TypeFlat:
		return true
	case TypeVLAN:
		return s.PhysicalNetwork != "" && s.SegmentationID != 0
	default:
		return s.SegmentationID != 0
	}
}

// ValidateProvider checks an admin-requested segment against the type
// rules, with Neutron's messages. IDs may lie outside the tenant ranges, as
// in Neutron.
func (c Config) ValidateProvider(s Segment) error {
	switch s.NetworkType {
	case "":
		return fault.InvalidInput("network_type required")
	case TypeLocal:
		if s.PhysicalNetwork != "" || s.SegmentationID != 0 {
			return fault.InvalidInput("provider:physical_network and provider:segmentation_id prohibited for local provider network")
		}
	case TypeFlat:
		return c.validateFlat(s)
	case TypeVLAN:
		return c.validateVLAN(s)
	case TypeVXLAN, TypeGRE, TypeGeneve:
		if s.PhysicalNetwork != "" {
			return fault.InvalidInput("provider:physical_network specified for %s network", s.NetworkType)
		}
		return checkID(s)
	default:
		return fault.InvalidInput("network_type value '%s' not supported", s.NetworkType)
	}
	return nil
}

func (c Config) validateFlat(s Segment) error {
	switch {
	case s.SegmentationID != 0:
		return fault.InvalidInput("segmentation_id prohibited for flat provider network")
	case s.PhysicalNetwork == "":
		return fault.InvalidInput("physical_network required for flat provider network")
	case !c.flatAllowed(s.PhysicalNetwork):
		return fault.InvalidInput("physical_network '%s' unknown for flat provider network", s.PhysicalNetwork)
	}
	return nil
}

func (c Config) validateVLAN(s Segment) error {
	if s.PhysicalNetwork == "" {
		if s.SegmentationID != 0 {
			return fault.InvalidInput("physical_network required for VLAN provider network")
		}
		return nil
	}
	if _, ok := c.NetworkVLANRanges[s.PhysicalNetwork]; !ok {
		return fault.InvalidInput("physical_network '%s' unknown for VLAN provider network", s.PhysicalNetwork)
	}
	return checkID(s)
}

// checkID checks a given (non-zero) ID is within the type's limits.
func checkID(s Segment) error {
	if s.SegmentationID == 0 {
		return nil
	}
	if s.SegmentationID < 1 || s.SegmentationID > maxID[s.NetworkType] {
		return fault.InvalidInput("segmentation_id out of range (1 through %d)", maxID[s.NetworkType])
	}
	return nil
}
