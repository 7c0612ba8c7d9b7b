package agent

import (
	"encoding/json"
	"log/slog"
	"maps"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

// A snapshot shares the cache's ports and statuses instead of copying
// them: whatever the cache applies afterwards (a changed port, a new, a
// changed and a deleted status) must leave the snapshot as it was.
func TestSnapshotUnchangedByLaterWrites(t *testing.T) {
	c := newCache(memstore.New(), slog.Default(), "hostA", false)
	kv := func(key string, v any, rev int64) store.KV {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return store.KV{Key: key, Value: b, ModRevision: rev}
	}
	ports, own := c.ranges[store.HostPortsOf("hostA")], c.ranges[store.PortStatusOf("hostA")]
	others := &keyRange{prefix: store.NetworkStatusOf("n1"), kind: kindNetStatus}
	otherKey := store.NetworkStatusKey("n1", "hostB", "p1")
	c.mu.Lock()
	c.put(ports, kv(store.HostPortKey("hostA", "p1"), vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.0.0.1", "hostA"), 2))
	c.put(own, kv(store.PortStatusKey("hostA", "p1"), active("p1", "hostA"), 3))
	c.put(others, kv(otherKey, active("p1", "hostB"), 4))
	c.mu.Unlock()

	snap, revs := c.snapshot()
	require.Equal(t, "fa:16:3e:00:00:01", snap.Ports["p1"].MACAddress)
	require.Len(t, snap.PortStatus["p1"], 2)
	port := *snap.Ports["p1"]
	statuses := maps.Clone(snap.PortStatus["p1"])
	revsBefore := maps.Clone(revs)

	c.mu.Lock()
	c.put(ports, kv(store.HostPortKey("hostA", "p1"), vmPort("p1", "n1", "fa:16:3e:00:00:02", "10.0.0.1", "hostA"), 5))
	c.put(ports, kv(store.HostPortKey("hostA", "p2"), vmPort("p2", "n1", "fa:16:3e:00:00:03", "10.0.0.2", "hostA"), 6))
	down := active("p1", "hostB")
	down.Status = api.StatusDown
	c.put(others, kv(otherKey, down, 7))
	c.del(own, store.KV{Key: store.PortStatusKey("hostA", "p1"), ModRevision: 8})
	c.mu.Unlock()

	require.Equal(t, port, *snap.Ports["p1"], "the snapshot's port changed")
	require.NotContains(t, snap.Ports, "p2")
	require.Equal(t, statuses, snap.PortStatus["p1"], "the snapshot's statuses changed")
	require.Equal(t, revsBefore, revs, "the snapshot's revisions changed")

	now, nowRevs := c.snapshot()
	require.Equal(t, "fa:16:3e:00:00:02", now.Ports["p1"].MACAddress)
	require.Contains(t, now.Ports, "p2")
	require.Equal(t, map[string]api.PortStatus{"hostB": {PortID: "p1", Host: "hostB", Status: api.StatusDown}}, now.PortStatus["p1"])
	require.Equal(t, int64(7), nowRevs[otherKey])
	require.NotContains(t, nowRevs, store.PortStatusKey("hostA", "p1"))
}
