package client

import (
	"context"

	"github.com/vland/vland/api"
)

// The l3_agent_scheduler extension: which L3 agent realises which router.
var l3Hosting = hosting[api.Router]{agentKind: "L3", hosted: routers,
	byAgent: "l3-routers", byHosted: "l3-agents"}

// ListL3Routers lists the routers an L3 agent realises
// (GET /v2.0/agents/{id}/l3-routers).
func (c *Client) ListL3Routers(ctx context.Context, agentID string) ([]api.Router, error) {
	return l3Hosting.list(ctx, c, agentID)
}

// ListRouterL3Agents lists the L3 agents realising a router
// (GET /v2.0/routers/{id}/l3-agents).
func (c *Client) ListRouterL3Agents(ctx context.Context, routerID string) ([]api.Agent, error) {
	return l3Hosting.agents(ctx, c, routerID)
}

// AddL3Router puts a router on an L3 agent.
func (c *Client) AddL3Router(ctx context.Context, agentID, routerID string) error {
	return l3Hosting.add(ctx, c, agentID, routerID)
}

// RemoveL3Router takes a router off an L3 agent.
func (c *Client) RemoveL3Router(ctx context.Context, agentID, routerID string) error {
	return l3Hosting.remove(ctx, c, agentID, routerID)
}
