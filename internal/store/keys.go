package store

import "strconv"

// Every key prefix vland uses lives here. Values are JSON unless noted.
const (
	root = "/vland/"

	// Resources: value is the api type (api.Network, api.Subnet, api.Port).
	NetworksPrefix = root + "networks/"
	SubnetsPrefix  = root + "subnets/"
	PortsPrefix    = root + "ports/"

	// Allocation keys: existence is the allocation, value is the owner id.
	// IPsPrefix + <subnet id> + "/" + <ip>, MACsPrefix + <network id> + "/"
	// + <mac> (MACs are unique per network, as in Neutron),
	// SegmentsPrefix + <type> + "/" + <physnet or "-"> + "/" + <id>.
	IPsPrefix      = root + "ipam/"
	MACsPrefix     = root + "macs/"
	SegmentsPrefix = root + "segments/"

	// NetworkPortsPrefix + <network id> + "/" + <port id>: one key per port,
	// written and deleted in the port's own transactions; the value is the
	// port's device_owner. A network delete conditions its transaction on
	// this range ("no port created since I listed it"), so the emptiness
	// check cannot be fooled by a lagging cache.
	NetworkPortsPrefix = root + "network-ports/"

	// QuotasPrefix + <project id>: an api.Quota set through the API (absent:
	// the defaults). QuotaSlotsPrefix + <project> + "/" + <resource> + "/" +
	// <n>: quota slot n in use, value the resource id; a create takes a free
	// slot below the limit by compare-and-create, so concurrent creates
	// (on any server) cannot exceed the quota.
	QuotasPrefix     = root + "quotas/"
	QuotaSlotsPrefix = root + "quota-slots/"

	// BulksPrefix + <bulk id>: a bulk create too big for one transaction
	// is in progress; its resources (which name the bulk) stay invisible
	// until this key is deleted, so the client sees all or nothing. The
	// value is the JSON deadline after which start-up recovery rolls it back.
	BulksPrefix = root + "bulks/"

	// Agents: AgentsPrefix + <host> holds an api.Agent (kept after the agent
	// dies, so /v2.0/agents can show alive=false); AgentAlivePrefix + <host>
	// is attached to the agent's lease (its heartbeat).
	AgentsPrefix     = root + "agents/"
	AgentAlivePrefix = root + "agent-alive/"

	// PortStatusPrefix + <port id>: api.PortStatus, written by agents.
	PortStatusPrefix = root + "port-status/"

	// Security groups: SecurityGroupsPrefix + <id> holds a group with its
	// rules. SecGroupPortsPrefix + <group id> + "/" + <port id>: one key per
	// port in the group, written in the port's own transactions, so that a
	// group delete can condition on "no port joined since I listed".
	SecurityGroupsPrefix = root + "security-groups/"
	SecGroupPortsPrefix  = root + "secgroup-ports/"

	// Identity: projects created through the API, and the token secret.
	ProjectsPrefix = root + "projects/"
	TokenSecretKey = root + "keystone/secret"
)

// NetworkKey is the key of a network.
func NetworkKey(id string) string { return NetworksPrefix + id }

// SubnetKey is the key of a subnet.
func SubnetKey(id string) string { return SubnetsPrefix + id }

// PortKey is the key of a port.
func PortKey(id string) string { return PortsPrefix + id }

// IPKey is the allocation key of one address on one subnet.
func IPKey(subnetID, ip string) string { return IPsPrefix + subnetID + "/" + ip }

// MACKey is the allocation key of a MAC address (lower case, colons) on
// a network.
func MACKey(networkID, mac string) string { return MACsPrefix + networkID + "/" + mac }

// NetworkPortKey is the index key of a port on its network.
func NetworkPortKey(networkID, portID string) string {
	return NetworkPortsOf(networkID) + portID
}

// NetworkPortsOf is the prefix of a network's port index keys.
func NetworkPortsOf(networkID string) string { return NetworkPortsPrefix + networkID + "/" }

// QuotaKey is the key of a project's quota limits.
func QuotaKey(projectID string) string { return QuotasPrefix + projectID }

// QuotaSlotsOf is the prefix of a project's quota slots of one resource
// type ("network", "subnet", "port").
func QuotaSlotsOf(projectID, resource string) string {
	return QuotaSlotsPrefix + projectID + "/" + resource + "/"
}

// QuotaSlotKey is quota slot n of a project's resource type.
func QuotaSlotKey(projectID, resource string, n int) string {
	return QuotaSlotsOf(projectID, resource) + strconv.Itoa(n)
}

// BulkKey is the key of a bulk create in progress.
func BulkKey(id string) string { return BulksPrefix + id }

// SegmentKey is the allocation key of a segment; physnet is "-" for tunnels.
func SegmentKey(netType, physnet string, id int) string {
	if physnet == "" {
		physnet = "-"
	}
	return SegmentsPrefix + netType + "/" + physnet + "/" + strconv.Itoa(id)
}

// AgentKey is the key of a host's agent record.
func AgentKey(host string) string { return AgentsPrefix + host }

// AgentAliveKey is the leased heartbeat key of a host's agent.
func AgentAliveKey(host string) string { return AgentAlivePrefix + host }

// PortStatusKey is the key of a port's status as reported by its agent.
func PortStatusKey(portID string) string { return PortStatusPrefix + portID }

// ProjectKey is the key of a project created through the identity API.
func ProjectKey(id string) string { return ProjectsPrefix + id }

// SecurityGroupKey is the key of a security group.
func SecurityGroupKey(id string) string { return SecurityGroupsPrefix + id }

// SecGroupPortsOf is the prefix of a security group's port index keys.
func SecGroupPortsOf(groupID string) string { return SecGroupPortsPrefix + groupID + "/" }

// SecGroupPortKey is the index key of a port in a security group.
func SecGroupPortKey(groupID, portID string) string { return SecGroupPortsOf(groupID) + portID }
