package agent

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
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
	st       store.Store
	log      *slog.Logger
	prefixes []string // followed store prefixes

	mu        sync.Mutex
	snap      Snapshot
	statusRev map[string]int64 // status key -> its ModRevision
	pending   int              // prefixes not listed yet
	ready     chan struct{}    // closed once every prefix was listed
	changed   chan struct{}
}

// prefixes the agent follows, with how a key's value lands in the cache.
var cachePrefixes = []string{
	store.NetworksPrefix, store.PortsPrefix, store.PortStatusPrefix,
	store.AgentsPrefix, store.AgentAlivePrefix, store.SecurityGroupsPrefix,
}

// servicePrefixes are followed too when the agent runs network services
// (the agent learns only what its roles need).
var servicePrefixes = []string{store.SubnetsPrefix, store.RoutersPrefix, store.FloatingIPsPrefix, store.L3BindingsPrefix}

func newCache(st store.Store, log *slog.Logger, services bool) *cache {
	prefixes := cachePrefixes
	if services {
		prefixes = append(slices.Clone(cachePrefixes), servicePrefixes...)
	}
	return &cache{
		st:       st,
		log:      log,
		prefixes: prefixes,
		snap: Snapshot{
			Networks:   map[string]api.Network{},
			Subnets:    map[string]api.Subnet{},
			Ports:      map[string]api.Port{},
			PortStatus: map[string]map[string]api.PortStatus{},
			Agents:     map[string]api.Agent{},
			Alive:      map[string]bool{},

			SecurityGroups: map[string]api.SecurityGroup{},

			Routers:     map[string]api.Router{},
			FloatingIPs: map[string]api.FloatingIP{},
			L3Bindings:  map[string]map[string]bool{},
		},
		statusRev: map[string]int64{},
		pending:   len(prefixes),
		ready:     make(chan struct{}),
		changed:   make(chan struct{}, 1),
	}
}

// run follows every prefix until ctx ends.
func (c *cache) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range c.prefixes {
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
	case store.SubnetsPrefix:
		err = decodeInto(kv.Value, id, c.snap.Subnets)
	case store.PortsPrefix:
		err = decodeInto(kv.Value, id, c.snap.Ports)
	case store.PortStatusPrefix:
		err = c.putStatus(kv)
	case store.AgentsPrefix:
		err = decodeInto(kv.Value, id, c.snap.Agents)
	case store.AgentAlivePrefix:
		c.snap.Alive[id] = true
	case store.SecurityGroupsPrefix:
		err = decodeInto(kv.Value, id, c.snap.SecurityGroups)
	case store.RoutersPrefix:
		err = decodeInto(kv.Value, id, c.snap.Routers)
	case store.FloatingIPsPrefix:
		err = decodeInto(kv.Value, id, c.snap.FloatingIPs)
	case store.L3BindingsPrefix:
		err = c.putL3Binding(id, kv.Value)
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
	case store.SubnetsPrefix:
		delete(c.snap.Subnets, id)
	case store.PortsPrefix:
		delete(c.snap.Ports, id)
	case store.PortStatusPrefix:
		if host, port, ok := store.ParsePortStatusKey(prefix + id); ok {
			delete(c.snap.PortStatus[port], host)
			if len(c.snap.PortStatus[port]) == 0 {
				delete(c.snap.PortStatus, port)
			}
		}
		delete(c.statusRev, prefix+id)
	case store.AgentsPrefix:
		delete(c.snap.Agents, id)
	case store.AgentAlivePrefix:
		delete(c.snap.Alive, id)
	case store.SecurityGroupsPrefix:
		delete(c.snap.SecurityGroups, id)
	case store.RoutersPrefix:
		delete(c.snap.Routers, id)
	case store.FloatingIPsPrefix:
		delete(c.snap.FloatingIPs, id)
	case store.L3BindingsPrefix:
		if router, host, ok := strings.Cut(id, "/"); ok {
			delete(c.snap.L3Bindings[router], host)
			if len(c.snap.L3Bindings[router]) == 0 {
				delete(c.snap.L3Bindings, router)
			}
		}
	}
}

func (c *cache) clear(prefix string) {
	switch prefix {
	case store.NetworksPrefix:
		clear(c.snap.Networks)
	case store.SubnetsPrefix:
		clear(c.snap.Subnets)
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
	case store.RoutersPrefix:
		clear(c.snap.Routers)
	case store.FloatingIPsPrefix:
		clear(c.snap.FloatingIPs)
	case store.L3BindingsPrefix:
		clear(c.snap.L3Bindings)
	}
}

// snapshot returns a copy safe to read without the lock, and the status
// keys' revisions (for compare-and-set writes).
func (c *cache) snapshot() (Snapshot, map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Snapshot{
		Networks:   maps.Clone(c.snap.Networks),
		Subnets:    maps.Clone(c.snap.Subnets),
		Ports:      maps.Clone(c.snap.Ports),
		PortStatus: cloneStatus(c.snap.PortStatus),
		Agents:     maps.Clone(c.snap.Agents),
		Alive:      maps.Clone(c.snap.Alive),

		SecurityGroups: maps.Clone(c.snap.SecurityGroups),

		Routers:     maps.Clone(c.snap.Routers),
		FloatingIPs: maps.Clone(c.snap.FloatingIPs),
		L3Bindings:  cloneNested(c.snap.L3Bindings),
	}, maps.Clone(c.statusRev)
}

// putStatus records a status key; keys of another layout (the old
// port-status/<port id>) are skipped.
func (c *cache) putStatus(kv store.KV) error {
	host, port, ok := store.ParsePortStatusKey(kv.Key)
	if !ok {
		return nil
	}
	var st api.PortStatus
	if err := json.Unmarshal(kv.Value, &st); err != nil {
		return err
	}
	st.Host, st.PortID = host, port // the key, not the value, says who wrote it
	if c.snap.PortStatus[port] == nil {
		c.snap.PortStatus[port] = map[string]api.PortStatus{}
	}
	c.snap.PortStatus[port][host] = st
	c.statusRev[kv.Key] = kv.ModRevision
	return nil
}

// putL3Binding records one router/host binding (key <router>/<host>).
func (c *cache) putL3Binding(id string, v []byte) error {
	router, host, ok := strings.Cut(id, "/")
	if !ok {
		return nil
	}
	var b struct {
		Removed bool `json:"removed"`
	}
	if err := json.Unmarshal(v, &b); err != nil {
		return err
	}
	if c.snap.L3Bindings[router] == nil {
		c.snap.L3Bindings[router] = map[string]bool{}
	}
	c.snap.L3Bindings[router][host] = b.Removed
	return nil
}

func cloneNested[V any](m map[string]map[string]V) map[string]map[string]V {
	out := make(map[string]map[string]V, len(m))
	for k, inner := range m {
		out[k] = maps.Clone(inner)
	}
	return out
}

// cloneStatus copies the nested status map (the cache keeps changing its
// inner maps).
func cloneStatus(m map[string]map[string]api.PortStatus) map[string]map[string]api.PortStatus {
	out := make(map[string]map[string]api.PortStatus, len(m))
	for id, byHost := range m {
		out[id] = maps.Clone(byHost)
	}
	return out
}

func decodeInto[T any](b []byte, id string, m map[string]T) error {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	m[id] = v
	return nil
}
