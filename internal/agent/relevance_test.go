package agent

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

// startAgent runs an agent for h on st and dp until the test ends and
// returns it (for its counters).
func startAgent(t *testing.T, st store.Store, dp Dataplane, h HostConfig) *Agent {
	t.Helper()
	a, err := New(Config{HostConfig: h, DatapathType: "netdev", LeaseTTL: time.Second,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}, st, dp)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

// fullSnapshot decodes the whole store, as the agent did before it kept
// only what concerns its host.
func fullSnapshot(t *testing.T, st store.Store) Snapshot {
	t.Helper()
	s := snapOf(nil, nil, nil, nil)
	s.Subnets, s.SecurityGroups = map[string]api.Subnet{}, map[string]api.SecurityGroup{}
	list := func(prefix string, fn func(id string, b []byte)) {
		kvs, _, err := st.List(context.Background(), prefix)
		require.NoError(t, err)
		for _, kv := range kvs {
			fn(strings.TrimPrefix(kv.Key, prefix), kv.Value)
		}
	}
	list(store.NetworksPrefix, func(id string, b []byte) { require.NoError(t, decodeInto(b, id, s.Networks)) })
	list(store.PortsPrefix, func(id string, b []byte) { require.NoError(t, decodeInto(b, id, s.Ports)) })
	list(store.AgentsPrefix, func(id string, b []byte) { require.NoError(t, decodeInto(b, id, s.Agents)) })
	list(store.AgentAlivePrefix, func(id string, _ []byte) { s.Alive[id] = true })
	list(store.SecurityGroupsPrefix, func(id string, b []byte) { require.NoError(t, decodeInto(b, id, s.SecurityGroups)) })
	list(store.PortStatusPrefix, func(id string, b []byte) {
		host, port, _ := strings.Cut(id, "/")
		var ps api.PortStatus
		require.NoError(t, json.Unmarshal(b, &ps))
		ps.Host, ps.PortID = host, port
		if s.PortStatus[port] == nil {
			s.PortStatus[port] = map[string]api.PortStatus{}
		}
		s.PortStatus[port][host] = ps
	})
	return s
}

// A change on a network the host does not have does not wake its agent;
// one on its network does.
func TestNoWakeForOtherNetworks(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	put(t, st, store.NetworkKey("n1"), vxlanNet("n1", 111))
	put(t, st, store.NetworkKey("n2"), vxlanNet("n2", 112))
	put(t, st, store.AgentKey("hostB"), ovsAgent("hostB", "192.168.50.2"))
	put(t, st, store.PortKey("a1"), vmPort("a1", "n1", "fa:16:3e:00:00:01", "10.1.0.5", ""))
	dp := newFakeDP("a1")
	a := startAgent(t, st, dp, hostA)
	waitApplied(t, dp, "net n1 vxlan 111\nport a1 net=n1 up=true\n", time.Second)
	waitStatus(t, st, "a1", "hostA/ACTIVE")
	time.Sleep(100 * time.Millisecond)
	woken, applied := a.reconciles.Load(), len(dp.applies())

	// hostB's port on n2, its status, its record rewritten: none concerns hostA.
	put(t, st, store.PortKey("b2"), vmPort("b2", "n2", "fa:16:3e:00:00:03", "10.2.0.6", "hostB"))
	put(t, st, store.PortStatusKey("hostB", "b2"), active("b2", "hostB"))
	put(t, st, store.AgentKey("hostB"), ovsAgent("hostB", "192.168.50.2"))
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, woken, a.reconciles.Load(), "woken by changes on a network it does not have")
	require.Equal(t, applied, len(dp.applies()))
	a.cache.mu.Lock()
	_, cached := a.cache.snap.Ports["b2"]
	a.cache.mu.Unlock()
	require.False(t, cached, "a port of another network is not kept")

	// hostB's port on n1: hostA wakes and tunnels to hostB.
	put(t, st, store.PortKey("b1"), vmPort("b1", "n1", "fa:16:3e:00:00:02", "10.1.0.6", "hostB"))
	waitApplied(t, dp, "net n1 vxlan 111\nport a1 net=n1 up=true\npeer hostB 192.168.50.2 [n1]\n", time.Second)
	require.Greater(t, a.reconciles.Load(), woken)
}

// The agent's incremental view converges to what a full read of the store
// computes, and so does a fresh agent (the level-triggered restart): same
// State, through joining and leaving networks, remote groups, moves and
// deletes, with several hosts' statuses arriving in any order.
func TestIncrementalEqualsFullResync(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	for i, n := range []string{"n1", "n2", "n3", "n4"} {
		put(t, st, store.NetworkKey(n), vxlanNet(n, 111+i))
	}
	for i, h := range []string{"hostB", "hostC"} {
		put(t, st, store.AgentKey(h), ovsAgent(h, "192.168.50."+string(rune('2'+i))))
		put(t, st, store.AgentAliveKey(h), map[string]string{"host": h})
	}
	web, db := "sg-web", "sg-db"
	put(t, st, store.SecurityGroupKey(web), api.SecurityGroup{ID: web, Stateful: true, SecurityGroupRules: []api.SecurityGroupRule{
		{ID: "r1", Direction: api.DirectionIngress, Ethertype: api.EtherTypeIPv4, RemoteGroupID: &db}}})
	put(t, st, store.SecurityGroupKey(db), api.SecurityGroup{ID: db, Stateful: true})
	port := func(id, n, ip, host string, groups ...string) {
		p := vmPort(id, n, "fa:16:3e:00:00:"+id[len(id)-2:], ip, host)
		p.SecurityGroups = groups
		put(t, st, store.PortKey(id), p)
	}
	dp := newFakeDP("a01")
	port("a01", "n1", "10.1.0.5", "", web)
	startAgent(t, st, dp, hostA)

	port("b01", "n1", "10.1.0.6", "")
	put(t, st, store.PortStatusKey("hostB", "b01"), active("b01", "hostB"))
	port("b02", "n2", "10.2.0.6", "hostB")
	port("c04", "n4", "10.4.0.7", "hostC", db) // remote group member on a network hostA never has
	put(t, st, store.PortStatusKey("hostC", "c04"), active("c04", "hostC"))
	port("c02", "n2", "10.2.0.7", "")
	put(t, st, store.PortStatusKey("hostC", "c02"), active("c02", "hostC"))
	// hostA joins n2 (a VM plugged there), then b01 moves to hostC.
	port("a02", "n2", "10.2.0.5", "")
	dp.plug("a02")
	put(t, st, store.PortStatusKey("hostC", "b01"), active("b01", "hostC"))
	del(t, st, store.PortStatusKey("hostB", "b01"))
	// hostA leaves n1: its port there is unplugged and deleted.
	time.Sleep(100 * time.Millisecond)
	dp.unplug("a01")
	del(t, st, store.PortKey("a01"))
	port("a03", "n3", "10.3.0.5", "", web)
	dp.plug("a03")

	ifaces, err := dp.Interfaces(context.Background())
	require.NoError(t, err)
	var want hoststate.State
	require.Eventually(t, func() bool {
		want = Compute(hostA, ifaces, fullSnapshot(t, st))
		a := dp.applies()
		return len(a) > 0 && reflect.DeepEqual(a[len(a)-1], want)
	}, 2*time.Second, 10*time.Millisecond, "incremental view differs from a full read:\n%s\nvs\n%s", dp.dump(), dumpState(want))
	require.Len(t, want.Peers, 2, "hostB (b02 on n2) and hostC (c02 on n2)")
	require.NotEmpty(t, want.GroupMembers[db], "c04 is a member of the remote group")

	fresh := newFakeDP("a02", "a03")
	startAgent(t, st, fresh, HostConfig{Host: "hostA", LocalIP: hostA.LocalIP, TunnelTypes: hostA.TunnelTypes, BridgeMappings: hostA.BridgeMappings})
	require.Eventually(t, func() bool {
		a := fresh.applies()
		return len(a) > 0 && reflect.DeepEqual(a[len(a)-1], want)
	}, 2*time.Second, 10*time.Millisecond, "a fresh agent differs:\n%s", fresh.dump())
}

// A router bound to the host makes its ports, and the networks they are
// on, the host's concern (its L3 service plugs them), also when the
// binding comes after the first listing; another host keeps none of it.
func TestRouterPortsConcernL3Host(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	put(t, st, store.NetworkKey("n1"), vxlanNet("n1", 111))
	rp := vmPort("rp1", "n1", "fa:16:3e:00:00:0a", "10.1.0.1", "")
	rp.DeviceID, rp.DeviceOwner = "r1", "network:router_interface"
	put(t, st, store.PortKey("rp1"), rp)
	put(t, st, store.PortKey("v1"), vmPort("v1", "n1", "fa:16:3e:00:00:0b", "10.1.0.5", "hostB"))

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	start := func(host string) *cache {
		c := newCache(st, slog.Default(), host, true)
		go c.run(ctx)
		<-c.ready
		return c
	}
	holds := func(c *cache) bool {
		require.NoError(t, c.sync(ctx, nil))
		c.mu.Lock()
		defer c.mu.Unlock()
		_, rp := c.snap.Ports["rp1"]
		_, v := c.snap.Ports["v1"]
		_, n := c.snap.Networks["n1"]
		return rp && v && n
	}
	a, other := start("hostA"), start("hostC")
	require.False(t, holds(a), "no router bound yet")

	put(t, st, store.L3BindingKey("r1", "hostA"), map[string]any{})
	require.Eventually(t, func() bool { return holds(a) }, 2*time.Second, 10*time.Millisecond,
		"the router's port, its network and the network's ports concern hostA")
	require.False(t, holds(other))
	require.True(t, holds(start("hostA")), "a fresh agent of hostA holds them from its first listing")
}
