package store

import (
	"context"
	"fmt"
)

// DropLegacyKeys deletes keys of layouts vland no longer uses, so that
// nothing reads them again: port status records of the old
// PortStatusPrefix + <port id> layout (agents now write under their host,
// and rewrite their records on their next reconcile). A server runs it at
// start-up; it is idempotent and cheap when there is nothing to drop.
func DropLegacyKeys(ctx context.Context, st Store) (int, error) {
	keys, _, err := st.ListKeys(ctx, PortStatusPrefix)
	if err != nil {
		return 0, fmt.Errorf("store: list %s: %w", PortStatusPrefix, err)
	}
	var ops []Op
	for _, k := range keys {
		if _, _, ok := ParsePortStatusKey(k); !ok {
			ops = append(ops, Op{Key: k, Delete: true})
		}
	}
	// Deletes of keys that are gone already are harmless; a batch stays
	// well under any etcd's --max-txn-ops.
	const batch = 100
	for i := 0; i < len(ops); i += batch {
		if _, err := st.Txn(ctx, nil, ops[i:min(i+batch, len(ops))]); err != nil {
			return i, fmt.Errorf("store: drop legacy keys: %w", err)
		}
	}
	return len(ops), nil
}
