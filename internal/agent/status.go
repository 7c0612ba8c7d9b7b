package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/store"
)

// statusWrite is one compare-and-set write of a port's status key.
type statusWrite struct {
	Cond store.Cond
	Op   store.Op
}

// statusWrites says which of this host's port-status keys it must write
// after an Apply, as guarded writes against the revisions (by key) the
// snapshot was taken at. It is pure. Each host writes only its own records
// (store.PortStatusKey(host, port)); readers choose between the records of
// a port that several hosts report during a move. The rules:
//   - a port applied here is ACTIVE if the data plane bound it, else DOWN;
//     nothing is written when this host's record already says so;
//   - a port this host reported but no longer has becomes DOWN, or its
//     record is deleted if the port is gone from the store.
func statusWrites(host string, st hoststate.State, results []hoststate.PortResult, snap Snapshot, revs map[string]int64, ts string) []statusWrite {
	var out []statusWrite
	write := func(op store.Op) {
		out = append(out, statusWrite{Cond: store.Cond{Key: op.Key, ModRevision: revs[op.Key]}, Op: op})
	}
	put := func(id, status string) {
		b, _ := json.Marshal(api.PortStatus{PortID: id, Host: host, Status: status, UpdatedAt: ts})
		write(store.Op{Key: store.PortStatusKey(host, id), Value: b})
	}
	for _, r := range results {
		if _, ok := st.Ports[r.PortID]; !ok {
			continue
		}
		want := api.StatusDown
		if r.Bound {
			want = api.StatusActive
		}
		if cur, ok := snap.PortStatus[r.PortID][host]; ok && cur.Status == want {
			continue
		}
		put(r.PortID, want)
	}
	for _, id := range sortedKeys(snap.PortStatus) {
		cur, mine := snap.PortStatus[id][host]
		if _, here := st.Ports[id]; here || !mine {
			continue
		}
		if _, exists := snap.Ports[id]; !exists {
			write(store.Op{Key: store.PortStatusKey(host, id), Delete: true})
			continue
		}
		if cur.Status != api.StatusDown {
			put(id, api.StatusDown)
		}
	}
	return out
}

// writeStatuses performs the writes in transactions of up to
// maxStatusBatch, so a burst of ports costs a few store round trips (one
// per port took 1.4 s for 333 ports). If a guard in a batch fails (someone
// wrote one of its keys first), that batch falls back to one transaction per
// write, so its other writes still land. A conflict means someone wrote
// first; the watch brings the new value and the next reconcile decides
// again, so it is not an error.
func writeStatuses(ctx context.Context, st store.Store, ws []statusWrite) error {
	var errs []error
	for batch := range slices.Chunk(ws, maxStatusBatch) {
		errs = append(errs, writeBatch(ctx, st, batch))
	}
	return errors.Join(errs...)
}

func writeBatch(ctx context.Context, st store.Store, ws []statusWrite) error {
	if len(ws) > 1 {
		conds, ops := make([]store.Cond, len(ws)), make([]store.Op, len(ws))
		for i, w := range ws {
			conds[i], ops[i] = w.Cond, w.Op
		}
		_, err := st.Txn(ctx, conds, ops)
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("write %d port statuses: %w", len(ws), err)
		}
	}
	var errs []error
	for _, w := range ws {
		_, err := st.Txn(ctx, []store.Cond{w.Cond}, []store.Op{w.Op})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			errs = append(errs, fmt.Errorf("write %s: %w", w.Op.Key, err))
		}
	}
	return errors.Join(errs...)
}

// maxStatusBatch keeps a status transaction within etcd's default limit of
// 128 operations per transaction (conditions and writes each count).
const maxStatusBatch = 60

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
