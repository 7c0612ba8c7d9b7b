package client

import (
	"context"
	"net/url"

	"github.com/vland/vland/api"
)

var agents = resource[api.Agent]{single: "agent", plural: "agents",
	name: func(a api.Agent) string { return a.Host }}

// ListAgents lists the host agents (GET /v2.0/agents), e.g. filtered by
// host or agent_type.
func (c *Client) ListAgents(ctx context.Context, filters url.Values) ([]api.Agent, error) {
	return agents.list(ctx, c, filters)
}

// GetAgent reads one agent by ID.
func (c *Client) GetAgent(ctx context.Context, id string) (api.Agent, error) {
	return agents.get(ctx, c, id)
}
