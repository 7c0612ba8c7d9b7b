package api

import "encoding/json"

// Agent is a host agent as Neutron's /v2.0/agents shows it. The store
// keeps one record per host (the compute row); the server shows one row
// per role the host runs (AgentRows in internal/service).
type Agent struct {
	ID                 string      `json:"id"`
	AgentType          string      `json:"agent_type"`
	Binary             string      `json:"binary"`
	Host               string      `json:"host"`
	Topic              string      `json:"topic"`
	AdminStateUp       bool        `json:"admin_state_up"`
	Alive              bool        `json:"alive"`
	Description        string      `json:"description"`
	AvailabilityZone   *string     `json:"availability_zone"`
	Configurations     AgentConfig `json:"configurations"`
	CreatedAt          string      `json:"created_at"`
	StartedAt          string      `json:"started_at"`
	HeartbeatTimestamp string      `json:"heartbeat_timestamp"`
	ResourcesSynced    *bool       `json:"resources_synced"`
}

// AgentConfig is the agent's configuration as reported to the server.
//
// The rows of the other roles (DHCP, L3, metadata agents) carry that
// role's configuration in Service instead, and encode only it; a decoded
// object without integration_bridge is such a row.
type AgentConfig struct {
	TunnelTypes    []string          `json:"tunnel_types"`
	LocalIP        string            `json:"local_ip"`
	BridgeMappings map[string]string `json:"bridge_mappings"`
	DatapathType   string            `json:"datapath_type"`
	IntegrationBr  string            `json:"integration_bridge"`
	TunnelBr       string            `json:"tunnel_bridge"`
	Devices        int               `json:"devices"`
	L2Population   bool              `json:"l2_population"`
	NetworkNode    bool              `json:"network_node"`
	// Roles are the services this host runs (RoleCompute, RoleDHCP, ...);
	// empty means compute only (agents older than roles).
	Roles []string `json:"roles,omitempty"`

	Service map[string]any `json:"-"`
}

type agentConfigFields AgentConfig // without the methods below

// MarshalJSON encodes Service for service rows, the fields otherwise.
func (c AgentConfig) MarshalJSON() ([]byte, error) {
	if c.Service != nil {
		return json.Marshal(c.Service)
	}
	return json.Marshal(agentConfigFields(c))
}

// UnmarshalJSON is the inverse of MarshalJSON.
func (c *AgentConfig) UnmarshalJSON(b []byte) error {
	var probe map[string]any
	if err := json.Unmarshal(b, &probe); err != nil {
		return err
	}
	if _, ovs := probe["integration_bridge"]; !ovs && probe != nil {
		*c = AgentConfig{Service: probe}
		return nil
	}
	return json.Unmarshal(b, (*agentConfigFields)(c))
}

// Agent roles: what `vland agent --roles` accepts.
const (
	RoleCompute  = "compute"
	RoleDHCP     = "dhcp"
	RoleL3       = "l3"
	RoleMetadata = "metadata"
)

// AgentTypeOVS is the agent_type of vland's host agent, as Neutron names the
// Open vSwitch agent.
const AgentTypeOVS = "Open vSwitch agent"

// Neutron's agent types and binaries of the service roles.
const (
	AgentTypeDHCP     = "DHCP agent"
	AgentTypeL3       = "L3 agent"
	AgentTypeMetadata = "Metadata agent"
)

// AgentRole describes how one role shows in /v2.0/agents.
type AgentRole struct {
	Role, AgentType, Binary, Topic string
}

// AgentRoles are the roles in the order /v2.0/agents lists a host's rows.
var AgentRoles = []AgentRole{
	{RoleCompute, AgentTypeOVS, "vland-agent", "N/A"},
	{RoleDHCP, AgentTypeDHCP, "neutron-dhcp-agent", "dhcp_agent"},
	{RoleL3, AgentTypeL3, "neutron-l3-agent", "l3_agent"},
	{RoleMetadata, AgentTypeMetadata, "neutron-metadata-agent", "N/A"},
}

// RolesOf returns a record's roles (compute when it names none).
func RolesOf(a *Agent) []string {
	if len(a.Configurations.Roles) == 0 {
		return []string{RoleCompute}
	}
	return a.Configurations.Roles
}

// AgentHeartbeat is the value of an agent's heartbeat key: the time of its
// last heartbeat and its device count, which /v2.0/agents shows in place of
// the record's.
type AgentHeartbeat struct {
	Timestamp string `json:"heartbeat_timestamp"`
	Devices   int    `json:"devices"`
}
