package service

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/ipam"
	"github.com/vland/vland/internal/store"
)

// versioned is a cached object with the ModRevision it was read at; write
// transactions use that revision as their condition, so a stale cache can
// only cause a retry, never a wrong write.
type versioned[T any] struct {
	obj T
	rev int64
}

// cache is a watch-fed copy of everything under the vland prefix. It makes
// reads and allocation choices cheap; correctness still comes from the
// transaction conditions of every write.
type cache struct {
	st  store.Store
	log *slog.Logger

	mu       sync.RWMutex
	rev      int64
	revCh    chan struct{} // closed (and replaced) whenever rev advances
	networks map[string]versioned[storedNetwork]
	subnets  map[string]versioned[storedSubnet]
	ports    map[string]versioned[storedPort]
	netPorts map[string]map[string]struct{} // network id -> port ids
	ips      map[string]*ipam.Used          // subnet id -> allocated ips
	macs     map[string]struct{}            // <network id>/<mac>
	segments map[string]struct{}            // segment allocation keys
	slots    map[string]*slotSet            // <project>/<resource> -> slots in use
	counts   map[string]int                 // <project>/<resource> -> resources
	quotas   map[string]versioned[api.Quota]
	bulks    map[string]struct{} // bulk creates in progress
	status   map[string]map[string]api.PortStatus
	agents   map[string]api.Agent
	alive    map[string]struct{}
	beats    map[string]api.AgentHeartbeat // host -> its heartbeat key (agent-heartbeat/)
	sg       secGroupCache
	pl       poolCache // subnet pools and address scopes
	l3       l3Cache   // routers and floating IPs
}

func newCache(st store.Store, log *slog.Logger) *cache {
	c := &cache{st: st, log: log, revCh: make(chan struct{})}
	c.reset()
	return c
}

func (c *cache) reset() {
	c.networks = map[string]versioned[storedNetwork]{}
	c.subnets = map[string]versioned[storedSubnet]{}
	c.ports = map[string]versioned[storedPort]{}
	c.netPorts = map[string]map[string]struct{}{}
	c.ips = map[string]*ipam.Used{}
	c.macs = map[string]struct{}{}
	c.segments = map[string]struct{}{}
	c.slots = map[string]*slotSet{}
	c.counts = map[string]int{}
	c.quotas = map[string]versioned[api.Quota]{}
	c.bulks = map[string]struct{}{}
	c.status = map[string]map[string]api.PortStatus{}
	c.agents = map[string]api.Agent{}
	c.alive = map[string]struct{}{}
	c.beats = map[string]api.AgentHeartbeat{}
	c.sg = newSecGroupCache()
	c.pl = newPoolCache()
	c.l3 = newL3Cache()
}

// load lists the whole prefix into a fresh cache and returns the revision
// to watch from.
func (c *cache) load(ctx context.Context) (int64, error) {
	kvs, rev, err := c.st.List(ctx, rootPrefix)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset()
	for _, kv := range kvs {
		c.apply(store.Event{Type: store.EventPut, KV: kv})
	}
	c.advance(rev)
	return rev, nil
}

// run follows the store until ctx ends, reloading when the watch breaks.
func (c *cache) run(ctx context.Context, rev int64) {
	for ctx.Err() == nil {
		err := c.follow(ctx, rev)
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("service cache watch broke, reloading", "err", err)
		for ctx.Err() == nil {
			if rev, err = c.load(ctx); err == nil {
				break
			}
			c.log.Warn("service cache reload failed", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (c *cache) follow(ctx context.Context, rev int64) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := c.st.Watch(wctx, rootPrefix, rev+1)
	var txn []store.Event
	for {
		ev, ok := <-ch
		if !ok {
			return errors.New("watch channel closed")
		}
		if ev.Err != nil {
			return ev.Err
		}
		// The events of one transaction arrive one by one; they are applied
		// together once its last one is in, so no reader ever sees half a
		// transaction.
		txn = append(txn, ev)
		if !ev.LastOfRev {
			continue
		}
		c.mu.Lock()
		for _, e := range txn {
			c.apply(e)
		}
		c.advance(ev.KV.ModRevision)
		c.mu.Unlock()
		txn = txn[:0]
	}
}

// advance records that the cache has seen everything up to rev. Caller
// holds mu.
func (c *cache) advance(rev int64) {
	if rev <= c.rev {
		return
	}
	c.rev = rev
	close(c.revCh)
	c.revCh = make(chan struct{})
}

// waitFor blocks until the cache has seen revision rev (read-your-writes),
// or gives up after a short while: a revision can belong to a key outside
// the watched prefix, and a slightly stale answer beats a hung request.
func (c *cache) waitFor(ctx context.Context, rev int64) {
	deadline := time.NewTimer(2 * time.Second)
	defer deadline.Stop()
	for {
		c.mu.RLock()
		cur, ch := c.rev, c.revCh
		c.mu.RUnlock()
		if cur >= rev {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			c.log.Warn("service cache lagging", "want", rev, "have", cur)
			return
		case <-ctx.Done():
			return
		}
	}
}

// sync makes the cache at least as new as the store is now.
func (c *cache) sync(ctx context.Context) error {
	_, rev, err := c.st.ListKeys(ctx, store.TokenSecretKey)
	if err != nil {
		return err
	}
	c.waitFor(ctx, rev)
	return nil
}

// apply folds one event into the maps. Caller holds mu.
func (c *cache) apply(ev store.Event) {
	key, put := ev.KV.Key, ev.Type == store.EventPut
	switch {
	case strings.HasPrefix(key, store.NetworksPrefix):
		id := strings.TrimPrefix(key, store.NetworksPrefix)
		if old, ok := c.networks[id]; ok {
			c.count(old.obj.ProjectID, quotaNetwork, -1)
			delete(c.networks, id)
		}
		var n storedNetwork
		if put && decode(ev.KV.Value, &n, c.log, key) {
			c.networks[id] = versioned[storedNetwork]{n, ev.KV.ModRevision}
			c.count(n.ProjectID, quotaNetwork, 1)
		}
	case strings.HasPrefix(key, store.SubnetsPrefix):
		id := strings.TrimPrefix(key, store.SubnetsPrefix)
		if old, ok := c.subnets[id]; ok {
			c.count(old.obj.ProjectID, quotaSubnet, -1)
			delete(c.subnets, id)
		}
		c.resetHint(id)
		var s storedSubnet
		if put && decode(ev.KV.Value, &s, c.log, key) {
			c.subnets[id] = versioned[storedSubnet]{s, ev.KV.ModRevision}
			c.count(s.ProjectID, quotaSubnet, 1)
		}
	case strings.HasPrefix(key, store.PortsPrefix):
		c.applyPort(strings.TrimPrefix(key, store.PortsPrefix), put, ev.KV)
	case strings.HasPrefix(key, store.SecurityGroupsPrefix):
		c.applySecGroup(strings.TrimPrefix(key, store.SecurityGroupsPrefix), put, ev.KV)
	case strings.HasPrefix(key, store.IPsPrefix):
		subnet, ip, _ := strings.Cut(strings.TrimPrefix(key, store.IPsPrefix), "/")
		c.applyIP(subnet, ip, put)
	case strings.HasPrefix(key, store.MACsPrefix):
		setMember(c.macs, strings.TrimPrefix(key, store.MACsPrefix), put)
	case strings.HasPrefix(key, store.SegmentsPrefix):
		setMember(c.segments, key, put)
	case strings.HasPrefix(key, store.QuotaSlotsPrefix):
		c.applySlot(key, put)
	case strings.HasPrefix(key, store.BulksPrefix):
		setMember(c.bulks, strings.TrimPrefix(key, store.BulksPrefix), put)
	case strings.HasPrefix(key, store.QuotasPrefix):
		id := strings.TrimPrefix(key, store.QuotasPrefix)
		delete(c.quotas, id)
		q := api.Quota{Router: unsetLimit, FloatingIP: unsetLimit} // records older than L3
		if put && decode(ev.KV.Value, &q, c.log, key) {
			c.quotas[id] = versioned[api.Quota]{q, ev.KV.ModRevision}
		}
	case strings.HasPrefix(key, store.PortStatusPrefix):
		c.applyStatus(put, ev.KV)
	case strings.HasPrefix(key, store.AgentsPrefix):
		host := strings.TrimPrefix(key, store.AgentsPrefix)
		delete(c.agents, host)
		var a api.Agent
		if put && decode(ev.KV.Value, &a, c.log, key) {
			c.agents[host] = a
		}
	case strings.HasPrefix(key, store.SubnetPoolsPrefix), strings.HasPrefix(key, store.AddressScopesPrefix):
		c.applyPool(key, put, ev.KV)
	case strings.HasPrefix(key, store.RoutersPrefix), strings.HasPrefix(key, store.FloatingIPsPrefix):
		c.applyL3(key, put, ev.KV)
	case strings.HasPrefix(key, store.AgentAlivePrefix):
		setMember(c.alive, strings.TrimPrefix(key, store.AgentAlivePrefix), put)
	case strings.HasPrefix(key, store.AgentHeartbeatPrefix):
		host := strings.TrimPrefix(key, store.AgentHeartbeatPrefix)
		delete(c.beats, host)
		var hb api.AgentHeartbeat
		if put && decode(ev.KV.Value, &hb, c.log, key) {
			c.beats[host] = hb
		}
	}
}

func (c *cache) applyPort(id string, put bool, kv store.KV) {
	if old, ok := c.ports[id]; ok {
		delete(c.netPorts[old.obj.NetworkID], id)
		delete(c.ports, id)
		c.count(old.obj.ProjectID, quotaPort, -1)
	}
	var p storedPort
	if !put || !decode(kv.Value, &p, c.log, kv.Key) {
		return
	}
	c.ports[id] = versioned[storedPort]{p, kv.ModRevision}
	c.count(p.ProjectID, quotaPort, 1)
	setKey(c.netPorts, p.NetworkID, id, true)
}

// applyStatus records one host's status record of a port; keys of the old
// port-status/<port id> layout are ignored (store.DropLegacyKeys).
func (c *cache) applyStatus(put bool, kv store.KV) {
	host, id, ok := store.ParsePortStatusKey(kv.Key)
	if !ok {
		return
	}
	delete(c.status[id], host)
	var st api.PortStatus
	if put && decode(kv.Value, &st, c.log, kv.Key) {
		st.Host, st.PortID = host, id // the key says who wrote it
		if c.status[id] == nil {
			c.status[id] = map[string]api.PortStatus{}
		}
		c.status[id][host] = st
	}
	if len(c.status[id]) == 0 {
		delete(c.status, id)
	}
}

func decode(b []byte, v any, log *slog.Logger, key string) bool {
	if err := json.Unmarshal(b, v); err != nil {
		log.Warn("service cache: undecodable value", "key", key, "err", err)
		return false
	}
	return true
}

func setMember(m map[string]struct{}, k string, present bool) {
	if present {
		m[k] = struct{}{}
	} else {
		delete(m, k)
	}
}

func setKey(m map[string]map[string]struct{}, outer, inner string, present bool) {
	set := m[outer]
	if set == nil {
		if !present {
			return
		}
		set = map[string]struct{}{}
		m[outer] = set
	}
	setMember(set, inner, present)
	if len(set) == 0 {
		delete(m, outer)
	}
}

// claim records allocation keys this server just committed, before the
// watch delivers them, so the next request of this server skips them.
func (c *cache) claim(keys ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		c.apply(store.Event{Type: store.EventPut, KV: store.KV{Key: k}})
	}
}
