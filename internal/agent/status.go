package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// statusWrites says which port-status keys this host must write after an
// Apply, as guarded writes against the revisions the snapshot was taken at.
// It is pure. The rules:
//   - a port applied here is ACTIVE if the data plane bound it, else DOWN;
//     nothing is written when the record already says so;
//   - a port is only claimed from another live host whose record says
//     ACTIVE when its binding:host_id names this host (Neutron's binding is
//     authoritative), so two hosts that briefly both have the VIF during a
//     move do not overwrite each other in turn;
//   - a port this host reported but no longer has becomes DOWN, or its key
//     is deleted if the port is gone from the store. A record another host
//     wrote is never touched.
func statusWrites(host string, st hoststate.State, results []hoststate.PortResult, snap Snapshot, revs map[string]int64, ts string) []statusWrite {
	var out []statusWrite
	put := func(id, status string) {
		b, _ := json.Marshal(api.PortStatus{PortID: id, Host: host, Status: status, UpdatedAt: ts})
		key := store.PortStatusKey(id)
		out = append(out, statusWrite{
			Cond: store.Cond{Key: key, ModRevision: revs[id]},
			Op:   store.Op{Key: key, Value: b},
		})
	}
	for _, r := range results {
		if _, ok := st.Ports[r.PortID]; !ok {
			continue
		}
		want := api.StatusDown
		if r.Bound {
			want = api.StatusActive
		}
		cur, ok := snap.PortStatus[r.PortID]
		if ok && cur.Host == host && cur.Status == want {
			continue
		}
		if ok && cur.Host != host && !mayClaim(host, cur, snap) {
			continue
		}
		put(r.PortID, want)
	}
	for _, id := range sortedKeys(snap.PortStatus) {
		cur := snap.PortStatus[id]
		if _, here := st.Ports[id]; here || cur.Host != host {
			continue
		}
		if _, exists := snap.Ports[id]; !exists {
			key := store.PortStatusKey(id)
			out = append(out, statusWrite{
				Cond: store.Cond{Key: key, ModRevision: revs[id]},
				Op:   store.Op{Key: key, Delete: true},
			})
			continue
		}
		if cur.Status != api.StatusDown {
			put(id, api.StatusDown)
		}
	}
	return out
}

// mayClaim reports whether host may overwrite cur, a status another host wrote.
func mayClaim(host string, cur api.PortStatus, snap Snapshot) bool {
	if cur.Status != api.StatusActive || !snap.Alive[cur.Host] {
		return true
	}
	return snap.Ports[cur.PortID].BindingHostID == host
}

// writeStatuses performs the writes in one transaction, so a burst of
// ports costs one store round trip. If a guard fails (someone wrote one of
// the keys first), it falls back to one transaction per write, so the others
// still land. A conflict means someone wrote first; the watch brings the new
// value and the next reconcile decides again, so it is not an error.
func writeStatuses(ctx context.Context, st store.Store, ws []statusWrite) error {
	if len(ws) > 1 && len(ws) <= maxStatusBatch {
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
