package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

// describe renders writes as text, one per line, for readable comparisons.
func describe(t *testing.T, ws []statusWrite) string {
	t.Helper()
	var b strings.Builder
	for _, w := range ws {
		require.Equal(t, w.Cond.Key, w.Op.Key)
		host, id, ok := store.ParsePortStatusKey(w.Op.Key)
		require.True(t, ok, w.Op.Key)
		require.Equal(t, "hostA", host, "a host writes only its own records")
		if w.Op.Delete {
			fmt.Fprintf(&b, "delete %s if rev=%d\n", id, w.Cond.ModRevision)
			continue
		}
		var ps api.PortStatus
		require.NoError(t, json.Unmarshal(w.Op.Value, &ps))
		require.Equal(t, id, ps.PortID)
		fmt.Fprintf(&b, "put %s %s/%s if rev=%d\n", id, ps.Host, ps.Status, w.Cond.ModRevision)
	}
	return b.String()
}

func TestStatusWrites(t *testing.T) {
	nets := []api.Network{vxlanNet("n1", 1)}
	agents := []api.Agent{ovsAgent("hostA", "192.168.50.1"), ovsAgent("hostB", "192.168.50.2"), ovsAgent("hostD", "192.168.50.4")}
	tests := []struct {
		name     string
		ports    []api.Port
		statuses []api.PortStatus
		results  []hoststate.PortResult
		want     string
	}{
		{
			name:    "new bound port becomes ACTIVE, unbound DOWN",
			ports:   []api.Port{vmPort("p1", "n1", "m", "", ""), vmPort("p2", "n1", "m", "", "")},
			results: []hoststate.PortResult{{PortID: "p1", Bound: true}, {PortID: "p2"}},
			want:    "put p1 hostA/ACTIVE if rev=0\nput p2 hostA/DOWN if rev=0\n",
		},
		{
			name:     "unchanged status is not rewritten",
			ports:    []api.Port{vmPort("p1", "n1", "m", "", "")},
			statuses: []api.PortStatus{active("p1", "hostA")},
			results:  []hoststate.PortResult{{PortID: "p1", Bound: true}},
		},
		{
			name:     "unplugged port becomes DOWN, deleted port loses its status",
			ports:    []api.Port{vmPort("p1", "n1", "m", "", "")},
			statuses: []api.PortStatus{active("p1", "hostA"), active("gone", "hostA")},
			want:     "delete gone if rev=102\nput p1 hostA/DOWN if rev=101\n",
		},
		{
			name:     "another host's status is left alone when the VIF is not here",
			ports:    []api.Port{vmPort("p1", "n1", "m", "", "")},
			statuses: []api.PortStatus{active("p1", "hostB"), active("gone", "hostB")},
		},
		{
			name:     "a VIF here is reported whatever other hosts report",
			ports:    []api.Port{vmPort("p1", "n1", "m", "", "hostA"), vmPort("p2", "n1", "m", "", ""), vmPort("p3", "n1", "m", "", "")},
			statuses: []api.PortStatus{active("p1", "hostB"), active("p2", "hostC"), {PortID: "p3", Host: "hostB", Status: api.StatusDown}},
			results:  []hoststate.PortResult{{PortID: "p1", Bound: true}, {PortID: "p2", Bound: true}, {PortID: "p3", Bound: true}},
			want:     "put p1 hostA/ACTIVE if rev=0\nput p2 hostA/ACTIVE if rev=0\nput p3 hostA/ACTIVE if rev=0\n",
		},
		{
			name:     "own record updated against its own revision, next to another host's",
			ports:    []api.Port{vmPort("p1", "n1", "m", "", "")},
			statuses: []api.PortStatus{active("p1", "hostB"), {PortID: "p1", Host: "hostA", Status: api.StatusDown}},
			results:  []hoststate.PortResult{{PortID: "p1", Bound: true}},
			want:     "put p1 hostA/ACTIVE if rev=102\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := snapOf(nets, tc.ports, tc.statuses, agents)
			revs := map[string]int64{}
			for i, s := range tc.statuses {
				revs[store.PortStatusKey(s.Host, s.PortID)] = int64(101 + i)
			}
			var ifaces []hoststate.Interface
			for _, r := range tc.results {
				ifaces = append(ifaces, iface(r.PortID))
			}
			st := Compute(hostA, ifaces, snap)
			got := describe(t, statusWrites("hostA", st, tc.results, snap, revs, "now"))
			require.Equal(t, tc.want, got)
		})
	}
}

// txnCountingStore counts transactions.
type txnCountingStore struct {
	store.Store
	txns int
}

func (c *txnCountingStore) Txn(ctx context.Context, conds []store.Cond, ops []store.Op) (int64, error) {
	c.txns++
	return c.Store.Txn(ctx, conds, ops)
}

// A burst of statuses goes in batches; a conflict costs only its own batch
// the fallback to single writes, and every other write lands.
func TestWriteStatusesBatches(t *testing.T) {
	ctx := context.Background()
	st := &txnCountingStore{Store: memstore.New()}
	taken := store.PortStatusKey("hostA", "p070")
	_, err := st.Txn(ctx, nil, []store.Op{{Key: taken, Value: []byte(`{"status":"DOWN"}`)}})
	require.NoError(t, err)
	st.txns = 0
	var ws []statusWrite
	for i := range 150 {
		key := store.PortStatusKey("hostA", fmt.Sprintf("p%03d", i))
		ws = append(ws, statusWrite{Cond: store.Cond{Key: key}, Op: store.Op{Key: key, Value: []byte(`{"status":"ACTIVE"}`)}})
	}
	require.NoError(t, writeStatuses(ctx, st, ws))
	// 3 batches (60, 60, 30); the second conflicts on p070 and is retried
	// as 60 single writes.
	require.Equal(t, 3+60, st.txns)
	kvs, _, err := st.List(ctx, store.PortStatusOf("hostA"))
	require.NoError(t, err)
	require.Len(t, kvs, 150)
	for _, kv := range kvs {
		want := `{"status":"ACTIVE"}`
		if kv.Key == taken {
			want = `{"status":"DOWN"}` // someone else wrote it first
		}
		require.Equal(t, want, string(kv.Value), kv.Key)
	}
}
