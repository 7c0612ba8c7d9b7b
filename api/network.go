// Package api holds vland's Neutron v2.0 wire types: the JSON shapes that
// clients send and receive, and that the store keeps. It imports only the
// standard library so that every other package (server, agent, client) can
// share it.
package api

// Network is a Neutron network. Derived fields (Subnets, Status) are filled
// by the server when it answers; the store keeps the rest.
type Network struct {
	ID                    string   `json:"id"`
	Name                  string   `json:"name"`
	Description           string   `json:"description"`
	ProjectID             string   `json:"project_id"`
	TenantID              string   `json:"tenant_id"`
	AdminStateUp          bool     `json:"admin_state_up"`
	Status                string   `json:"status"`
	Shared                bool     `json:"shared"`
	External              bool     `json:"router:external"`
	MTU                   int      `json:"mtu"`
	NetworkType           string   `json:"provider:network_type"`
	PhysicalNetwork       *string  `json:"provider:physical_network"`
	SegmentationID        *int     `json:"provider:segmentation_id"`
	PortSecurityEnabled   bool     `json:"port_security_enabled"`
	Subnets               []string `json:"subnets"`
	AvailabilityZoneHints []string `json:"availability_zone_hints"`
	AvailabilityZones     []string `json:"availability_zones"`
	Tags                  []string `json:"tags"`
	DNSDomain             string   `json:"dns_domain"`
	RevisionNumber        int64    `json:"revision_number"`
	CreatedAt             string   `json:"created_at"`
	UpdatedAt             string   `json:"updated_at"`
}

// Network types (ML2 type drivers).
const (
	NetworkTypeLocal  = "local"
	NetworkTypeFlat   = "flat"
	NetworkTypeVLAN   = "vlan"
	NetworkTypeVXLAN  = "vxlan"
	NetworkTypeGRE    = "gre"
	NetworkTypeGeneve = "geneve"
)

// Resource statuses.
const (
	StatusActive = "ACTIVE"
	StatusDown   = "DOWN"
	StatusBuild  = "BUILD"
	StatusError  = "ERROR"
)
