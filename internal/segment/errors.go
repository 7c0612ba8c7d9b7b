package segment

import (
	"errors"

	"github.com/vland/vland/internal/fault"
)

// Error kinds of segment. Failures are *fault.Error values of these kinds
// (or fault.ErrInvalidInput) carrying Neutron's message; internal/neutron
// maps each kind to its status and type.
var (
	ErrVLANInUse     = errors.New("segment: vlan id in use")              // 409 VlanIdInUse
	ErrTunnelIDInUse = errors.New("segment: tunnel id in use")            // 409 TunnelIdInUse
	ErrFlatInUse     = errors.New("segment: flat network in use")         // 409 FlatNetworkInUse
	ErrNoNetwork     = errors.New("segment: no tenant network available") // 503 NoNetworkAvailable
)

// InUse is the error for a segment someone else holds.
func InUse(s Segment) error {
	switch s.NetworkType {
	case TypeVLAN:
		return fault.New(ErrVLANInUse, "Unable to create the network. The VLAN %d on physical network %s is in use.",
			s.SegmentationID, s.PhysicalNetwork)
	case TypeFlat:
		return fault.New(ErrFlatInUse, "Unable to create the flat network. Physical network %s is in use.", s.PhysicalNetwork)
	default:
		return fault.New(ErrTunnelIDInUse, "Unable to create the network. The tunnel ID %d is in use.", s.SegmentationID)
	}
}

// noNetwork is Neutron's answer when every tenant pool is full.
func noNetwork() error {
	return fault.New(ErrNoNetwork, "Unable to create the network. No tenant network is available for allocation.")
}
