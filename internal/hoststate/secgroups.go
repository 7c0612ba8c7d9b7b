package hoststate

import "net/netip"

// SecurityGroup is the part of a security group the firewall needs.
type SecurityGroup struct {
	ID string
	// Stateless groups filter without conntrack: replies need rules too.
	Stateless bool
	Rules     []Rule
}

// Rule is one security group rule, normalised for flows.
type Rule struct {
	Ingress bool
	IPv6    bool
	// Protocol is the IP protocol number, -1 for any.
	Protocol int
	// PortMin and PortMax are the destination port range (TCP, UDP, SCTP,
	// ...) or the ICMP type and code; -1 when not set.
	PortMin, PortMax int
	// RemotePrefix is the remote address range (invalid: any).
	RemotePrefix netip.Prefix
	// RemoteGroup is the remote security group ("" none): its members'
	// addresses are in State.GroupMembers.
	RemoteGroup string
}
