package ovsdb

import (
	"context"
	"fmt"
	"time"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// transact runs ops as one OVSDB transaction and checks every result.
func (c *Client) transact(ctx context.Context, what string, ops []ovsdb.Operation) error {
	if len(ops) == 0 {
		return nil
	}
	res, err := c.ovs.Transact(ctx, ops...)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrTxn, what, err)
	}
	if _, err := ovsdb.CheckOperationResults(res, ops); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrTxn, what, err)
	}
	return nil
}

// waitCache waits until cond holds on the cache. ovsdb-server sends the
// monitor update before the transaction reply, but libovsdb applies it to
// the cache asynchronously; waiting makes Ensure* followed by a read
// consistent for callers.
func (c *Client) waitCache(ctx context.Context, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("ovsdb: cache did not catch up: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// mergeMap returns base with upd's keys set; nil if the result is empty.
func mergeMap(base, upd map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(upd))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range upd {
		out[k] = v
	}
	return out
}

// containsAll reports whether m has every key/value of want.
func containsAll(m, want map[string]string) bool {
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func equalMap(a, b map[string]string) bool {
	return len(a) == len(b) && containsAll(a, b)
}

// create returns insert operations for models of different tables.
func (c *Client) create(models ...model.Model) ([]ovsdb.Operation, error) {
	var ops []ovsdb.Operation
	for _, m := range models {
		op, err := c.ovs.Create(m)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op...)
	}
	return ops, nil
}
