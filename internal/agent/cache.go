package agent

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
)

// cache mirrors the store prefixes the agent computes from, decoded, and
// kept current by List then Watch from the listed revision. Every change
// signals changed (coalesced), which wakes the reconcile loop.
type cache struct {
	st  store.Store
	log *slog.Logger

	mu        sync.Mutex
	snap      Snapshot
	statusRev map[string]int64 // port id -> ModRevision of its status key
	pending   int              // prefixes not listed yet
	ready     chan struct{}    // closed once every prefix was listed
	changed   chan struct{}
}

// prefixes the agent follows, with how a key's value lands in the cache.
var cachePrefixes = []string{
	store.NetworksPrefix, store.PortsPrefix, store.PortStatusPrefix,
	store.AgentsPrefix, store.AgentAlivePrefix, store.SecurityGroupsPrefix,
}

func newCache(st store.Store, log *slog.Logger) *cache {
	return &cache{
		st:  st,
		log: log,
		snap: Snapshot{
			Networks:   map[string]api.Network{},
			Ports:      map[string]api.Port{},
			PortStatus: map[string]api.PortStatus{},
			Agents:     map[string]api.Agent{},
			Alive:      map[string]bool{},

			SecurityGroups: map[string]api.SecurityGroup{},
		},
		statusRev: map[string]int64{},
		pending:   len(cachePrefixes),
		ready:     make(chan struct{}),
		changed:   make(chan struct{}, 1),
	}
}

// run follows every prefix until ctx ends.
func (c *cache) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range cachePrefixes {
		wg.Go(func() { c.follow(ctx, p) })
	}
	wg.Wait()
}

// follow lists prefix and watches it, listing again whenever the watch
// breaks (compaction, store restart), with a growing pause between tries.
func (c *cache) follow(ctx context.Context, prefix string) {
	bo := backoff{min: 100 * time.Millisecond, max: 5 * time.Second}
	for ctx.Err() == nil {
		listed, err := c.listWatch(ctx, prefix)
		if ctx.Err() != nil {
			return
		}
		if listed {
			bo.reset()
		}
		c.log.Warn("store watch broke, listing again", "prefix", prefix, "err", err)
		if !sleep(ctx, bo.next()) {
			return
		}
	}
}

// listWatch returns when the watch ends; the error says why, listed
// whether the listing succeeded.
func (c *cache) listWatch(ctx context.Context, prefix string) (listed bool, err error) {
	kvs, rev, err := c.st.List(ctx, prefix)
	if err != nil {
		return false, err
	}
	c.replace(prefix, kvs)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for ev := range c.st.Watch(wctx, prefix, rev+1) {
		if ev.Err != nil {
			return true, ev.Err
		}
		c.apply(prefix, ev)
	}
	return true, errWatchClosed
}

// replace sets prefix's content to kvs (a fresh listing).
func (c *cache) replace(prefix string, kvs []store.KV) {
	c.mu.Lock()
	c.clear(prefix)
	for _, kv := range kvs {
		c.put(prefix, kv)
	}
	if c.pending > 0 {
		c.pending--
		if c.pending == 0 {
			close(c.ready)
		}
	}
	c.mu.Unlock()
	c.notify()
}

func (c *cache) apply(prefix string, ev store.Event) {
	c.mu.Lock()
	if ev.Type == store.EventDelete {
		c.del(prefix, strings.TrimPrefix(ev.KV.Key, prefix))
	} else {
		c.put(prefix, ev.KV)
	}
	c.mu.Unlock()
	c.notify()
}

func (c *cache) notify() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// put decodes one key into the cache. A value that does not decode is
// dropped (logged): one bad record must not stop the host.
func (c *cache) put(prefix string, kv store.KV) {
	id := strings.TrimPrefix(kv.Key, prefix)
	var err error
	switch prefix {
	case store.NetworksPrefix:
		err = decodeInto(kv.Value, id, c.snap.Networks)
	case store.PortsPrefix:
		err = decodeInto(kv.Value, id, c.snap.Ports)
	case store.PortStatusPrefix:
		if err = decodeInto(kv.Value, id, c.snap.PortStatus); err == nil {
			c.statusRev[id] = kv.ModRevision
		}
	case store.AgentsPrefix:
		err = decodeInto(kv.Value, id, c.snap.Agents)
	case store.AgentAlivePrefix:
		c.snap.Alive[id] = true
	case store.SecurityGroupsPrefix:
		err = decodeInto(kv.Value, id, c.snap.SecurityGroups)
	}
	if err != nil {
		c.log.Warn("ignoring undecodable store value", "key", kv.Key, "err", err)
		c.del(prefix, id)
	}
}

func (c *cache) del(prefix, id string) {
	switch prefix {
	case store.NetworksPrefix:
		delete(c.snap.Networks, id)
	case store.PortsPrefix:
		delete(c.snap.Ports, id)
	case store.PortStatusPrefix:
		delete(c.snap.PortStatus, id)
		delete(c.statusRev, id)
	case store.AgentsPrefix:
		delete(c.snap.Agents, id)
	case store.AgentAlivePrefix:
		delete(c.snap.Alive, id)
	case store.SecurityGroupsPrefix:
		delete(c.snap.SecurityGroups, id)
	}
}

func (c *cache) clear(prefix string) {
	switch prefix {
	case store.NetworksPrefix:
		clear(c.snap.Networks)
	case store.PortsPrefix:
		clear(c.snap.Ports)
	case store.PortStatusPrefix:
		clear(c.snap.PortStatus)
		clear(c.statusRev)
	case store.AgentsPrefix:
		clear(c.snap.Agents)
	case store.AgentAlivePrefix:
		clear(c.snap.Alive)
	case store.SecurityGroupsPrefix:
		clear(c.snap.SecurityGroups)
	}
}

// snapshot returns a copy safe to read without the lock, and the status
// keys' revisions (for compare-and-set writes).
func (c *cache) snapshot() (Snapshot, map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Snapshot{
		Networks:   maps.Clone(c.snap.Networks),
		Ports:      maps.Clone(c.snap.Ports),
		PortStatus: maps.Clone(c.snap.PortStatus),
		Agents:     maps.Clone(c.snap.Agents),
		Alive:      maps.Clone(c.snap.Alive),

		SecurityGroups: maps.Clone(c.snap.SecurityGroups),
	}, maps.Clone(c.statusRev)
}

func decodeInto[T any](b []byte, id string, m map[string]T) error {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	m[id] = v
	return nil
}
