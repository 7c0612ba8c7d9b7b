package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/vland/vland/api"
)

var subnetPools = resource[api.SubnetPool]{single: "subnetpool", plural: "subnetpools",
	name: func(p api.SubnetPool) string { return p.Name }}

var addressScopes = resource[api.AddressScope]{single: "address_scope", plural: "address_scopes",
	coll: "address-scopes", name: func(s api.AddressScope) string { return s.Name }}

var ipAvailabilities = resource[api.NetworkIPAvailability]{single: "network_ip_availability",
	plural: "network_ip_availabilities", coll: "network-ip-availabilities",
	name: func(a api.NetworkIPAvailability) string { return a.NetworkName }}

// SubnetPoolCreate is the body of a subnet pool create; nil or empty
// fields are left out (server defaults).
type SubnetPoolCreate struct {
	Name             string   `json:"name,omitempty"`
	Description      string   `json:"description,omitempty"`
	ProjectID        string   `json:"project_id,omitempty"`
	Prefixes         []string `json:"prefixes"`
	DefaultPrefixLen *int     `json:"default_prefixlen,omitempty"`
	MinPrefixLen     *int     `json:"min_prefixlen,omitempty"`
	MaxPrefixLen     *int     `json:"max_prefixlen,omitempty"`
	Shared           *bool    `json:"shared,omitempty"`
	IsDefault        *bool    `json:"is_default,omitempty"`
	DefaultQuota     *int     `json:"default_quota,omitempty"`
	AddressScopeID   string   `json:"address_scope_id,omitempty"`
	Tags             []string `json:"tags,omitempty"`
}

// SubnetPoolUpdate is the body of a subnet pool update; only non-nil
// fields change. NoAddressScope sends "address_scope_id": null.
type SubnetPoolUpdate struct {
	Name             *string   `json:"name,omitempty"`
	Description      *string   `json:"description,omitempty"`
	Prefixes         *[]string `json:"prefixes,omitempty"`
	DefaultPrefixLen *int      `json:"default_prefixlen,omitempty"`
	MinPrefixLen     *int      `json:"min_prefixlen,omitempty"`
	MaxPrefixLen     *int      `json:"max_prefixlen,omitempty"`
	IsDefault        *bool     `json:"is_default,omitempty"`
	DefaultQuota     *int      `json:"default_quota,omitempty"`
	AddressScopeID   *string   `json:"address_scope_id,omitempty"`
	NoAddressScope   bool      `json:"-"`
}

// MarshalJSON writes NoAddressScope as "address_scope_id": null.
func (u SubnetPoolUpdate) MarshalJSON() ([]byte, error) {
	type plain SubnetPoolUpdate
	return withNull(plain(u), "address_scope_id", u.NoAddressScope)
}

// CreateSubnetPool creates a subnet pool.
func (c *Client) CreateSubnetPool(ctx context.Context, req SubnetPoolCreate) (api.SubnetPool, error) {
	return subnetPools.create(ctx, c, req)
}

// ListSubnetPools lists the subnet pools matching filters.
func (c *Client) ListSubnetPools(ctx context.Context, filters url.Values) ([]api.SubnetPool, error) {
	return subnetPools.list(ctx, c, filters)
}

// FindSubnetPool resolves a subnet pool name or ID.
func (c *Client) FindSubnetPool(ctx context.Context, nameOrID string) (api.SubnetPool, error) {
	return subnetPools.find(ctx, c, nameOrID)
}

// UpdateSubnetPool changes the fields set in req.
func (c *Client) UpdateSubnetPool(ctx context.Context, id string, req SubnetPoolUpdate) (api.SubnetPool, error) {
	return subnetPools.update(ctx, c, id, req)
}

// DeleteSubnetPool deletes a subnet pool by ID.
func (c *Client) DeleteSubnetPool(ctx context.Context, id string) error {
	return subnetPools.delete(ctx, c, id)
}

// RemovePoolPrefixes takes prefixes off a subnet pool and returns what
// is left (PUT .../remove_prefixes).
func (c *Client) RemovePoolPrefixes(ctx context.Context, id string, prefixes []string) ([]string, error) {
	var out struct {
		Prefixes []string `json:"prefixes"`
	}
	err := c.neutron(ctx, http.MethodPut, subnetPools.path(id)+"/remove_prefixes", nil, map[string]any{"prefixes": prefixes}, &out)
	return out.Prefixes, err
}

// AddressScopeCreate is the body of an address scope create.
type AddressScopeCreate struct {
	Name      string `json:"name,omitempty"`
	ProjectID string `json:"project_id,omitempty"`
	IPVersion int    `json:"ip_version"`
	Shared    *bool  `json:"shared,omitempty"`
}

// AddressScopeUpdate is the body of an address scope update.
type AddressScopeUpdate struct {
	Name   *string `json:"name,omitempty"`
	Shared *bool   `json:"shared,omitempty"`
}

// CreateAddressScope creates an address scope.
func (c *Client) CreateAddressScope(ctx context.Context, req AddressScopeCreate) (api.AddressScope, error) {
	return addressScopes.create(ctx, c, req)
}

// ListAddressScopes lists the address scopes matching filters.
func (c *Client) ListAddressScopes(ctx context.Context, filters url.Values) ([]api.AddressScope, error) {
	return addressScopes.list(ctx, c, filters)
}

// FindAddressScope resolves an address scope name or ID.
func (c *Client) FindAddressScope(ctx context.Context, nameOrID string) (api.AddressScope, error) {
	return addressScopes.find(ctx, c, nameOrID)
}

// UpdateAddressScope changes the fields set in req.
func (c *Client) UpdateAddressScope(ctx context.Context, id string, req AddressScopeUpdate) (api.AddressScope, error) {
	return addressScopes.update(ctx, c, id, req)
}

// DeleteAddressScope deletes an address scope by ID.
func (c *Client) DeleteAddressScope(ctx context.Context, id string) error {
	return addressScopes.delete(ctx, c, id)
}

// ListIPAvailability lists the networks' IP availability (admin).
func (c *Client) ListIPAvailability(ctx context.Context, filters url.Values) ([]api.NetworkIPAvailability, error) {
	return ipAvailabilities.list(ctx, c, filters)
}

// GetIPAvailability reads one network's IP availability (admin).
func (c *Client) GetIPAvailability(ctx context.Context, networkID string) (api.NetworkIPAvailability, error) {
	return ipAvailabilities.get(ctx, c, networkID)
}
