package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/vland/vland/api"
)

// QuotaUpdate is the body of a quota set: nil fields are left as they are
// (-1 is unlimited).
type QuotaUpdate struct {
	Network    *int `json:"network,omitempty"`
	Subnet     *int `json:"subnet,omitempty"`
	Port       *int `json:"port,omitempty"`
	Router     *int `json:"router,omitempty"`
	FloatingIP *int `json:"floatingip,omitempty"`

	SecurityGroup     *int `json:"security_group,omitempty"`
	SecurityGroupRule *int `json:"security_group_rule,omitempty"`
}

func quotaPath(project string) string { return "/v2.0/quotas/" + url.PathEscape(project) }

// GetQuota reads a project's limits (GET /v2.0/quotas/{project_id}).
func (c *Client) GetQuota(ctx context.Context, project string) (api.Quota, error) {
	var out struct {
		Quota api.Quota `json:"quota"`
	}
	if err := c.neutron(ctx, http.MethodGet, quotaPath(project), nil, nil, &out); err != nil {
		return api.Quota{}, fmt.Errorf("get quota of %s: %w", project, err)
	}
	return out.Quota, nil
}

// QuotaDetails reads a project's limits with its usage
// (GET /v2.0/quotas/{project_id}/details).
func (c *Client) QuotaDetails(ctx context.Context, project string) (api.QuotaDetails, error) {
	var out struct {
		Quota api.QuotaDetails `json:"quota"`
	}
	if err := c.neutron(ctx, http.MethodGet, quotaPath(project)+"/details", nil, nil, &out); err != nil {
		return api.QuotaDetails{}, fmt.Errorf("get quota details of %s: %w", project, err)
	}
	return out.Quota, nil
}

// SetQuota changes a project's limits (admin only).
func (c *Client) SetQuota(ctx context.Context, project string, req QuotaUpdate) (api.Quota, error) {
	var out struct {
		Quota api.Quota `json:"quota"`
	}
	in := map[string]any{"quota": req}
	if err := c.neutron(ctx, http.MethodPut, quotaPath(project), nil, in, &out); err != nil {
		return api.Quota{}, fmt.Errorf("set quota of %s: %w", project, err)
	}
	return out.Quota, nil
}
