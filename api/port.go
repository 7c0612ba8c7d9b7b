package api

// Port is a Neutron port: one virtual NIC on a network.
type Port struct {
	ID                  string         `json:"id"`
	Name                string         `json:"name"`
	Description         string         `json:"description"`
	ProjectID           string         `json:"project_id"`
	TenantID            string         `json:"tenant_id"`
	NetworkID           string         `json:"network_id"`
	MACAddress          string         `json:"mac_address"`
	FixedIPs            []FixedIP      `json:"fixed_ips"`
	DeviceID            string         `json:"device_id"`
	DeviceOwner         string         `json:"device_owner"`
	AdminStateUp        bool           `json:"admin_state_up"`
	Status              string         `json:"status"`
	PortSecurityEnabled bool           `json:"port_security_enabled"`
	SecurityGroups      []string       `json:"security_groups"`
	AllowedAddressPairs []AddressPair  `json:"allowed_address_pairs"`
	BindingHostID       string         `json:"binding:host_id"`
	BindingVIFType      string         `json:"binding:vif_type"`
	BindingVIFDetails   map[string]any `json:"binding:vif_details"`
	BindingVNICType     string         `json:"binding:vnic_type"`
	BindingProfile      map[string]any `json:"binding:profile"`
	Tags                []string       `json:"tags"`
	RevisionNumber      int64          `json:"revision_number"`
	CreatedAt           string         `json:"created_at"`
	UpdatedAt           string         `json:"updated_at"`
	// ExtraDHCPOpts (extension extra_dhcp_opt): each has "opt_name" and
	// "opt_value" (strings) and "ip_version" (4 or 6; a JSON number).
	ExtraDHCPOpts []map[string]any `json:"extra_dhcp_opts"`
	// DNSName and DNSAssignment (extension dns-integration): the port's
	// name, and the hostname and FQDN of each address (server-computed).
	DNSName       string          `json:"dns_name"`
	DNSAssignment []DNSAssignment `json:"dns_assignment"`
}

// DNSAssignment is the name of one of a port's addresses.
type DNSAssignment struct {
	Hostname  string `json:"hostname"`
	IPAddress string `json:"ip_address"`
	FQDN      string `json:"fqdn"`
}

// FixedIP is one address of a port on one subnet.
type FixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// AddressPair lets a port send from an extra IP (or CIDR) and MAC.
type AddressPair struct {
	IPAddress  string `json:"ip_address"`
	MACAddress string `json:"mac_address,omitempty"`
}

// VIF types.
const (
	VIFTypeOVS     = "ovs"
	VIFTypeUnbound = "unbound"
)

// PortStatus is what the agent of the host a port is plugged into reports.
// It lives under its own key (store.PortStatusKey) so the agent never
// rewrites the port object that the server owns.
type PortStatus struct {
	PortID    string `json:"port_id"`
	Host      string `json:"host"`
	Status    string `json:"status"`
	UpdatedAt string `json:"updated_at"`
}
