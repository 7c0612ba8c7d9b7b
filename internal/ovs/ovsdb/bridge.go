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

// BridgeOptions is the desired configuration of a bridge. The zero value
// means: default datapath, standalone fail mode, OVS's default protocols.
type BridgeOptions struct {
	DatapathType string // "netdev", "system" or "" (OVS default)
	FailMode     string // "secure", "standalone" or "" (unset = standalone)
	// Protocols lists allowed OpenFlow versions ("OpenFlow10".."OpenFlow15");
	// empty leaves OVS's default. Bundles need OpenFlow14 or later.
	Protocols []string
	// ExternalIDs and OtherConfig keys are set (merged); keys not listed
	// are left alone so other writers' keys survive.
	ExternalIDs map[string]string
	OtherConfig map[string]string
}

// BridgeInfo is a bridge as read from the cache.
type BridgeInfo struct {
	Name         string
	DatapathType string
	FailMode     string
	ExternalIDs  map[string]string
	OtherConfig  map[string]string
}

// EnsureBridge creates bridge name with its local internal port, or fixes an
// existing one to match opts, in one transaction. Idempotent.
func (c *Client) EnsureBridge(ctx context.Context, name string, opts BridgeOptions) error {
	if name == "" {
		return fmt.Errorf("%w: empty bridge name", ErrBadSpec)
	}
	br, err := c.bridge(ctx, name)
	switch {
	case errors.Is(err, ErrNotFound):
		err = c.createBridge(ctx, name, opts)
	case err == nil:
		err = c.updateBridge(ctx, br, opts)
	}
	if err != nil {
		return err
	}
	return c.waitCache(ctx, func() bool {
		b, err := c.bridge(ctx, name)
		return err == nil && bridgeMatches(b, opts)
	})
}

func (c *Client) createBridge(ctx context.Context, name string, opts BridgeOptions) error {
	root, err := c.root(ctx)
	if err != nil {
		return err
	}
	iface := &vswitchd.Interface{UUID: "vland_iface", Name: name, Type: "internal"}
	port := &vswitchd.Port{UUID: "vland_port", Name: name, Interfaces: []string{iface.UUID}}
	br := &vswitchd.Bridge{UUID: "vland_br", Name: name, Ports: []string{port.UUID}}
	applyBridgeOpts(br, opts)
	ops, err := c.create(iface, port, br)
	if err != nil {
		return fmt.Errorf("ovsdb: create bridge %s: %w", name, err)
	}
	mut, err := c.ovs.Where(root).Mutate(root, model.Mutation{
		Field: &root.Bridges, Mutator: ovsdb.MutateOperationInsert, Value: []string{br.UUID},
	})
	if err != nil {
		return fmt.Errorf("ovsdb: add bridge %s: %w", name, err)
	}
	return c.transact(ctx, "create bridge "+name, append(ops, mut...))
}

func (c *Client) updateBridge(ctx context.Context, br *vswitchd.Bridge, opts BridgeOptions) error {
	if bridgeMatches(br, opts) {
		return nil
	}
	applyBridgeOpts(br, opts)
	ops, err := c.ovs.Where(br).Update(br, &br.DatapathType, &br.FailMode, &br.Protocols, &br.ExternalIDs, &br.OtherConfig)
	if err != nil {
		return fmt.Errorf("ovsdb: update bridge %s: %w", br.Name, err)
	}
	return c.transact(ctx, "update bridge "+br.Name, ops)
}

func applyBridgeOpts(br *vswitchd.Bridge, opts BridgeOptions) {
	if opts.DatapathType != "" {
		br.DatapathType = opts.DatapathType
	}
	if opts.FailMode != "" {
		fm := vswitchd.BridgeFailMode(opts.FailMode)
		br.FailMode = &fm
	}
	if len(opts.Protocols) > 0 {
		br.Protocols = nil
		for _, p := range opts.Protocols {
			br.Protocols = append(br.Protocols, vswitchd.BridgeProtocols(p))
		}
	}
	br.ExternalIDs = mergeMap(br.ExternalIDs, opts.ExternalIDs)
	br.OtherConfig = mergeMap(br.OtherConfig, opts.OtherConfig)
}

func bridgeMatches(br *vswitchd.Bridge, opts BridgeOptions) bool {
	if opts.DatapathType != "" && br.DatapathType != opts.DatapathType {
		return false
	}
	if opts.FailMode != "" && (br.FailMode == nil || string(*br.FailMode) != opts.FailMode) {
		return false
	}
	if len(opts.Protocols) > 0 {
		have := make([]string, 0, len(br.Protocols))
		for _, p := range br.Protocols {
			have = append(have, string(p))
		}
		want := slices.Clone(opts.Protocols)
		slices.Sort(have)
		slices.Sort(want)
		if !slices.Equal(have, want) {
			return false
		}
	}
	return containsAll(br.ExternalIDs, opts.ExternalIDs) && containsAll(br.OtherConfig, opts.OtherConfig)
}

// DeleteBridge deletes a bridge with all its ports. Deleting a missing
// bridge is not an error.
func (c *Client) DeleteBridge(ctx context.Context, name string) error {
	br, err := c.bridge(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	root, err := c.root(ctx)
	if err != nil {
		return err
	}
	// Bridge, Port and Interface are not root tables: dropping the
	// reference garbage-collects all three.
	ops, err := c.ovs.Where(root).Mutate(root, model.Mutation{
		Field: &root.Bridges, Mutator: ovsdb.MutateOperationDelete, Value: []string{br.UUID},
	})
	if err != nil {
		return fmt.Errorf("ovsdb: delete bridge %s: %w", name, err)
	}
	if err := c.transact(ctx, "delete bridge "+name, ops); err != nil {
		return err
	}
	return c.waitCache(ctx, func() bool {
		_, err := c.bridge(ctx, name)
		return errors.Is(err, ErrNotFound)
	})
}

// GetBridge returns a bridge from the cache, or ErrNotFound.
func (c *Client) GetBridge(ctx context.Context, name string) (BridgeInfo, error) {
	br, err := c.bridge(ctx, name)
	if err != nil {
		return BridgeInfo{}, err
	}
	info := BridgeInfo{Name: br.Name, DatapathType: br.DatapathType, ExternalIDs: br.ExternalIDs, OtherConfig: br.OtherConfig}
	if br.FailMode != nil {
		info.FailMode = string(*br.FailMode)
	}
	return info, nil
}

// SetBridgeExternalIDs merges ids into a bridge's external_ids (e.g. to
// persist a flow generation number across agent restarts).
func (c *Client) SetBridgeExternalIDs(ctx context.Context, name string, ids map[string]string) error {
	br, err := c.bridge(ctx, name)
	if err != nil {
		return err
	}
	return c.updateBridge(ctx, br, BridgeOptions{ExternalIDs: ids})
}

// bridge returns a copy of the cached bridge row.
func (c *Client) bridge(ctx context.Context, name string) (*vswitchd.Bridge, error) {
	br := &vswitchd.Bridge{Name: name}
	if err := c.ovs.Get(ctx, br); err != nil {
		if errors.Is(err, client.ErrNotFound) {
			return nil, fmt.Errorf("%w: bridge %s", ErrNotFound, name)
		}
		return nil, fmt.Errorf("ovsdb: get bridge %s: %w", name, err)
	}
	return br, nil
}

func (c *Client) root(ctx context.Context) (*vswitchd.OpenvSwitch, error) {
	var rows []vswitchd.OpenvSwitch
	if err := c.ovs.List(ctx, &rows); err != nil {
		return nil, fmt.Errorf("ovsdb: list Open_vSwitch: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: Open_vSwitch root row (run ovs-vsctl init)", ErrNotFound)
	}
	return &rows[0], nil
}
