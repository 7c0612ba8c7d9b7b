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
	// IPsPrefix + <subnet id> + "/" + <ip>, MACsPrefix + <mac>,
	// SegmentsPrefix + <type> + "/" + <physnet or "-"> + "/" + <id>.
	IPsPrefix      = root + "ipam/"
	MACsPrefix     = root + "macs/"
	SegmentsPrefix = root + "segments/"

	// Agents: AgentsPrefix + <host> holds an api.Agent (kept after the agent
	// dies, so /v2.0/agents can show alive=false); AgentAlivePrefix + <host>
	// is attached to the agent's lease (its heartbeat).
	AgentsPrefix     = root + "agents/"
	AgentAlivePrefix = root + "agent-alive/"

	// PortStatusPrefix + <port id>: api.PortStatus, written by agents.
	PortStatusPrefix = root + "port-status/"

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

// MACKey is the allocation key of a MAC address (lower case, colons).
func MACKey(mac string) string { return MACsPrefix + mac }

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
