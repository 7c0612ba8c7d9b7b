package neutron

import (
	"slices"

	"github.com/vland/vland/api"
)

// Member views hide what policy hides from non-admins without a generic
// map round trip: a shallower field with the same JSON name and omitempty
// shadows the embedded one, and nil omits it. TestViewsMatchPolicy checks
// they hide exactly what service.Hidden lists.

type networkMemberView struct {
	api.Network
	NetworkType     *struct{} `json:"provider:network_type,omitempty"`
	PhysicalNetwork *struct{} `json:"provider:physical_network,omitempty"`
	SegmentationID  *struct{} `json:"provider:segmentation_id,omitempty"`
}

type portMemberView struct {
	api.Port
	HostID     *struct{} `json:"binding:host_id,omitempty"`
	VIFType    *struct{} `json:"binding:vif_type,omitempty"`
	VIFDetails *struct{} `json:"binding:vif_details,omitempty"`
	Profile    *struct{} `json:"binding:profile,omitempty"`
}

var (
	networkHidden = []string{"provider:network_type", "provider:physical_network", "provider:segmentation_id"}
	portHidden    = []string{"binding:host_id", "binding:vif_type", "binding:vif_details", "binding:profile"}
)

// hide returns v without the hidden attributes, through a member view when
// one matches, else through the generic map.
func hide(v any, hidden []string) (any, error) {
	if len(hidden) == 0 {
		return v, nil
	}
	switch x := v.(type) {
	case api.Network:
		if slices.Equal(hidden, networkHidden) {
			return networkMemberView{Network: x}, nil
		}
	case api.Port:
		if slices.Equal(hidden, portHidden) {
			return portMemberView{Port: x}, nil
		}
	}
	return withoutKeys(v, hidden)
}
