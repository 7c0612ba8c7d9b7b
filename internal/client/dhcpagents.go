package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

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

// ListDHCPNetworks lists the networks a DHCP agent serves
// (GET /v2.0/agents/{id}/dhcp-networks).
func (c *Client) ListDHCPNetworks(ctx context.Context, agentID string) ([]api.Network, error) {
	var out struct {
		Networks []api.Network `json:"networks"`
	}
	err := c.neutron(ctx, http.MethodGet, "/v2.0/agents/"+url.PathEscape(agentID)+"/dhcp-networks", nil, nil, &out)
	return out.Networks, err
}

// ListNetworkDHCPAgents lists the DHCP agents serving a network
// (GET /v2.0/networks/{id}/dhcp-agents).
func (c *Client) ListNetworkDHCPAgents(ctx context.Context, networkID string) ([]api.Agent, error) {
	var out struct {
		Agents []api.Agent `json:"agents"`
	}
	err := c.neutron(ctx, http.MethodGet, "/v2.0/networks/"+url.PathEscape(networkID)+"/dhcp-agents", nil, nil, &out)
	return out.Agents, err
}

// AddDHCPNetwork makes a DHCP agent serve a network.
func (c *Client) AddDHCPNetwork(ctx context.Context, agentID, networkID string) error {
	var out json.RawMessage
	err := c.neutron(ctx, http.MethodPost, "/v2.0/agents/"+url.PathEscape(agentID)+"/dhcp-networks", nil,
		map[string]string{"network_id": networkID}, &out)
	if err != nil {
		return fmt.Errorf("add network %s to DHCP agent %s: %w", networkID, agentID, err)
	}
	return nil
}

// RemoveDHCPNetwork takes a network off a DHCP agent.
func (c *Client) RemoveDHCPNetwork(ctx context.Context, agentID, networkID string) error {
	err := c.neutron(ctx, http.MethodDelete, "/v2.0/agents/"+url.PathEscape(agentID)+"/dhcp-networks/"+url.PathEscape(networkID), nil, nil, nil)
	if err != nil {
		return fmt.Errorf("remove network %s from DHCP agent %s: %w", networkID, agentID, err)
	}
	return nil
}
