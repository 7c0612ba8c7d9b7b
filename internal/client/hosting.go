package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/vland/vland/api"
)

// hosting is one agent scheduler extension: which agents host which
// resources, seen from both sides (GET /v2.0/agents/{id}/<byAgent>, GET
// /v2.0/<hosted>/{id}/<byHosted>), and the operator's add and remove.
type hosting[T any] struct {
	agentKind string      // in errors: "DHCP", "L3"
	hosted    resource[T] // what the agents host: networks, routers
	byAgent   string      // an agent's sub-collection: "dhcp-networks"
	byHosted  string      // a hosted resource's sub-collection: "dhcp-agents"
}

// onAgent is the collection of what one agent hosts.
func (h hosting[T]) onAgent(agentID string) resource[T] {
	r := h.hosted
	r.coll = "agents/" + url.PathEscape(agentID) + "/" + h.byAgent
	return r
}

// list lists what an agent hosts.
func (h hosting[T]) list(ctx context.Context, c *Client, agentID string) ([]T, error) {
	return h.onAgent(agentID).list(ctx, c, nil)
}

// agents lists the agents hosting one resource.
func (h hosting[T]) agents(ctx context.Context, c *Client, id string) ([]api.Agent, error) {
	var out struct {
		Agents []api.Agent `json:"agents"`
	}
	err := c.neutron(ctx, http.MethodGet, h.hosted.path(id)+"/"+h.byHosted, nil, nil, &out)
	return out.Agents, err
}

// add puts a resource on an agent.
func (h hosting[T]) add(ctx context.Context, c *Client, agentID, id string) error {
	var out json.RawMessage
	err := c.neutron(ctx, http.MethodPost, h.onAgent(agentID).path(""), nil, map[string]string{h.hosted.single + "_id": id}, &out)
	if err != nil {
		return fmt.Errorf("add %s %s to %s agent %s: %w", h.hosted.single, id, h.agentKind, agentID, err)
	}
	return nil
}

// remove takes a resource off an agent.
func (h hosting[T]) remove(ctx context.Context, c *Client, agentID, id string) error {
	err := c.neutron(ctx, http.MethodDelete, h.onAgent(agentID).path(id), nil, nil, nil)
	if err != nil {
		return fmt.Errorf("remove %s %s from %s agent %s: %w", h.hosted.single, id, h.agentKind, agentID, err)
	}
	return nil
}
