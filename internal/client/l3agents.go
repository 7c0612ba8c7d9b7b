package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/vland/vland/api"
)

// The l3_agent_scheduler extension: which L3 agent realises which router.

// ListL3Routers lists the routers an L3 agent realises
// (GET /v2.0/agents/{id}/l3-routers).
func (c *Client) ListL3Routers(ctx context.Context, agentID string) ([]api.Router, error) {
	var out struct {
		Routers []api.Router `json:"routers"`
	}
	err := c.neutron(ctx, http.MethodGet, "/v2.0/agents/"+url.PathEscape(agentID)+"/l3-routers", nil, nil, &out)
	return out.Routers, err
}

// ListRouterL3Agents lists the L3 agents realising a router
// (GET /v2.0/routers/{id}/l3-agents).
func (c *Client) ListRouterL3Agents(ctx context.Context, routerID string) ([]api.Agent, error) {
	var out struct {
		Agents []api.Agent `json:"agents"`
	}
	err := c.neutron(ctx, http.MethodGet, "/v2.0/routers/"+url.PathEscape(routerID)+"/l3-agents", nil, nil, &out)
	return out.Agents, err
}

// AddL3Router puts a router on an L3 agent.
func (c *Client) AddL3Router(ctx context.Context, agentID, routerID string) error {
	var out json.RawMessage
	err := c.neutron(ctx, http.MethodPost, "/v2.0/agents/"+url.PathEscape(agentID)+"/l3-routers", nil,
		map[string]string{"router_id": routerID}, &out)
	if err != nil {
		return fmt.Errorf("add router %s to L3 agent %s: %w", routerID, agentID, err)
	}
	return nil
}

// RemoveL3Router takes a router off an L3 agent.
func (c *Client) RemoveL3Router(ctx context.Context, agentID, routerID string) error {
	err := c.neutron(ctx, http.MethodDelete, "/v2.0/agents/"+url.PathEscape(agentID)+"/l3-routers/"+url.PathEscape(routerID), nil, nil, nil)
	if err != nil {
		return fmt.Errorf("remove router %s from L3 agent %s: %w", routerID, agentID, err)
	}
	return nil
}
