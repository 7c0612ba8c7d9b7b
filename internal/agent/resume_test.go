package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
	"github.com/vland/vland/internal/store/etcdstore/embedded"
)

// countingStore counts the listings of each prefix and every watch event
// delivered, by key and revision; breakAll ends the watches running with
// an error, as a lost connection does.
type countingStore struct {
	store.Store
	mu     sync.Mutex
	lists  map[string]int
	events map[string]int // "key@rev" -> deliveries
	brk    chan struct{}  // closed by breakAll
}

func newCountingStore(st store.Store) *countingStore {
	return &countingStore{Store: st, lists: map[string]int{}, events: map[string]int{}, brk: make(chan struct{})}
}

func (c *countingStore) breakAll() {
	c.mu.Lock()
	close(c.brk)
	c.brk = make(chan struct{})
	c.mu.Unlock()
}

func (c *countingStore) List(ctx context.Context, prefix string) ([]store.KV, int64, error) {
	kvs, rev, err := c.Store.List(ctx, prefix)
	if err == nil {
		c.mu.Lock()
		c.lists[prefix]++
		c.mu.Unlock()
	}
	return kvs, rev, err
}

func (c *countingStore) Watch(ctx context.Context, prefix string, rev int64) <-chan store.Event {
	c.mu.Lock()
	brk := c.brk
	c.mu.Unlock()
	wctx, cancel := context.WithCancel(ctx)
	in := c.Store.Watch(wctx, prefix, rev)
	out := make(chan store.Event)
	go func() {
		defer close(out)
		defer cancel()
		for {
			var ev store.Event
			var ok bool
			select {
			case ev, ok = <-in:
				if !ok {
					return
				}
			case <-brk:
				ev = store.Event{Err: errors.New("injected: connection lost")}
			}
			if ev.Err == nil {
				c.mu.Lock()
				c.events[fmt.Sprintf("%s@%d", ev.KV.Key, ev.KV.ModRevision)]++
				c.mu.Unlock()
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
			if ev.Err != nil {
				return
			}
		}
	}()
	return out
}

func (c *countingStore) listed(prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lists[prefix]
}

// After an etcd restart the agent follows the store again by watching
// from the revisions it had applied, logged in again, without listing any
// prefix again: the writes made just after the restart (a port created,
// one deleted, one updated) each reach it exactly once, and the delete is
// not lost. The etcd client may resume its watches by itself (when another
// call renewed its login first); the test also breaks every watch while
// etcd is down, so that the agent's own resumption is what it exercises.
func TestWatchResumesAfterEtcdRestart(t *testing.T) {
	dir := t.TempDir()
	e, err := embedded.Start(embedded.Config{DataDir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() }) // the node running at the end
	url := e.Endpoints()[0]
	cli, err := etcdstore.AdminClient(e.RootClient())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, etcdstore.ProvisionAgent(ctx, cli, hostA.Host, "agent-pw"))
	cli.Close()
	server := etcdPair{}
	server.Store, err = etcdstore.Connect(e.ServerClient())
	require.NoError(t, err)
	ag, err := etcdstore.Connect(etcdstore.ClientConfig{Endpoints: []string{url}, Username: store.AgentUser(hostA.Host), Password: "agent-pw"})
	require.NoError(t, err)
	counted := newCountingStore(ag)
	server.agent = counted
	t.Cleanup(func() { ag.Close(); server.Close() })

	dp := newFakeDP("p1")
	a, err := New(Config{HostConfig: hostA, DatapathType: "netdev", LeaseTTL: time.Second, ResyncInterval: time.Hour,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}, counted, dp)
	require.NoError(t, err)
	actx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(actx) }()
	t.Cleanup(func() { stop(); <-done })
	// mac is the MAC of port id in the agent's cache ("" if absent).
	mac := func(id string) string {
		a.cache.mu.Lock()
		defer a.cache.mu.Unlock()
		if p := a.cache.snap.Ports[id]; p != nil {
			return p.MACAddress
		}
		return ""
	}
	put(t, server, store.NetworkKey("n1"), vxlanNet("n1", 111))
	put(t, server, store.PortKey("p1"), vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.1.0.5", ""))
	put(t, server, store.PortKey("p2"), vmPort("p2", "n1", "fa:16:3e:00:00:02", "10.1.0.6", "hostB"))
	put(t, server, store.PortKey("p3"), vmPort("p3", "n1", "fa:16:3e:00:00:03", "10.1.0.7", "hostB"))
	waitStatus(t, server, "p1", "hostA/ACTIVE")
	require.Eventually(t, func() bool { return mac("p3") != "" }, 5*time.Second, 10*time.Millisecond)
	counted.mu.Lock()
	lists := maps.Clone(counted.lists) // every range followed: static and per network
	counted.mu.Unlock()
	require.Contains(t, lists, store.NetworkPortsOf("n1"))

	require.NoError(t, server.Close())
	require.NoError(t, e.Close())
	counted.breakAll()
	time.Sleep(300 * time.Millisecond) // the agent tries again while etcd is down
	e, err = embedded.Start(embedded.Config{DataDir: dir, ClientURL: url})
	require.NoError(t, err)
	server.Store, err = etcdstore.Connect(e.ServerClient())
	require.NoError(t, err)
	start := time.Now()
	// Written as soon as etcd serves, before the agent is back in step
	// (its login is still the old one): the watches must not skip them.
	put(t, server, store.PortKey("p4"), vmPort("p4", "n1", "fa:16:3e:00:00:04", "10.1.0.8", "hostB"))
	del(t, server, store.PortKey("p3"))
	put(t, server, store.PortKey("p2"), vmPort("p2", "n1", "fa:16:3e:00:00:22", "10.1.0.6", "hostB"))
	put(t, server, store.SecurityGroupKey("probe"), map[string]string{"id": "probe"})
	require.Eventually(t, func() bool {
		a.cache.mu.Lock()
		_, probe := a.cache.snap.SecurityGroups["probe"]
		a.cache.mu.Unlock()
		return probe && mac("p4") != "" && mac("p3") == "" && mac("p2") == "fa:16:3e:00:00:22"
	}, 20*time.Second, 10*time.Millisecond, "p4 %q p3 %q p2 %q", mac("p4"), mac("p3"), mac("p2"))
	t.Logf("agent following the store again %.2f s after etcd restarted (%d watches started again)",
		time.Since(start).Seconds(), a.cache.stats.rewatches.Load())
	require.Positive(t, a.cache.stats.rewatches.Load(), "the restart did not break the watches")
	for p, n := range lists {
		require.Equal(t, n, counted.listed(p), "range %s listed again", p)
	}
	counted.mu.Lock()
	defer counted.mu.Unlock()
	for k, n := range counted.events {
		require.Equal(t, 1, n, "event %s delivered %d times", k, n)
	}
	// And it still reports: its own status writes work with the new login.
	put(t, server, store.PortKey("p1"), vmPort("p1", "n1", "fa:16:3e:00:00:11", "10.1.0.5", ""))
	require.Eventually(t, func() bool { return exists(server, store.AgentAliveKey(hostA.Host)) }, 20*time.Second, 20*time.Millisecond)
}
