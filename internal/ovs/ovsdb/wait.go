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
	target, err := c.RequestApplied(ctx)
	if err != nil {
		return err
	}
	return c.WaitCfg(ctx, target, timeout)
}

// RequestApplied is the first half of WaitApplied: it bumps next_cfg and
// returns the number to pass to WaitCfg. In between the caller can do other
// work while ovs-vswitchd reconfigures.
func (c *Client) RequestApplied(ctx context.Context) (int, error) {
	root, err := c.root(ctx)
	if err != nil {
		return 0, err
	}
	target := root.NextCfg + 1
	ops, err := c.ovs.Where(root).Mutate(root, model.Mutation{
		Field: &root.NextCfg, Mutator: ovsdb.MutateOperationAdd, Value: 1,
	})
	if err != nil {
		return 0, fmt.Errorf("%w: bump next_cfg: %w", ErrTxn, err)
	}
	if err := c.transact(ctx, "bump next_cfg", ops); err != nil {
		return 0, err
	}
	return target, nil
}

// WaitCfg waits until ovs-vswitchd reports cur_cfg >= target (from
// RequestApplied), at most timeout.
func (c *Client) WaitCfg(ctx context.Context, target int, timeout time.Duration) error {
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
