package api

// Router is a Neutron router (extensions router, ext-gw-mode, extraroute):
// its desired state only. Interfaces are ports (device_owner
// network:router_interface, device_id the router); the gateway is a port
// on the external network (network:router_gateway). Where a router is
// realised (which L3 host) is not part of it.
type Router struct {
	ID                    string               `json:"id"`
	Name                  string               `json:"name"`
	Description           string               `json:"description"`
	ProjectID             string               `json:"project_id"`
	TenantID              string               `json:"tenant_id"`
	AdminStateUp          bool                 `json:"admin_state_up"`
	Status                string               `json:"status"`
	ExternalGatewayInfo   *ExternalGatewayInfo `json:"external_gateway_info"`
	Routes                []Route              `json:"routes"`
	AvailabilityZoneHints []string             `json:"availability_zone_hints"`
	AvailabilityZones     []string             `json:"availability_zones"`
	Tags                  []string             `json:"tags"`
	RevisionNumber        int64                `json:"revision_number"`
	CreatedAt             string               `json:"created_at"`
	UpdatedAt             string               `json:"updated_at"`
}

// ExternalGatewayInfo is a router's uplink to an external network.
type ExternalGatewayInfo struct {
	NetworkID        string    `json:"network_id"`
	EnableSNAT       bool      `json:"enable_snat"`
	ExternalFixedIPs []FixedIP `json:"external_fixed_ips"`
}

// Route is one extra route of a router (extraroute).
type Route struct {
	Destination string `json:"destination"`
	Nexthop     string `json:"nexthop"`
}

// RouterInterface is the answer of add/remove_router_interface.
type RouterInterface struct {
	ID        string   `json:"id"`
	SubnetID  string   `json:"subnet_id"`
	SubnetIDs []string `json:"subnet_ids"`
	PortID    string   `json:"port_id"`
	NetworkID string   `json:"network_id"`
	ProjectID string   `json:"project_id"`
	TenantID  string   `json:"tenant_id"`
}

// Device owners of the ports the L3 API creates.
const (
	OwnerRouterInterface = "network:router_interface"
	OwnerRouterGateway   = "network:router_gateway"
	OwnerFloatingIP      = "network:floatingip"
)

// FloatingIP is an address of an external network mapped 1:1 to a fixed
// IP of a port (or, unassociated, to nothing). Its address is held by a
// port on the external network (network:floatingip, device_id the
// floating IP's id).
type FloatingIP struct {
	ID                string           `json:"id"`
	Description       string           `json:"description"`
	ProjectID         string           `json:"project_id"`
	TenantID          string           `json:"tenant_id"`
	FloatingNetworkID string           `json:"floating_network_id"`
	FloatingIPAddress string           `json:"floating_ip_address"`
	RouterID          *string          `json:"router_id"`
	PortID            *string          `json:"port_id"`
	FixedIPAddress    *string          `json:"fixed_ip_address"`
	Status            string           `json:"status"`
	PortDetails       *FIPPortDetails  `json:"port_details"`
	PortForwardings   []PortForwarding `json:"port_forwardings"`
	Tags              []string         `json:"tags"`
	RevisionNumber    int64            `json:"revision_number"`
	CreatedAt         string           `json:"created_at"`
	UpdatedAt         string           `json:"updated_at"`
}

// FIPPortDetails is fip-port-details: the associated port at a glance.
type FIPPortDetails struct {
	Name         string `json:"name"`
	NetworkID    string `json:"network_id"`
	MACAddress   string `json:"mac_address"`
	AdminStateUp bool   `json:"admin_state_up"`
	Status       string `json:"status"`
	DeviceID     string `json:"device_id"`
	DeviceOwner  string `json:"device_owner"`
}

// PortForwarding maps a port (or range) of a floating IP to a port of an
// internal address (floating-ip-port-forwarding, -port-ranges).
type PortForwarding struct {
	ID                string `json:"id"`
	Protocol          string `json:"protocol"`
	InternalPortID    string `json:"internal_port_id"`
	InternalIPAddress string `json:"internal_ip_address"`
	InternalPort      *int   `json:"internal_port"`
	ExternalPort      *int   `json:"external_port"`
	InternalPortRange string `json:"internal_port_range"`
	ExternalPortRange string `json:"external_port_range"`
	Description       string `json:"description"`
}
