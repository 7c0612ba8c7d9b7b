package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/vland/vland/api"
)

// CreateInstance records an instance (admin only; POST /vland/instances).
func (c *Client) CreateInstance(ctx context.Context, in api.Instance) (api.Instance, error) {
	var out struct {
		Instance api.Instance `json:"instance"`
	}
	err := c.neutron(ctx, http.MethodPost, "/vland/instances", nil, map[string]any{"instance": in}, &out)
	return out.Instance, err
}

// GetInstance reads an instance record.
func (c *Client) GetInstance(ctx context.Context, id string) (api.Instance, error) {
	var out struct {
		Instance api.Instance `json:"instance"`
	}
	err := c.neutron(ctx, http.MethodGet, "/vland/instances/"+url.PathEscape(id), nil, nil, &out)
	return out.Instance, err
}

// ListInstances lists the instance records.
func (c *Client) ListInstances(ctx context.Context) ([]api.Instance, error) {
	var out struct {
		Instances []api.Instance `json:"instances"`
	}
	err := c.neutron(ctx, http.MethodGet, "/vland/instances", nil, nil, &out)
	return out.Instances, err
}

// DeleteInstance deletes an instance record.
func (c *Client) DeleteInstance(ctx context.Context, id string) error {
	return c.neutron(ctx, http.MethodDelete, "/vland/instances/"+url.PathEscape(id), nil, nil, nil)
}
