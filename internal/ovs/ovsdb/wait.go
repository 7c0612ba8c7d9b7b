package ovsdb

import (
	"context"
	"fmt"
	"time"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// WaitApplied returns once ovs-vswitchd has applied every database change
// committed before the call, as `ovs-vsctl --wait=vswitchd` does: it bumps
// Open_vSwitch next_cfg and waits for ovs-vswitchd to report that number
// (or a later one) in cur_cfg. Port tags and interfaces take effect only
// then, so the agent calls this before it reports ports ACTIVE.
func (c *Client) WaitApplied(ctx context.Context, timeout time.Duration) error {
	root, err := c.root(ctx)
	if err != nil {
		return err
	}
	target := root.NextCfg + 1
	ops, err := c.ovs.Where(root).Mutate(root, model.Mutation{
		Field: &root.NextCfg, Mutator: ovsdb.MutateOperationAdd, Value: 1,
	})
	if err != nil {
		return fmt.Errorf("%w: bump next_cfg: %w", ErrTxn, err)
	}
	if err := c.transact(ctx, "bump next_cfg", ops); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if r, err := c.root(ctx); err == nil && r.CurCfg >= target {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ovsdb: ovs-vswitchd did not apply next_cfg %d: %w", target, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}
