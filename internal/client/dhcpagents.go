package client

import (
	"context"

	"github.com/vland/vland/api"
)

// AgentUpdate is the body of PUT /v2.0/agents/{id}; nil fields stay.
type AgentUpdate struct {
	AdminStateUp *bool   `json:"admin_state_up,omitempty"`
	Description  *string `json:"description,omitempty"`
}

// UpdateAgent changes an agent row's admin state or description.
func (c *Client) UpdateAgent(ctx context.Context, id string, req AgentUpdate) (api.Agent, error) {
	return agents.update(ctx, c, id, req)
}

// DeleteAgent deletes a dead agent (all rows of its host).
func (c *Client) DeleteAgent(ctx context.Context, id string) error { return agents.delete(ctx, c, id) }

// FindAgent resolves an agent ID.
func (c *Client) FindAgent(ctx context.Context, id string) (api.Agent, error) {
	return agents.get(ctx, c, id)
}

// The dhcp_agent_scheduler extension: which DHCP agents serve which network.
var dhcpHosting = hosting[api.Network]{agentKind: "DHCP", hosted: networks,
	byAgent: "dhcp-networks", byHosted: "dhcp-agents"}

// ListDHCPNetworks lists the networks a DHCP agent serves
// (GET /v2.0/agents/{id}/dhcp-networks).
func (c *Client) ListDHCPNetworks(ctx context.Context, agentID string) ([]api.Network, error) {
	return dhcpHosting.list(ctx, c, agentID)
}

// ListNetworkDHCPAgents lists the DHCP agents serving a network
// (GET /v2.0/networks/{id}/dhcp-agents).
func (c *Client) ListNetworkDHCPAgents(ctx context.Context, networkID string) ([]api.Agent, error) {
	return dhcpHosting.agents(ctx, c, networkID)
}

// AddDHCPNetwork makes a DHCP agent serve a network.
func (c *Client) AddDHCPNetwork(ctx context.Context, agentID, networkID string) error {
	return dhcpHosting.add(ctx, c, agentID, networkID)
}

// RemoveDHCPNetwork takes a network off a DHCP agent.
func (c *Client) RemoveDHCPNetwork(ctx context.Context, agentID, networkID string) error {
	return dhcpHosting.remove(ctx, c, agentID, networkID)
}
