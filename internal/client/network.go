package client

import (
	"context"
	"net/url"

	"github.com/vland/vland/api"
)

var networks = resource[api.Network]{single: "network", plural: "networks",
	name: func(n api.Network) string { return n.Name }}

// NetworkCreate is the body of a network create. Nil or empty fields are
// left out, so the server applies its defaults.
type NetworkCreate struct {
	Name                string   `json:"name,omitempty"`
	Description         string   `json:"description,omitempty"`
	ProjectID           string   `json:"project_id,omitempty"`
	AdminStateUp        *bool    `json:"admin_state_up,omitempty"`
	Shared              *bool    `json:"shared,omitempty"`
	External            *bool    `json:"router:external,omitempty"`
	MTU                 *int     `json:"mtu,omitempty"`
	NetworkType         string   `json:"provider:network_type,omitempty"`
	PhysicalNetwork     string   `json:"provider:physical_network,omitempty"`
	SegmentationID      *int     `json:"provider:segmentation_id,omitempty"`
	PortSecurityEnabled *bool    `json:"port_security_enabled,omitempty"`
	Tags                []string `json:"tags,omitempty"`
	DNSDomain           string   `json:"dns_domain,omitempty"`
}

// NetworkUpdate is the body of a network update; only non-nil fields change.
type NetworkUpdate struct {
	Name                *string `json:"name,omitempty"`
	Description         *string `json:"description,omitempty"`
	AdminStateUp        *bool   `json:"admin_state_up,omitempty"`
	Shared              *bool   `json:"shared,omitempty"`
	External            *bool   `json:"router:external,omitempty"`
	MTU                 *int    `json:"mtu,omitempty"`
	PortSecurityEnabled *bool   `json:"port_security_enabled,omitempty"`
	DNSDomain           *string `json:"dns_domain,omitempty"`
}

// CreateNetwork creates a network (POST /v2.0/networks).
func (c *Client) CreateNetwork(ctx context.Context, req NetworkCreate) (api.Network, error) {
	return networks.create(ctx, c, req)
}

// ListNetworks lists the networks matching filters (nil for all visible).
func (c *Client) ListNetworks(ctx context.Context, filters url.Values) ([]api.Network, error) {
	return networks.list(ctx, c, filters)
}

// GetNetwork reads one network by ID.
func (c *Client) GetNetwork(ctx context.Context, id string) (api.Network, error) {
	return networks.get(ctx, c, id)
}

// FindNetwork resolves a network name or ID (see ResolveError).
func (c *Client) FindNetwork(ctx context.Context, nameOrID string) (api.Network, error) {
	return networks.find(ctx, c, nameOrID)
}

// UpdateNetwork changes the fields set in req.
func (c *Client) UpdateNetwork(ctx context.Context, id string, req NetworkUpdate) (api.Network, error) {
	return networks.update(ctx, c, id, req)
}

// DeleteNetwork deletes a network by ID.
func (c *Client) DeleteNetwork(ctx context.Context, id string) error {
	return networks.delete(ctx, c, id)
}
