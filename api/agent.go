package api

// Agent is a host agent as Neutron's /v2.0/agents shows it.
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
}

// AgentTypeOVS is the agent_type of vland's host agent, as Neutron names the
// Open vSwitch agent.
const AgentTypeOVS = "Open vSwitch agent"
