package client

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/vland/vland/api"
)

var ports = resource[api.Port]{single: "port", plural: "ports",
	name: func(p api.Port) string { return p.Name }}

// FixedIPRequest asks for an address: a given IP, any IP of a given subnet,
// or both. Empty fields are left out.
type FixedIPRequest struct {
	SubnetID  string `json:"subnet_id,omitempty"`
	IPAddress string `json:"ip_address,omitempty"`
}

// PortCreate is the body of a port create. Nil or empty fields are left
// out, so the server allocates a MAC and an address.
type PortCreate struct {
	Name                string            `json:"name,omitempty"`
	Description         string            `json:"description,omitempty"`
	ProjectID           string            `json:"project_id,omitempty"`
	NetworkID           string            `json:"network_id"`
	MACAddress          string            `json:"mac_address,omitempty"`
	FixedIPs            []FixedIPRequest  `json:"fixed_ips,omitempty"`
	DeviceID            string            `json:"device_id,omitempty"`
	DeviceOwner         string            `json:"device_owner,omitempty"`
	BindingHostID       string            `json:"binding:host_id,omitempty"`
	AdminStateUp        *bool             `json:"admin_state_up,omitempty"`
	PortSecurityEnabled *bool             `json:"port_security_enabled,omitempty"`
	SecurityGroups      *[]string         `json:"security_groups,omitempty"`
	AllowedAddressPairs []api.AddressPair `json:"allowed_address_pairs,omitempty"`
	Tags                []string          `json:"tags,omitempty"`
	DNSName             string            `json:"dns_name,omitempty"`
	ExtraDHCPOpts       []DHCPOption      `json:"extra_dhcp_opts,omitempty"`
}

// DHCPOption is one extra_dhcp_opts entry; a nil Value (on update)
// removes the option.
type DHCPOption struct {
	Name      string  `json:"opt_name"`
	Value     *string `json:"opt_value"`
	IPVersion int     `json:"ip_version,omitempty"`
}

// PortUpdate is the body of a port update; only non-nil fields change. The
// list pointers replace the whole list (an empty list clears it).
type PortUpdate struct {
	Name                *string            `json:"name,omitempty"`
	Description         *string            `json:"description,omitempty"`
	MACAddress          *string            `json:"mac_address,omitempty"`
	FixedIPs            *[]FixedIPRequest  `json:"fixed_ips,omitempty"`
	DeviceID            *string            `json:"device_id,omitempty"`
	DeviceOwner         *string            `json:"device_owner,omitempty"`
	BindingHostID       *string            `json:"binding:host_id,omitempty"`
	AdminStateUp        *bool              `json:"admin_state_up,omitempty"`
	PortSecurityEnabled *bool              `json:"port_security_enabled,omitempty"`
	SecurityGroups      *[]string          `json:"security_groups,omitempty"`
	AllowedAddressPairs *[]api.AddressPair `json:"allowed_address_pairs,omitempty"`
	DNSName             *string            `json:"dns_name,omitempty"`
	ExtraDHCPOpts       *[]DHCPOption      `json:"extra_dhcp_opts,omitempty"`
}

// CreatePort creates a port (POST /v2.0/ports).
func (c *Client) CreatePort(ctx context.Context, req PortCreate) (api.Port, error) {
	return ports.create(ctx, c, req)
}

// ListPorts lists the ports matching filters (e.g. network_id, device_id,
// binding:host_id).
func (c *Client) ListPorts(ctx context.Context, filters url.Values) ([]api.Port, error) {
	return ports.list(ctx, c, filters)
}

// GetPort reads one port by ID.
func (c *Client) GetPort(ctx context.Context, id string) (api.Port, error) {
	return ports.get(ctx, c, id)
}

// FindPort resolves a port name or ID (see ResolveError).
func (c *Client) FindPort(ctx context.Context, nameOrID string) (api.Port, error) {
	return ports.find(ctx, c, nameOrID)
}

// UpdatePort changes the fields set in req.
func (c *Client) UpdatePort(ctx context.Context, id string, req PortUpdate) (api.Port, error) {
	return ports.update(ctx, c, id, req)
}

// DeletePort deletes a port by ID.
func (c *Client) DeletePort(ctx context.Context, id string) error {
	return ports.delete(ctx, c, id)
}

// WaitPortStatus polls a port every interval until its status is want
// (e.g. api.StatusActive once the host agent has wired it) and returns it,
// or fails when ctx ends, with the last status seen.
func (c *Client) WaitPortStatus(ctx context.Context, id, want string, interval time.Duration) (api.Port, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var last api.Port
	for {
		p, err := c.GetPort(ctx, id)
		switch {
		case err == nil && p.Status == want:
			return p, nil
		case err == nil:
			last = p
		case ctx.Err() == nil:
			return p, err
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("port %s: status %q, want %q: %w", id, last.Status, want, ctx.Err())
		case <-t.C:
		}
	}
}
