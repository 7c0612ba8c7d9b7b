package agent

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

// startCache runs a cache for host until the test ends and brings its
// ranges in line with what its ports need.
func startCache(t *testing.T, st store.Store, host string) *cache {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := newCache(st, slog.Default(), host, false)
	done := make(chan struct{})
	go func() { c.run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	<-c.ready
	require.NoError(t, c.sync(ctx, nil))
	return c
}

// mac is the MAC of port id in c ("" if c does not hold it), after
// bringing c's ranges in line (as the agent's reconcile does).
func (c *cache) macOf(t *testing.T, id string) string {
	t.Helper()
	require.NoError(t, c.sync(context.Background(), nil))
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.snap.Ports[id]; p != nil {
		return p.MACAddress
	}
	return ""
}

// A port change on a network reaches only the agents with ports on it:
// none of its watch events reaches another host's agent. A host that joins
// the network then receives its changes, and stops when it leaves.
func TestChangeReachesOnlyItsNetwork(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	for i, n := range []string{"nA", "nB", "nC"} {
		put(t, st, store.NetworkKey(n), vxlanNet(n, 101+i))
	}
	put(t, st, store.PortKey("a1"), vmPort("a1", "nA", "fa:16:3e:00:00:a1", "10.1.0.5", "hostA"))
	put(t, st, store.PortStatusKey("hostA", "a1"), active("a1", "hostA"))
	put(t, st, store.PortKey("b1"), vmPort("b1", "nB", "fa:16:3e:00:00:b1", "10.2.0.5", "hostB"))
	put(t, st, store.PortKey("c1"), vmPort("c1", "nC", "fa:16:3e:00:00:c1", "10.3.0.5", "hostC"))
	b, c := startCache(t, st, "hostB"), startCache(t, st, "hostC")
	require.Equal(t, "", b.macOf(t, "a1"))
	require.Equal(t, "fa:16:3e:00:00:b1", b.macOf(t, "b1"))

	changeA := func(mac string) {
		put(t, st, store.PortKey("a1"), vmPort("a1", "nA", mac, "10.1.0.5", "hostA"))
		put(t, st, store.PortStatusKey("hostA", "a1"), api.PortStatus{PortID: "a1", Host: "hostA", Status: api.StatusDown})
		put(t, st, store.PortStatusKey("hostA", "a1"), active("a1", "hostA"))
	}
	// A change on nA, then one on nB as a marker: once hostB has the
	// marker, it has received every event it was going to.
	ev0 := b.stats.events.Load()
	changeA("fa:16:3e:00:01:a1")
	put(t, st, store.PortKey("b1"), vmPort("b1", "nB", "fa:16:3e:00:01:b1", "10.2.0.5", "hostB"))
	require.Eventually(t, func() bool { return b.macOf(t, "b1") == "fa:16:3e:00:01:b1" }, time.Second, 5*time.Millisecond)
	require.Equal(t, ev0+2, b.stats.events.Load(), "hostB received more than the marker (host-ports and network-ports of b1)")

	// hostB joins nA: it now holds nA's ports and their statuses, and
	// receives nA's changes.
	put(t, st, store.PortKey("b2"), vmPort("b2", "nA", "fa:16:3e:00:00:b2", "10.1.0.6", "hostB"))
	require.Eventually(t, func() bool { return b.macOf(t, "a1") == "fa:16:3e:00:01:a1" }, time.Second, 5*time.Millisecond)
	b.mu.Lock()
	require.Equal(t, api.StatusActive, b.snap.PortStatus["a1"]["hostA"].Status)
	require.Contains(t, b.snap.Networks, "nA")
	b.mu.Unlock()
	ev1 := b.stats.events.Load()
	changeA("fa:16:3e:00:02:a1")
	require.Eventually(t, func() bool { return b.macOf(t, "a1") == "fa:16:3e:00:02:a1" }, time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.snap.PortStatus["a1"]["hostA"].Status == api.StatusActive && b.stats.events.Load() >= ev1+3
	}, time.Second, 5*time.Millisecond, "nA's port and its two status copies")
	require.Equal(t, ev1+3, b.stats.events.Load())

	// hostB leaves nA: what nA brought goes, and nA's changes no longer
	// reach it.
	del(t, st, store.PortKey("b2"))
	require.Eventually(t, func() bool { return b.macOf(t, "a1") == "" }, time.Second, 5*time.Millisecond)
	b.mu.Lock()
	require.NotContains(t, b.snap.Networks, "nA")
	require.NotContains(t, b.snap.PortStatus, "a1")
	b.mu.Unlock()
	ev2 := b.stats.events.Load()
	changeA("fa:16:3e:00:03:a1")
	put(t, st, store.PortKey("b1"), vmPort("b1", "nB", "fa:16:3e:00:02:b1", "10.2.0.5", "hostB"))
	require.Eventually(t, func() bool { return b.macOf(t, "b1") == "fa:16:3e:00:02:b1" }, time.Second, 5*time.Millisecond)
	require.Equal(t, ev2+2, b.stats.events.Load())

	// hostC, on nC alone, received nothing at all.
	require.Zero(t, c.stats.events.Load())
	require.Equal(t, "fa:16:3e:00:00:c1", c.macOf(t, "c1"))
}

// The members of a remote group a host's rules name are followed on any
// network, without that network's other ports; a member leaving the
// group, or the rule going, drops it.
func TestRemoteGroupMembersFollowed(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	put(t, st, store.NetworkKey("nA"), vxlanNet("nA", 101))
	put(t, st, store.NetworkKey("nC"), vxlanNet("nC", 103))
	web, db := "sg-web", "sg-db"
	rule := api.SecurityGroupRule{ID: "r1", Direction: api.DirectionIngress, Ethertype: api.EtherTypeIPv4, RemoteGroupID: &db}
	put(t, st, store.SecurityGroupKey(web), api.SecurityGroup{ID: web, SecurityGroupRules: []api.SecurityGroupRule{rule}})
	put(t, st, store.SecurityGroupKey(db), api.SecurityGroup{ID: db})
	port := func(id, n, ip, host string, groups ...string) {
		p := vmPort(id, n, "fa:16:3e:00:00:"+id, ip, host)
		p.SecurityGroups = groups
		put(t, st, store.PortKey(id), p)
	}
	port("a1", "nA", "10.1.0.5", "hostA", web)
	port("c1", "nC", "10.3.0.5", "hostC", db)
	port("c2", "nC", "10.3.0.6", "hostC")
	a := startCache(t, st, "hostA")
	ip := func(id string) string {
		require.NoError(t, a.sync(context.Background(), nil))
		a.mu.Lock()
		defer a.mu.Unlock()
		if p := a.snap.Ports[id]; p != nil {
			return p.FixedIPs[0].IPAddress
		}
		return ""
	}
	require.Equal(t, "10.3.0.5", ip("c1"), "a member of the remote group")
	require.Equal(t, "", ip("c2"), "another port of the member's network")
	a.mu.Lock()
	require.NotContains(t, a.snap.Networks, "nC")
	require.Contains(t, a.ranges, store.SecGroupPortsOf(db))
	a.mu.Unlock()

	port("c1", "nC", "10.3.0.9", "hostC", db)
	require.Eventually(t, func() bool { return ip("c1") == "10.3.0.9" }, time.Second, 5*time.Millisecond)
	port("c2", "nC", "10.3.0.6", "hostC", db)
	require.Eventually(t, func() bool { return ip("c2") == "10.3.0.6" }, time.Second, 5*time.Millisecond, "joined the group")
	port("c1", "nC", "10.3.0.9", "hostC")
	require.Eventually(t, func() bool { return ip("c1") == "" }, time.Second, 5*time.Millisecond, "left the group")

	put(t, st, store.SecurityGroupKey(web), api.SecurityGroup{ID: web})
	require.Eventually(t, func() bool { return ip("c2") == "" }, time.Second, 5*time.Millisecond, "no rule names the group")
	a.mu.Lock()
	require.NotContains(t, a.ranges, store.SecGroupPortsOf(db))
	a.mu.Unlock()
}
