package api

// SubnetPool is a Neutron subnet pool (extension subnet_allocation): the
// address space subnets may be allocated from by prefix length.
// DefaultQuota (nil: unlimited) bounds the space one project may take
// from the pool, in addresses for IPv4 and /64s for IPv6.
type SubnetPool struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	Description      string   `json:"description"`
	ProjectID        string   `json:"project_id"`
	TenantID         string   `json:"tenant_id"`
	IPVersion        int      `json:"ip_version"`
	Prefixes         []string `json:"prefixes"`
	DefaultPrefixLen int      `json:"default_prefixlen"`
	MinPrefixLen     int      `json:"min_prefixlen"`
	MaxPrefixLen     int      `json:"max_prefixlen"`
	Shared           bool     `json:"shared"`
	IsDefault        bool     `json:"is_default"`
	DefaultQuota     *int     `json:"default_quota"`
	AddressScopeID   *string  `json:"address_scope_id"`
	Tags             []string `json:"tags"`
	RevisionNumber   int64    `json:"revision_number"`
	CreatedAt        string   `json:"created_at"`
	UpdatedAt        string   `json:"updated_at"`
}

// AddressScope is a Neutron address scope (extension address-scope): the
// subnet pools in one scope never overlap.
type AddressScope struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	ProjectID string `json:"project_id"`
	TenantID  string `json:"tenant_id"`
	IPVersion int    `json:"ip_version"`
	Shared    bool   `json:"shared"`
}

// NetworkIPAvailability is one network's address usage (extension
// network-ip-availability): allocated and allocatable addresses over its
// subnets' allocation pools.
type NetworkIPAvailability struct {
	NetworkID            string                 `json:"network_id"`
	NetworkName          string                 `json:"network_name"`
	ProjectID            string                 `json:"project_id"`
	TenantID             string                 `json:"tenant_id"`
	TotalIPs             uint64                 `json:"total_ips"`
	UsedIPs              uint64                 `json:"used_ips"`
	SubnetIPAvailability []SubnetIPAvailability `json:"subnet_ip_availability"`
}

// SubnetIPAvailability is one subnet's part of a NetworkIPAvailability.
// Totals too big for 64 bits (IPv6) saturate.
type SubnetIPAvailability struct {
	SubnetID   string `json:"subnet_id"`
	SubnetName string `json:"subnet_name"`
	CIDR       string `json:"cidr"`
	IPVersion  int    `json:"ip_version"`
	TotalIPs   uint64 `json:"total_ips"`
	UsedIPs    uint64 `json:"used_ips"`
}
