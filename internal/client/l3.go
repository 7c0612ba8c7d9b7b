package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/vland/vland/api"
)

var routers = resource[api.Router]{single: "router", plural: "routers",
	name: func(r api.Router) string { return r.Name }}

var floatingIPs = resource[api.FloatingIP]{single: "floatingip", plural: "floatingips",
	name: func(f api.FloatingIP) string { return f.FloatingIPAddress }}

func portForwardings(fipID string) resource[api.PortForwarding] {
	return resource[api.PortForwarding]{single: "port_forwarding", plural: "port_forwardings",
		coll: "floatingips/" + url.PathEscape(fipID) + "/port_forwardings",
		name: func(p api.PortForwarding) string { return p.ID }}
}

// GatewayInfo is external_gateway_info as sent: nil fields are left out.
type GatewayInfo struct {
	NetworkID        string        `json:"network_id"`
	EnableSNAT       *bool         `json:"enable_snat,omitempty"`
	ExternalFixedIPs []api.FixedIP `json:"external_fixed_ips,omitempty"`
}

// RouterCreate is the body of a router create.
type RouterCreate struct {
	Name         string       `json:"name,omitempty"`
	Description  string       `json:"description,omitempty"`
	ProjectID    string       `json:"project_id,omitempty"`
	AdminStateUp *bool        `json:"admin_state_up,omitempty"`
	Gateway      *GatewayInfo `json:"external_gateway_info,omitempty"`
	Tags         []string     `json:"tags,omitempty"`
}

// RouterUpdate is the body of a router update; only set fields change.
// ClearGateway sends external_gateway_info null.
type RouterUpdate struct {
	Name         *string
	Description  *string
	AdminStateUp *bool
	Gateway      *GatewayInfo
	ClearGateway bool
	Routes       *[]api.Route
}

// MarshalJSON writes the set fields (and null for a cleared gateway).
func (u RouterUpdate) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if u.Name != nil {
		m["name"] = *u.Name
	}
	if u.Description != nil {
		m["description"] = *u.Description
	}
	if u.AdminStateUp != nil {
		m["admin_state_up"] = *u.AdminStateUp
	}
	if u.Gateway != nil {
		m["external_gateway_info"] = u.Gateway
	} else if u.ClearGateway {
		m["external_gateway_info"] = nil
	}
	if u.Routes != nil {
		m["routes"] = *u.Routes
	}
	return json.Marshal(m)
}

// CreateRouter creates a router.
func (c *Client) CreateRouter(ctx context.Context, req RouterCreate) (api.Router, error) {
	return routers.create(ctx, c, req)
}

// ListRouters lists the routers matching filters.
func (c *Client) ListRouters(ctx context.Context, filters url.Values) ([]api.Router, error) {
	return routers.list(ctx, c, filters)
}

// FindRouter resolves a router name or ID.
func (c *Client) FindRouter(ctx context.Context, nameOrID string) (api.Router, error) {
	return routers.find(ctx, c, nameOrID)
}

// UpdateRouter changes the fields set in req.
func (c *Client) UpdateRouter(ctx context.Context, id string, req RouterUpdate) (api.Router, error) {
	return routers.update(ctx, c, id, req)
}

// DeleteRouter deletes a router by ID.
func (c *Client) DeleteRouter(ctx context.Context, id string) error {
	return routers.delete(ctx, c, id)
}

// RouterInterface adds (add true) or removes a router interface by subnet
// or port ID (one of them set).
func (c *Client) RouterInterface(ctx context.Context, routerID string, add bool, subnetID, portID string) (api.RouterInterface, error) {
	op := "remove_router_interface"
	if add {
		op = "add_router_interface"
	}
	body := map[string]string{}
	if subnetID != "" {
		body["subnet_id"] = subnetID
	}
	if portID != "" {
		body["port_id"] = portID
	}
	var out api.RouterInterface
	err := c.neutron(ctx, http.MethodPut, routers.path(routerID)+"/"+op, nil, body, &out)
	return out, err
}

// FloatingIPCreate is the body of a floating IP create.
type FloatingIPCreate struct {
	FloatingNetworkID string   `json:"floating_network_id"`
	SubnetID          string   `json:"subnet_id,omitempty"`
	FloatingIPAddress string   `json:"floating_ip_address,omitempty"`
	PortID            string   `json:"port_id,omitempty"`
	FixedIPAddress    string   `json:"fixed_ip_address,omitempty"`
	Description       string   `json:"description,omitempty"`
	ProjectID         string   `json:"project_id,omitempty"`
	Tags              []string `json:"tags,omitempty"`
}

// FloatingIPUpdate is the body of a floating IP update: Disassociate sends
// port_id null.
type FloatingIPUpdate struct {
	PortID         *string
	FixedIPAddress *string
	Description    *string
	Disassociate   bool
}

// MarshalJSON writes the set fields.
func (u FloatingIPUpdate) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if u.PortID != nil {
		m["port_id"] = *u.PortID
	} else if u.Disassociate {
		m["port_id"] = nil
	}
	if u.FixedIPAddress != nil {
		m["fixed_ip_address"] = *u.FixedIPAddress
	}
	if u.Description != nil {
		m["description"] = *u.Description
	}
	return json.Marshal(m)
}

// CreateFloatingIP allocates a floating IP.
func (c *Client) CreateFloatingIP(ctx context.Context, req FloatingIPCreate) (api.FloatingIP, error) {
	return floatingIPs.create(ctx, c, req)
}

// ListFloatingIPs lists the floating IPs matching filters.
func (c *Client) ListFloatingIPs(ctx context.Context, filters url.Values) ([]api.FloatingIP, error) {
	return floatingIPs.list(ctx, c, filters)
}

// FindFloatingIP resolves a floating IP by ID or address.
func (c *Client) FindFloatingIP(ctx context.Context, idOrAddress string) (api.FloatingIP, error) {
	v, err := floatingIPs.get(ctx, c, idOrAddress)
	var apiErr *APIError
	if err == nil || !errors.As(err, &apiErr) || (apiErr.Status != http.StatusNotFound && apiErr.Status != http.StatusBadRequest) {
		return v, err
	}
	all, err := floatingIPs.list(ctx, c, url.Values{"floating_ip_address": {idOrAddress}})
	if err != nil {
		return v, err
	}
	if len(all) != 1 || all[0].FloatingIPAddress != idOrAddress {
		return v, &ResolveError{Kind: "floatingip", Ref: idOrAddress, Matches: len(all)}
	}
	return all[0], nil
}

// UpdateFloatingIP associates, moves or disassociates a floating IP.
func (c *Client) UpdateFloatingIP(ctx context.Context, id string, req FloatingIPUpdate) (api.FloatingIP, error) {
	return floatingIPs.update(ctx, c, id, req)
}

// DeleteFloatingIP releases a floating IP.
func (c *Client) DeleteFloatingIP(ctx context.Context, id string) error {
	return floatingIPs.delete(ctx, c, id)
}

// PortForwardingCreate is the body of a port forwarding create or update
// (nil and empty fields left out).
type PortForwardingCreate struct {
	Protocol          string  `json:"protocol,omitempty"`
	InternalPortID    string  `json:"internal_port_id,omitempty"`
	InternalIPAddress string  `json:"internal_ip_address,omitempty"`
	InternalPort      *int    `json:"internal_port,omitempty"`
	ExternalPort      *int    `json:"external_port,omitempty"`
	InternalPortRange string  `json:"internal_port_range,omitempty"`
	ExternalPortRange string  `json:"external_port_range,omitempty"`
	Description       *string `json:"description,omitempty"`
}

// CreatePortForwarding adds a port forwarding to a floating IP.
func (c *Client) CreatePortForwarding(ctx context.Context, fipID string, req PortForwardingCreate) (api.PortForwarding, error) {
	return portForwardings(fipID).create(ctx, c, req)
}

// ListPortForwardings lists a floating IP's port forwardings.
func (c *Client) ListPortForwardings(ctx context.Context, fipID string, filters url.Values) ([]api.PortForwarding, error) {
	return portForwardings(fipID).list(ctx, c, filters)
}

// GetPortForwarding reads one port forwarding.
func (c *Client) GetPortForwarding(ctx context.Context, fipID, id string) (api.PortForwarding, error) {
	return portForwardings(fipID).get(ctx, c, id)
}

// UpdatePortForwarding changes a port forwarding.
func (c *Client) UpdatePortForwarding(ctx context.Context, fipID, id string, req PortForwardingCreate) (api.PortForwarding, error) {
	return portForwardings(fipID).update(ctx, c, id, req)
}

// DeletePortForwarding deletes a port forwarding.
func (c *Client) DeletePortForwarding(ctx context.Context, fipID, id string) error {
	if err := portForwardings(fipID).delete(ctx, c, id); err != nil {
		return fmt.Errorf("floating ip %s: %w", fipID, err)
	}
	return nil
}
