package segment

import (
	"fmt"

	"github.com/vland/vland/internal/store"
)

// Segment is a network's provider attributes. SegmentationID 0 means "not
// given" (no type uses ID 0).
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

// complete reports whether the segment names one allocatable thing.
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

// Neutron error types returned by this package.
const (
	KindInvalidInput       = "InvalidInput"       // 400
	KindVlanIDInUse        = "VlanIdInUse"        // 409
	KindTunnelIDInUse      = "TunnelIdInUse"      // 409
	KindFlatNetworkInUse   = "FlatNetworkInUse"   // 409
	KindNoNetworkAvailable = "NoNetworkAvailable" // 503
)

// Error is a user-facing failure: Kind is the NeutronError type, Status
// the HTTP status. Same shape and methods as ipam.Error.
type Error struct {
	Kind    string
	Status  int
	Message string
}

func (e *Error) Error() string { return "segment: " + e.Message }

// NeutronType returns the NeutronError type.
func (e *Error) NeutronType() string { return e.Kind }

// HTTPStatus returns the HTTP status code.
func (e *Error) HTTPStatus() int { return e.Status }

func invalid(format string, args ...any) *Error {
	return &Error{Kind: KindInvalidInput, Status: 400,
		Message: "Invalid input for operation: " + fmt.Sprintf(format, args...) + "."}
}

// inUse is the 409 for a segment someone else holds.
func inUse(s Segment) *Error {
	switch s.NetworkType {
	case TypeVLAN:
		return &Error{Kind: KindVlanIDInUse, Status: 409, Message: fmt.Sprintf(
			"Unable to create the network. The VLAN %d on physical network %s is in use.", s.SegmentationID, s.PhysicalNetwork)}
	case TypeFlat:
		return &Error{Kind: KindFlatNetworkInUse, Status: 409, Message: fmt.Sprintf(
			"Unable to create the flat network. Physical network %s is in use.", s.PhysicalNetwork)}
	default:
		return &Error{Kind: KindTunnelIDInUse, Status: 409, Message: fmt.Sprintf(
			"Unable to create the network. The tunnel ID %d is in use.", s.SegmentationID)}
	}
}

// InUse is the 409 to report when the store condition on seg.Key() failed
// for an admin-chosen segment.
func InUse(seg Segment) *Error { return inUse(seg) }

// errNoNetwork is Neutron's answer when every tenant pool is full.
func errNoNetwork() *Error {
	return &Error{Kind: KindNoNetworkAvailable, Status: 503,
		Message: "Unable to create the network. No tenant network is available for allocation."}
}

// ValidateProvider checks an admin-requested segment against the type
// rules. IDs may lie outside the tenant ranges, as in Neutron. A vlan
// segment without ID, or a tunnel without ID, is "partial": the allocator
// fills in the ID from the tenant ranges.
func (c Config) ValidateProvider(s Segment) error {
	switch s.NetworkType {
	case TypeLocal:
		if s.PhysicalNetwork != "" || s.SegmentationID != 0 {
			return invalid("provider:physical_network and provider:segmentation_id prohibited for local provider network")
		}
	case TypeFlat:
		if s.PhysicalNetwork == "" {
			return invalid("physical_network required for flat provider network")
		}
		if s.SegmentationID != 0 {
			return invalid("segmentation_id prohibited for flat provider network")
		}
		if !c.flatAllowed(s.PhysicalNetwork) {
			return invalid("physical_network '%s' unknown for flat provider network", s.PhysicalNetwork)
		}
	case TypeVLAN:
		return c.validateVLAN(s)
	case TypeVXLAN, TypeGRE, TypeGeneve:
		if s.PhysicalNetwork != "" {
			return invalid("provider:physical_network specified for %s network", s.NetworkType)
		}
		return checkID(s)
	default:
		return invalid("network_type value '%s' not supported", s.NetworkType)
	}
	return nil
}

func (c Config) validateVLAN(s Segment) error {
	if s.PhysicalNetwork == "" {
		if s.SegmentationID != 0 {
			return invalid("physical_network required for VLAN provider network with segmentation_id")
		}
		return nil
	}
	if _, ok := c.NetworkVLANRanges[s.PhysicalNetwork]; !ok {
		return invalid("physical_network '%s' unknown for VLAN provider network", s.PhysicalNetwork)
	}
	return checkID(s)
}

// checkID checks a given (non-zero) ID is within the type's limits.
func checkID(s Segment) error {
	if s.SegmentationID == 0 {
		return nil
	}
	if s.SegmentationID < 1 || s.SegmentationID > maxID[s.NetworkType] {
		return invalid("segmentation_id out of range (1 through %d)", maxID[s.NetworkType])
	}
	return nil
}

// NetworkMTU is MTU for netType on this config's underlay.
func (c Config) NetworkMTU(netType string) int { return MTU(netType, c.GlobalPhysnetMTU) }
