package client

import (
	"context"
	"net/url"

	"github.com/vland/vland/api"
)

var rbacPolicies = resource[api.RBACPolicy]{single: "rbac_policy", plural: "rbac_policies", coll: "rbac-policies",
	name: func(api.RBACPolicy) string { return "" }}

// RBACCreate is the body of an RBAC policy create: grant TargetTenant
// ("*": every project, admins only) Action on the object.
type RBACCreate struct {
	ObjectType   string `json:"object_type"`
	ObjectID     string `json:"object_id"`
	Action       string `json:"action"`
	TargetTenant string `json:"target_tenant"`
	ProjectID    string `json:"project_id,omitempty"`
}

// RBACUpdate changes a policy's target.
type RBACUpdate struct {
	TargetTenant string `json:"target_tenant"`
}

// CreateRBACPolicy creates a policy (POST /v2.0/rbac-policies).
func (c *Client) CreateRBACPolicy(ctx context.Context, req RBACCreate) (api.RBACPolicy, error) {
	return rbacPolicies.create(ctx, c, req)
}

// ListRBACPolicies lists the policies matching filters (object_id, action,
// target_tenant, ...).
func (c *Client) ListRBACPolicies(ctx context.Context, filters url.Values) ([]api.RBACPolicy, error) {
	return rbacPolicies.list(ctx, c, filters)
}

// GetRBACPolicy reads one policy by ID (policies have no names).
func (c *Client) GetRBACPolicy(ctx context.Context, id string) (api.RBACPolicy, error) {
	return rbacPolicies.get(ctx, c, id)
}

// UpdateRBACPolicy changes a policy's target.
func (c *Client) UpdateRBACPolicy(ctx context.Context, id string, req RBACUpdate) (api.RBACPolicy, error) {
	return rbacPolicies.update(ctx, c, id, req)
}

// DeleteRBACPolicy deletes a policy by ID.
func (c *Client) DeleteRBACPolicy(ctx context.Context, id string) error {
	return rbacPolicies.delete(ctx, c, id)
}
