package ovsdb

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/vland/vland/internal/ovs/ovsdb/vswitchd"
)

// DeletePort removes port name (and its interface). bridge "" means
// whichever bridge holds it. Deleting a missing port is not an error.
func (c *Client) DeletePort(ctx context.Context, bridge, name string) error {
	port, _, err := c.portRows(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	br, err := c.bridgeOfPort(ctx, port.UUID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if bridge != "" && br.Name != bridge {
		return fmt.Errorf("%w: port %s is on bridge %s, not %s", ErrNotFound, name, br.Name, bridge)
	}
	ops, err := c.ovs.Where(br).Mutate(br, model.Mutation{
		Field: &br.Ports, Mutator: ovsdb.MutateOperationDelete, Value: []string{port.UUID},
	})
	if err != nil {
		return fmt.Errorf("ovsdb: delete port %s: %w", name, err)
	}
	if err := c.transact(ctx, "delete port "+name, ops); err != nil {
		return err
	}
	return c.waitCache(ctx, func() bool {
		_, _, err := c.portRows(ctx, name)
		return errors.Is(err, ErrNotFound)
	})
}

// SetPortTag sets the access VLAN of a port; tag < 0 clears it.
func (c *Client) SetPortTag(ctx context.Context, name string, tag int) error {
	port, _, err := c.portRows(ctx, name)
	if err != nil {
		return err
	}
	var want *int
	if tag >= 0 {
		want = &tag
	}
	if (port.Tag == nil && want == nil) || (port.Tag != nil && want != nil && *port.Tag == tag) {
		return nil
	}
	port.Tag = want
	ops, err := c.ovs.Where(port).Update(port, &port.Tag)
	if err != nil {
		return fmt.Errorf("ovsdb: set tag of %s: %w", name, err)
	}
	if err := c.transact(ctx, "set tag of "+name, ops); err != nil {
		return err
	}
	return c.waitCache(ctx, func() bool {
		p, _, err := c.portRows(ctx, name)
		return err == nil && ((p.Tag == nil && want == nil) || (p.Tag != nil && want != nil && *p.Tag == tag))
	})
}

// SetPortOtherConfig merges kv into a port's other_config.
func (c *Client) SetPortOtherConfig(ctx context.Context, name string, kv map[string]string) error {
	port, _, err := c.portRows(ctx, name)
	if err != nil {
		return err
	}
	if containsAll(port.OtherConfig, kv) {
		return nil
	}
	port.OtherConfig = mergeMap(port.OtherConfig, kv)
	ops, err := c.ovs.Where(port).Update(port, &port.OtherConfig)
	if err != nil {
		return fmt.Errorf("ovsdb: set other_config of %s: %w", name, err)
	}
	if err := c.transact(ctx, "set other_config of "+name, ops); err != nil {
		return err
	}
	return c.waitCache(ctx, func() bool {
		p, _, err := c.portRows(ctx, name)
		return err == nil && containsAll(p.OtherConfig, kv)
	})
}

// portRows returns copies of the cached Port row and its interface of the
// same name.
func (c *Client) portRows(ctx context.Context, name string) (*vswitchd.Port, *vswitchd.Interface, error) {
	port := &vswitchd.Port{Name: name}
	if err := c.ovs.Get(ctx, port); err != nil {
		if errors.Is(err, client.ErrNotFound) {
			return nil, nil, fmt.Errorf("%w: port %s", ErrNotFound, name)
		}
		return nil, nil, fmt.Errorf("ovsdb: get port %s: %w", name, err)
	}
	iface := &vswitchd.Interface{Name: name}
	if err := c.ovs.Get(ctx, iface); err != nil {
		return nil, nil, fmt.Errorf("%w: interface %s: %w", ErrNotFound, name, err)
	}
	if !slices.Contains(port.Interfaces, iface.UUID) {
		return nil, nil, fmt.Errorf("%w: interface %s not in port %s", ErrNotFound, name, name)
	}
	return port, iface, nil
}

func (c *Client) bridgeOfPort(ctx context.Context, portUUID string) (*vswitchd.Bridge, error) {
	var brs []vswitchd.Bridge
	err := c.ovs.WhereCache(func(b *vswitchd.Bridge) bool { return slices.Contains(b.Ports, portUUID) }).List(ctx, &brs)
	if err != nil {
		return nil, fmt.Errorf("ovsdb: find bridge of port: %w", err)
	}
	if len(brs) == 0 {
		return nil, fmt.Errorf("%w: no bridge holds port %s", ErrNotFound, portUUID)
	}
	return &brs[0], nil
}
