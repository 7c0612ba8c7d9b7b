package client

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/vland/vland/api"
)

var subnets = resource[api.Subnet]{single: "subnet", plural: "subnets",
	name: func(s api.Subnet) string { return s.Name }}

// SubnetCreate is the body of a subnet create. GatewayIP nil lets the
// server pick the first address; NoGateway sends "gateway_ip": null (a
// subnet without gateway).
type SubnetCreate struct {
	Name            string               `json:"name,omitempty"`
	Description     string               `json:"description,omitempty"`
	ProjectID       string               `json:"project_id,omitempty"`
	NetworkID       string               `json:"network_id"`
	IPVersion       int                  `json:"ip_version,omitempty"`
	CIDR            string               `json:"cidr,omitempty"`
	SubnetPoolID    string               `json:"subnetpool_id,omitempty"`
	Prefixlen       *int                 `json:"prefixlen,omitempty"`
	UseDefaultPool  *bool                `json:"use_default_subnetpool,omitempty"`
	GatewayIP       *string              `json:"gateway_ip,omitempty"`
	NoGateway       bool                 `json:"-"`
	AllocationPools []api.AllocationPool `json:"allocation_pools,omitempty"`
	EnableDHCP      *bool                `json:"enable_dhcp,omitempty"`
	DNSNameservers  []string             `json:"dns_nameservers,omitempty"`
	HostRoutes      []api.HostRoute      `json:"host_routes,omitempty"`
	Tags            []string             `json:"tags,omitempty"`
}

// MarshalJSON writes NoGateway as "gateway_ip": null.
func (s SubnetCreate) MarshalJSON() ([]byte, error) {
	type plain SubnetCreate
	return withNullGateway(plain(s), s.NoGateway)
}

// SubnetUpdate is the body of a subnet update; only non-nil fields change.
// The slices replace the whole list when non-nil (an empty slice clears it).
type SubnetUpdate struct {
	Name            *string               `json:"name,omitempty"`
	Description     *string               `json:"description,omitempty"`
	GatewayIP       *string               `json:"gateway_ip,omitempty"`
	NoGateway       bool                  `json:"-"`
	AllocationPools *[]api.AllocationPool `json:"allocation_pools,omitempty"`
	EnableDHCP      *bool                 `json:"enable_dhcp,omitempty"`
	DNSNameservers  *[]string             `json:"dns_nameservers,omitempty"`
	HostRoutes      *[]api.HostRoute      `json:"host_routes,omitempty"`
}

// MarshalJSON writes NoGateway as "gateway_ip": null.
func (s SubnetUpdate) MarshalJSON() ([]byte, error) {
	type plain SubnetUpdate
	return withNullGateway(plain(s), s.NoGateway)
}

// withNullGateway marshals v and, if null is set, adds "gateway_ip": null.
func withNullGateway(v any, null bool) ([]byte, error) { return withNull(v, "gateway_ip", null) }

// withNull marshals v and, if null is set, adds "<key>": null.
func withNull(v any, key string, null bool) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil || !null {
		return data, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	m[key] = nil
	return json.Marshal(m)
}

// CreateSubnet creates a subnet (POST /v2.0/subnets).
func (c *Client) CreateSubnet(ctx context.Context, req SubnetCreate) (api.Subnet, error) {
	return subnets.create(ctx, c, req)
}

// ListSubnets lists the subnets matching filters (e.g. network_id).
func (c *Client) ListSubnets(ctx context.Context, filters url.Values) ([]api.Subnet, error) {
	return subnets.list(ctx, c, filters)
}

// GetSubnet reads one subnet by ID.
func (c *Client) GetSubnet(ctx context.Context, id string) (api.Subnet, error) {
	return subnets.get(ctx, c, id)
}

// FindSubnet resolves a subnet name or ID (see ResolveError).
func (c *Client) FindSubnet(ctx context.Context, nameOrID string) (api.Subnet, error) {
	return subnets.find(ctx, c, nameOrID)
}

// UpdateSubnet changes the fields set in req.
func (c *Client) UpdateSubnet(ctx context.Context, id string, req SubnetUpdate) (api.Subnet, error) {
	return subnets.update(ctx, c, id, req)
}

// DeleteSubnet deletes a subnet by ID.
func (c *Client) DeleteSubnet(ctx context.Context, id string) error {
	return subnets.delete(ctx, c, id)
}
