package ovsdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// PortUpdate is a change to one existing port's access VLAN and
// other_config.
type PortUpdate struct {
	Name        string
	Tag         int               // < 0 clears the tag
	OtherConfig map[string]string // merged into other_config; nil leaves it
}

// UpdatePorts applies ups to existing ports as one transaction that also
// bumps Open_vSwitch next_cfg, so ovs-vswitchd reconfigures once for the
// whole batch (each committed change costs it a full reconfigure). It
// returns the next_cfg to pass to WaitCfg, or 0 when nothing needed a
// change. Ports that do not exist, or vanish before the transaction, are
// skipped: an update never brings a deleted port back. Tag and
// other_config of a port change together.
func (c *Client) UpdatePorts(ctx context.Context, ups []PortUpdate) (int, error) {
	var ops []ovsdb.Operation
	var done []func() bool // cache conditions that say the update landed
	for _, u := range ups {
		port, _, err := c.portRows(ctx, u.Name)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		var want *int
		if u.Tag >= 0 {
			want = &u.Tag
		}
		var fields []any
		if !sameTag(port.Tag, want) {
			port.Tag = want
			fields = append(fields, &port.Tag)
		}
		if u.OtherConfig != nil && !containsAll(port.OtherConfig, u.OtherConfig) {
			port.OtherConfig = mergeMap(port.OtherConfig, u.OtherConfig)
			fields = append(fields, &port.OtherConfig)
		}
		if len(fields) == 0 {
			continue
		}
		op, err := c.ovs.Where(port).Update(port, fields...)
		if err != nil {
			return 0, fmt.Errorf("ovsdb: update port %s: %w", u.Name, err)
		}
		ops = append(ops, op...)
		done = append(done, func() bool {
			p, _, err := c.portRows(ctx, u.Name)
			return err != nil || (sameTag(p.Tag, want) && containsAll(p.OtherConfig, u.OtherConfig))
		})
	}
	if len(ops) == 0 {
		return 0, nil
	}
	root, err := c.root(ctx)
	if err != nil {
		return 0, err
	}
	bump, err := c.ovs.Where(root).Mutate(root, model.Mutation{
		Field: &root.NextCfg, Mutator: ovsdb.MutateOperationAdd, Value: 1,
	})
	if err != nil {
		return 0, fmt.Errorf("%w: bump next_cfg: %w", ErrTxn, err)
	}
	if err := c.transact(ctx, fmt.Sprintf("update %d ports", len(done)), append(ops, bump...)); err != nil {
		return 0, err
	}
	// A port deleted meanwhile makes its update match no row, which is not
	// an error; the wait below accepts it too.
	err = c.waitCache(ctx, func() bool {
		for _, ok := range done {
			if !ok() {
				return false
			}
		}
		return true
	})
	return root.NextCfg + 1, err
}

func sameTag(a, b *int) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}
