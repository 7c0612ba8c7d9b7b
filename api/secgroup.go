package api

import (
	"strconv"
	"strings"
)

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

// IPProtocols is Neutron's IP_PROTOCOL_MAP: the protocol names a rule may
// use, with their numbers.
var IPProtocols = map[string]int{
	"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2,
	"ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59,
	"ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6,
	"udp": 17, "udplite": 136, "vrrp": 112,
}

// ProtocolNumber is a rule protocol's IP protocol number (-1: any).
func ProtocolNumber(p *string) int {
	if p == nil {
		return -1
	}
	if n, ok := IPProtocols[strings.ToLower(strings.TrimSpace(*p))]; ok {
		return n
	}
	n, err := strconv.Atoi(*p)
	if err != nil {
		return -1
	}
	return n
}
