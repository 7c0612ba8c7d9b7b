package api

// SecurityGroup is a Neutron security group (extensions security-group,
// stateful-security-group): a named set of rules that filters the traffic
// of the ports in it.
type SecurityGroup struct {
	ID                 string              `json:"id"`
	Name               string              `json:"name"`
	Description        string              `json:"description"`
	ProjectID          string              `json:"project_id"`
	TenantID           string              `json:"tenant_id"`
	Stateful           bool                `json:"stateful"`
	Shared             bool                `json:"shared"`
	SecurityGroupRules []SecurityGroupRule `json:"security_group_rules"`
	Tags               []string            `json:"tags"`
	RevisionNumber     int64               `json:"revision_number"`
	CreatedAt          string              `json:"created_at"`
	UpdatedAt          string              `json:"updated_at"`
}

// SecurityGroupRule is one rule of a security group. Protocol is as the
// client gave it (a name or a number, nil: any); for ICMP the port range
// holds the type (min) and code (max).
type SecurityGroupRule struct {
	ID                   string  `json:"id"`
	ProjectID            string  `json:"project_id"`
	TenantID             string  `json:"tenant_id"`
	SecurityGroupID      string  `json:"security_group_id"`
	Direction            string  `json:"direction"`
	Ethertype            string  `json:"ethertype"`
	Protocol             *string `json:"protocol"`
	PortRangeMin         *int    `json:"port_range_min"`
	PortRangeMax         *int    `json:"port_range_max"`
	RemoteIPPrefix       *string `json:"remote_ip_prefix"`
	RemoteGroupID        *string `json:"remote_group_id"`
	RemoteAddressGroupID *string `json:"remote_address_group_id"`
	NormalizedCIDR       *string `json:"normalized_cidr"`
	Description          string  `json:"description"`
	BelongsToDefaultSG   bool    `json:"belongs_to_default_sg"`
	RevisionNumber       int64   `json:"revision_number"`
	CreatedAt            string  `json:"created_at"`
	UpdatedAt            string  `json:"updated_at"`
}

// Rule directions and ether types.
const (
	DirectionIngress = "ingress"
	DirectionEgress  = "egress"
	EtherTypeIPv4    = "IPv4"
	EtherTypeIPv6    = "IPv6"
)
