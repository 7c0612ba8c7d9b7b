package agent

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
)

// cache mirrors the part of the store that concerns this host, decoded,
// and kept current range by range: each key range is listed at a revision,
// then watched from the next one.
//
// An agent follows only the ranges that concern its host (the server
// writes each port's JSON into index ranges in the port's own transaction,
// store.PortOps, and a status mirror copies status records under their
// port's network), so a change reaches only the agents it concerns:
//   - always: the ports bound here (host-ports/<host>/), the host's own
//     status records (port-status/<host>/, whose revisions its
//     compare-and-set writes use), security groups, agent records and
//     heartbeats, and with network services subnets, routers, floating IPs
//     and L3 bindings;
//   - per network of the host's own ports: the network's key, its ports
//     (network-ports/<net>/) and the other hosts' status records of them
//     (network-status/<net>/);
//   - per router bound here (L3 role): its ports (router-ports/<router>/);
//   - per remote security group named by the rules of the host's ports'
//     groups: its members, on any network (secgroup-ports/<group>/);
//   - per port plugged here (or reported by this host) that no other range
//     holds: its own key, ports/<id>, until its network's range holds it.
//
// The host's own ports are those plugged into br-int here, bound here,
// ports of routers bound here, and those it has a status record for. The
// dynamic ranges are opened and closed by sync, before each reconcile,
// until they match what the host's own ports need; closing a range drops
// what it brought. A port arrives in several ranges (host, network, router,
// group: one transaction, one revision): the cache keeps the newest value
// and drops the port when no open range holds it any more.
type cache struct {
	st       store.Store
	log      *slog.Logger
	host     string
	services bool
	prefixes []string // the static ranges, followed from the start

	// ctx is run's: the dynamic ranges' watches live under it, and run
	// waits for them (wg) once stopped is set.
	ctx     context.Context
	wg      sync.WaitGroup
	stopped bool

	mu   sync.Mutex
	snap Snapshot
	// portsShared: snap.Ports was handed out by snapshot and must not be
	// written in place (see writablePorts).
	portsShared bool
	// statusShared: snap.PortStatus and statusRev were handed out by
	// snapshot (see setStatus). A port's map of statuses by host is never
	// written in place either way: it is replaced.
	statusShared bool
	// statusRev holds the ModRevision of every status key kept: the
	// host's own records by their key, other hosts' by their
	// network-status copy's key.
	statusRev map[string]int64
	rev       map[string]int64 // other kept key (not ports) -> its ModRevision
	portRev   map[string]int64 // port id -> ModRevision of the value kept
	portRefs  map[string]int   // port id -> open ranges holding it
	// agents holds every host's agent record undecoded: records are
	// rewritten by heartbeats all over the cloud, and only the few of
	// relevant hosts are decoded, by snapshot.
	agents  map[string][]byte
	rel     relevance
	ranges  map[string]*keyRange // open ranges by prefix
	pending int                  // static ranges not listed yet
	ready   chan struct{}        // closed once every static range was listed
	changed chan struct{}

	stats cacheStats
}

// cacheStats count what the cache received and kept (for the scale bench).
type cacheStats struct {
	events  atomic.Int64 // watch events received
	kept    atomic.Int64 // events that changed the cache and woke the agent
	relists atomic.Int64 // ranges opened after the relevance grew

	rewatches atomic.Int64 // watches started again after a break
	listings  atomic.Int64 // ranges listed again after a break
}

// relevance is what concerns the host, derived from the cache (see cache).
type relevance struct {
	local   map[string]bool // port ids with an interface on br-int here
	own     map[string]bool // the host's own ports (see cache)
	nets    map[string]bool // networks of the host's own ports
	routers map[string]bool // routers bound to the host
	groups  map[string]bool // security groups of the host's filtered ports
	remote  map[string]bool // remote groups named by those groups' rules
	hosts   map[string]bool // hosts of the ports kept (their agent records matter)
}

// rangeKind says how a range's keys land in the cache.
type rangeKind int

const (
	kindStatic    rangeKind = iota // a whole prefix (agents, security groups...)
	kindPorts                      // port copies under an index prefix, or one port key
	kindOwnStatus                  // port-status/<host>/
	kindNetStatus                  // network-status/<net>/: other hosts' statuses
	kindNetwork                    // one network key
)

// keyRange is one followed range: a prefix, or one key (exact, watched
// as a prefix and filtered: etcd ids never prefix one another, test ids
// might).
type keyRange struct {
	prefix  string
	kind    rangeKind
	exact   bool
	dynamic bool
	ports   map[string]bool // kindPorts: the port ids this range holds
	cancel  context.CancelFunc
	counted bool // a static range's first listing counted towards ready
}

// cachePrefixes are the static ranges every agent follows whole.
var cachePrefixes = []string{store.SecurityGroupsPrefix, store.AgentsPrefix, store.AgentAlivePrefix}

// servicePrefixes are followed too when the agent runs network services
// (the agent learns only what its roles need).
var servicePrefixes = []string{store.SubnetsPrefix, store.RoutersPrefix, store.FloatingIPsPrefix, store.L3BindingsPrefix}

func newCache(st store.Store, log *slog.Logger, host string, services bool) *cache {
	c := &cache{
		st:       st,
		log:      log,
		host:     host,
		services: services,
		snap: Snapshot{
			Networks:   map[string]api.Network{},
			Subnets:    map[string]api.Subnet{},
			Ports:      map[string]*api.Port{},
			PortStatus: map[string]map[string]api.PortStatus{},
			Agents:     map[string]api.Agent{},
			Alive:      map[string]bool{},

			SecurityGroups: map[string]api.SecurityGroup{},

			Routers:     map[string]api.Router{},
			FloatingIPs: map[string]api.FloatingIP{},
			L3Bindings:  map[string]map[string]bool{},
		},
		statusRev: map[string]int64{},
		rev:       map[string]int64{},
		portRev:   map[string]int64{},
		portRefs:  map[string]int{},
		agents:    map[string][]byte{},
		rel:       newRelevance(map[string]bool{}),
		ranges:    map[string]*keyRange{},
		ready:     make(chan struct{}),
		changed:   make(chan struct{}, 1),
	}
	// The L3 bindings first (they make router ports the host's), then the
	// host's own statuses and ports, then the rest.
	if services {
		c.addStatic(store.L3BindingsPrefix, kindStatic)
	}
	c.addStatic(store.PortStatusOf(host), kindOwnStatus)
	c.addStatic(store.HostPortsOf(host), kindPorts)
	for _, p := range cachePrefixes {
		c.addStatic(p, kindStatic)
	}
	if services {
		for _, p := range servicePrefixes[:3] {
			c.addStatic(p, kindStatic)
		}
	}
	c.pending = len(c.prefixes)
	return c
}

func (c *cache) addStatic(prefix string, kind rangeKind) {
	c.prefixes = append(c.prefixes, prefix)
	c.ranges[prefix] = &keyRange{prefix: prefix, kind: kind, ports: map[string]bool{}}
}

func newRelevance(local map[string]bool) relevance {
	return relevance{local: local, own: map[string]bool{}, nets: map[string]bool{}, routers: map[string]bool{},
		groups: map[string]bool{}, remote: map[string]bool{}, hosts: map[string]bool{}}
}

// run lists every static range, in order, then follows each until ctx
// ends. The dynamic ranges are opened by sync.
func (c *cache) run(ctx context.Context) {
	c.mu.Lock()
	c.ctx = ctx
	static := make([]*keyRange, 0, len(c.prefixes))
	for _, p := range c.prefixes {
		static = append(static, c.ranges[p])
	}
	c.mu.Unlock()
	first := map[*keyRange]listing{}
	for _, r := range static {
		kvs, rev, err := c.st.List(ctx, r.prefix)
		if err != nil {
			break // follow lists again, with back-off
		}
		c.listed(r, kvs, rev)
		first[r] = listing{rev: rev, ok: true}
	}
	var wg sync.WaitGroup
	for _, r := range static {
		wg.Go(func() { c.follow(ctx, r, first[r]) })
	}
	wg.Wait()
	c.mu.Lock()
	c.stopped = true // no range opens after this
	c.mu.Unlock()
	c.wg.Wait()
}

// listing is a first listing already applied: watch from rev+1.
type listing struct {
	rev int64
	ok  bool
}

// follow watches range r from a first listing (if ok) until ctx ends.
// When the watch breaks (store restart, lost connection, expired login) it
// watches again from the revision after the last one it applied, so a
// store restart costs each agent one watch request per range, not a
// listing; it lists again only when that revision was compacted away (or
// nothing was listed yet). Between tries it pauses, with jitter, so that a
// thousand agents do not retry in step.
func (c *cache) follow(ctx context.Context, r *keyRange, first listing) {
	bo := backoff{min: 100 * time.Millisecond, max: 5 * time.Second, jitter: true}
	rev, listed := first.rev, first.ok
	for ctx.Err() == nil {
		var err error
		progressed, began := false, time.Now()
		if !listed {
			var kvs []store.KV
			if kvs, rev, err = c.st.List(ctx, r.prefix); err == nil {
				c.stats.listings.Add(1)
				c.listed(r, kvs, rev)
				listed, progressed = true, true
			}
		}
		if listed {
			var applied bool
			rev, applied, err = c.watch(ctx, r, rev)
			progressed = progressed || applied
			if errors.Is(err, store.ErrCompacted) {
				listed = false
			}
		}
		if ctx.Err() != nil {
			return
		}
		if progressed || time.Since(began) > bo.max {
			bo.reset() // it worked for a while: a new break starts over
		}
		c.stats.rewatches.Add(1)
		c.log.Warn("store watch broke, watching again", "prefix", r.prefix, "rev", rev, "list", !listed, "err", err)
		if !sleep(ctx, bo.next()) {
			return
		}
	}
}

// watch applies the changes in r after revision rev until the watch ends;
// it returns the last revision applied whole (rev if none), whether it
// applied any, and why the watch ended.
func (c *cache) watch(ctx context.Context, r *keyRange, rev int64) (last int64, applied bool, err error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for ev := range c.st.Watch(wctx, r.prefix, rev+1) {
		if ev.Err != nil {
			return rev, applied, ev.Err
		}
		c.apply(r, ev)
		applied = true
		// A transaction's events share a revision: it is done (and the
		// watch may resume after it) only with its last event.
		rev = ev.KV.ModRevision - 1
		if ev.LastOfRev {
			rev++
		}
	}
	return rev, applied, errWatchClosed
}

// listed applies a listing of r (if r is still open) and counts a static
// range's first towards readiness.
func (c *cache) listed(r *keyRange, kvs []store.KV, rev int64) {
	c.mu.Lock()
	if c.ranges[r.prefix] == r {
		c.replace(r, kvs)
	}
	if !r.dynamic && !r.counted {
		r.counted = true
		c.pending--
		if c.pending == 0 {
			close(c.ready)
		}
	}
	c.mu.Unlock()
	c.notify()
}

// replace sets r's content to kvs, a listing of it. The caller holds c.mu.
func (c *cache) replace(r *keyRange, kvs []store.KV) {
	seen := make(map[string]bool, len(kvs))
	for _, kv := range kvs {
		if r.exact && kv.Key != r.prefix {
			continue
		}
		seen[kv.Key] = true
		c.put(r, kv)
	}
	switch r.kind {
	case kindPorts:
		for id := range r.ports {
			if !seen[r.portKey(id)] {
				c.unref(r, id)
			}
		}
	case kindOwnStatus, kindNetStatus:
		for key := range c.statusRev {
			if strings.HasPrefix(key, r.prefix) && !seen[key] {
				c.del(r, store.KV{Key: key})
			}
		}
	case kindNetwork:
		if !seen[r.prefix] {
			c.del(r, store.KV{Key: r.prefix})
		}
	case kindStatic:
		for key := range c.rev {
			if strings.HasPrefix(key, r.prefix) && !seen[key] {
				c.del(r, store.KV{Key: key})
			}
		}
	}
}

func (c *cache) apply(r *keyRange, ev store.Event) {
	c.stats.events.Add(1)
	if r.exact && ev.KV.Key != r.prefix {
		return // a longer key under the same prefix
	}
	c.mu.Lock()
	var wake bool
	if c.ranges[r.prefix] == r { // not closed meanwhile
		if ev.Type == store.EventDelete {
			wake = c.del(r, ev.KV)
		} else {
			wake = c.put(r, ev.KV)
		}
	}
	c.mu.Unlock()
	if wake {
		c.stats.kept.Add(1)
		c.notify()
	}
}

func (c *cache) notify() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// portID is the port a key of a kindPorts range is about.
func (r *keyRange) portID(key string) string {
	if r.exact {
		return strings.TrimPrefix(key, store.PortsPrefix)
	}
	return strings.TrimPrefix(key, r.prefix)
}

// portKey is the key of port id in a kindPorts range.
func (r *keyRange) portKey(id string) string {
	if r.exact {
		return r.prefix
	}
	return r.prefix + id
}

// put records one key of range r, and reports whether the host's view
// changed (the agent must wake). A value that does not decode is dropped
// (logged): one bad record must not stop the host.
func (c *cache) put(r *keyRange, kv store.KV) bool {
	switch r.kind {
	case kindPorts:
		return c.putPort(r, kv)
	case kindOwnStatus:
		host, port, ok := store.ParsePortStatusKey(kv.Key)
		if !ok || host != c.host {
			return false
		}
		// The host's own records do not wake it: it wrote them, and its
		// next reconcile reads them anyway.
		c.putStatus(kv, host, port)
		return false
	case kindNetStatus:
		_, host, port, ok := store.ParseNetworkStatusKey(kv.Key)
		if !ok || host == c.host {
			return false // the host's own records come from its own range
		}
		return c.putStatus(kv, host, port) && c.hasPort(port)
	}
	if c.rev[kv.Key] >= kv.ModRevision && kv.ModRevision > 0 {
		return false // a listing already brought this or a newer value
	}
	var err error
	wake := true
	if r.kind == kindNetwork {
		err = decodeInto(kv.Value, strings.TrimPrefix(kv.Key, store.NetworksPrefix), c.snap.Networks)
	} else {
		id := strings.TrimPrefix(kv.Key, r.prefix)
		switch r.prefix {
		case store.SubnetsPrefix:
			// Every subnet is kept (snapshot hands out those of the host's
			// networks): the host joining a network then needs no listing.
			var s api.Subnet
			if err = json.Unmarshal(kv.Value, &s); err == nil {
				c.snap.Subnets[id] = s
				wake = c.rel.nets[s.NetworkID]
			}
		case store.AgentsPrefix:
			// Heartbeats rewrite the record every 30 s; only a changed
			// tunnel endpoint concerns the peers.
			old := c.agents[id]
			c.agents[id] = kv.Value
			wake = c.rel.hosts[id] && localIP(old) != localIP(kv.Value)
		case store.AgentAlivePrefix:
			c.snap.Alive[id] = true
			wake = c.rel.hosts[id]
		case store.SecurityGroupsPrefix:
			err = decodeInto(kv.Value, id, c.snap.SecurityGroups)
			wake = c.rel.groups[id]
		case store.RoutersPrefix:
			err = decodeInto(kv.Value, id, c.snap.Routers)
		case store.FloatingIPsPrefix:
			err = decodeInto(kv.Value, id, c.snap.FloatingIPs)
		case store.L3BindingsPrefix:
			err = c.putL3Binding(id, kv.Value)
		}
	}
	if err != nil {
		c.log.Warn("ignoring undecodable store value", "key", kv.Key, "err", err)
		return c.del(r, kv)
	}
	c.rev[kv.Key] = kv.ModRevision
	return wake
}

// putPort records a port brought by range r: the range now holds it, and
// its value replaces the kept one if newer.
func (c *cache) putPort(r *keyRange, kv store.KV) bool {
	id := r.portID(kv.Key)
	if id == "" || strings.Contains(id, "/") {
		return false
	}
	if c.portRefs[id] > 0 && kv.ModRevision <= c.portRev[id] {
		c.ref(r, id) // the same transaction seen through another range, or older
		return false
	}
	p, err := decodePort(kv.Value)
	if err != nil {
		c.log.Warn("ignoring undecodable store value", "key", kv.Key, "err", err)
		return c.unref(r, id)
	}
	c.ref(r, id)
	c.portRev[id] = kv.ModRevision
	c.writablePorts()[id] = &p // a new port: snapshots may hold the old one
	return true
}

func (c *cache) ref(r *keyRange, id string) {
	if !r.ports[id] {
		r.ports[id] = true
		c.portRefs[id]++
	}
}

// unref removes range r's hold on a port; the port goes when no range
// holds it. It reports whether the port went.
func (c *cache) unref(r *keyRange, id string) bool {
	if !r.ports[id] {
		return false
	}
	delete(r.ports, id)
	if c.portRefs[id]--; c.portRefs[id] > 0 {
		return false
	}
	delete(c.portRefs, id)
	delete(c.portRev, id)
	delete(c.writablePorts(), id)
	return true
}

// del removes one key of range r and reports whether the host's view
// changed.
func (c *cache) del(r *keyRange, kv store.KV) bool {
	switch r.kind {
	case kindPorts:
		return c.unref(r, r.portID(kv.Key))
	case kindOwnStatus:
		if host, port, ok := store.ParsePortStatusKey(kv.Key); ok && host == c.host {
			c.delStatus(kv.Key, host, port)
		}
		return false
	case kindNetStatus:
		_, host, port, ok := store.ParseNetworkStatusKey(kv.Key)
		return ok && host != c.host && c.delStatus(kv.Key, host, port) && c.hasPort(port)
	}
	rev, held := c.rev[kv.Key]
	if !held || kv.ModRevision > 0 && kv.ModRevision < rev {
		return false // never kept, or a listing brought a newer value
	}
	delete(c.rev, kv.Key)
	if r.kind == kindNetwork {
		delete(c.snap.Networks, strings.TrimPrefix(kv.Key, store.NetworksPrefix))
		return true
	}
	id := strings.TrimPrefix(kv.Key, r.prefix)
	wake := true
	switch r.prefix {
	case store.SubnetsPrefix:
		wake = c.rel.nets[c.snap.Subnets[id].NetworkID]
		delete(c.snap.Subnets, id)
	case store.AgentsPrefix:
		delete(c.agents, id)
		wake = c.rel.hosts[id]
	case store.AgentAlivePrefix:
		delete(c.snap.Alive, id)
		wake = c.rel.hosts[id]
	case store.SecurityGroupsPrefix:
		delete(c.snap.SecurityGroups, id)
		wake = c.rel.groups[id]
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
	return wake
}

// putStatus records host's status of port, kept by port id (its port may
// arrive later, or through another range), and reports whether it changed.
func (c *cache) putStatus(kv store.KV, host, port string) bool {
	if c.statusRev[kv.Key] >= kv.ModRevision && kv.ModRevision > 0 {
		return false
	}
	var st api.PortStatus
	if err := json.Unmarshal(kv.Value, &st); err != nil {
		c.log.Warn("ignoring undecodable store value", "key", kv.Key, "err", err)
		return c.delStatus(kv.Key, host, port)
	}
	st.Host, st.PortID = host, port // the key, not the value, says who wrote it
	byHost := maps.Clone(c.snap.PortStatus[port])
	if byHost == nil {
		byHost = map[string]api.PortStatus{}
	}
	byHost[host] = st
	c.setStatus(port, byHost, kv.Key, kv.ModRevision)
	return true
}

// delStatus forgets host's status of port (kept under key) and reports
// whether it was kept.
func (c *cache) delStatus(key, host, port string) bool {
	if _, held := c.statusRev[key]; !held {
		return false
	}
	byHost := maps.Clone(c.snap.PortStatus[port])
	delete(byHost, host)
	c.setStatus(port, byHost, key, -1)
	return true
}

// writablePorts returns the ports map for a write, copying it first if a
// snapshot holds it: snapshots share the map until the cache changes it,
// rather than each reconcile copying every port of the host's networks
// (the largest allocation of a busy agent). The caller holds c.mu.
func (c *cache) writablePorts() map[string]*api.Port {
	if c.portsShared {
		c.snap.Ports = maps.Clone(c.snap.Ports)
		c.portsShared = false
	}
	return c.snap.Ports
}

// setStatus replaces a port's statuses by host (none: the port has none)
// and sets the revision of status key (-1 deletes it), copying the maps
// first if a snapshot holds them: a reconcile no longer copies every
// port's statuses. The caller holds c.mu.
func (c *cache) setStatus(port string, byHost map[string]api.PortStatus, key string, rev int64) {
	if c.statusShared {
		c.snap.PortStatus, c.statusRev = maps.Clone(c.snap.PortStatus), maps.Clone(c.statusRev)
		c.statusShared = false
	}
	if len(byHost) == 0 {
		delete(c.snap.PortStatus, port)
	} else {
		c.snap.PortStatus[port] = byHost
	}
	if rev < 0 {
		delete(c.statusRev, key)
	} else {
		c.statusRev[key] = rev
	}
}

func (c *cache) hasPort(id string) bool { _, ok := c.snap.Ports[id]; return ok }

// snapshot returns a copy safe to read without the lock, and the status
// keys' revisions (for compare-and-set writes).
func (c *cache) snapshot() (Snapshot, map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.portsShared, c.statusShared = true, true
	subnets := map[string]api.Subnet{}
	for id, s := range c.snap.Subnets {
		if c.rel.nets[s.NetworkID] {
			subnets[id] = s
		}
	}
	return Snapshot{
		Networks:   maps.Clone(c.snap.Networks),
		Subnets:    subnets,
		Ports:      c.snap.Ports,      // copied on the cache's next write (writablePorts)
		PortStatus: c.snap.PortStatus, // copied on the cache's next write (setStatus)
		Agents:     c.relevantAgents(),
		Alive:      maps.Clone(c.snap.Alive),

		SecurityGroups: maps.Clone(c.snap.SecurityGroups),

		Routers:     maps.Clone(c.snap.Routers),
		FloatingIPs: maps.Clone(c.snap.FloatingIPs),
		L3Bindings:  cloneNested(c.snap.L3Bindings),
	}, c.statusRev
}

// localIP is an agent record's tunnel endpoint ("" if none or undecodable).
func localIP(b []byte) string {
	if b == nil {
		return ""
	}
	var a struct {
		Configurations struct {
			LocalIP string `json:"local_ip"`
		} `json:"configurations"`
	}
	_ = json.Unmarshal(b, &a)
	return a.Configurations.LocalIP + "/"
}

// relevantAgents decodes the agent records of the hosts that matter
// (those of the ports kept, and this host). The caller holds c.mu.
func (c *cache) relevantAgents() map[string]api.Agent {
	out := make(map[string]api.Agent, len(c.rel.hosts)+1)
	for _, h := range append(slices.Collect(maps.Keys(c.rel.hosts)), c.host) {
		if b, ok := c.agents[h]; ok {
			if err := decodeInto(b, h, out); err != nil {
				c.log.Warn("ignoring undecodable store value", "key", store.AgentKey(h), "err", err)
			}
		}
	}
	return out
}

// setLocal records the ports plugged here before the first listing.
func (c *cache) setLocal(ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		c.rel.local[id] = true
	}
}

// sync brings the relevance up to date with the ports plugged here (ids)
// and the cache's content, and opens and closes the dynamic ranges to
// match it, until it is stable: a range opened is listed at once (holding
// the lock, so no watch event interleaves) and then watched; a range
// closed drops what it brought.
func (c *cache) sync(ctx context.Context, ids []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	local := make(map[string]bool, len(ids))
	for _, id := range ids {
		local[id] = true
	}
	for range 6 {
		c.rel = c.relevance(local)
		want := c.wantedRanges()
		moved := false
		for _, p := range slices.Sorted(maps.Keys(want)) {
			if _, open := c.ranges[p]; !open {
				if err := c.open(ctx, want[p]); err != nil {
					return err
				}
				moved = true
			}
		}
		for p, r := range c.ranges {
			if r.dynamic && want[p] == nil {
				c.close(r)
				moved = true
			}
		}
		if !moved {
			return nil
		}
	}
	c.rel = c.relevance(local)
	c.notify() // not stable yet: go on at the next reconcile
	return nil
}

// wantedRanges are the dynamic ranges the relevance asks for, not open
// yet (new) or open (the open one). The caller holds c.mu.
func (c *cache) wantedRanges() map[string]*keyRange {
	want := map[string]*keyRange{}
	add := func(prefix string, kind rangeKind, exact bool) {
		if r := c.ranges[prefix]; r != nil {
			want[prefix] = r
			return
		}
		want[prefix] = &keyRange{prefix: prefix, kind: kind, exact: exact, dynamic: true, ports: map[string]bool{}}
	}
	for n := range c.rel.nets {
		add(store.NetworkKey(n), kindNetwork, true)
		add(store.NetworkPortsOf(n), kindPorts, false)
		add(store.NetworkStatusOf(n), kindNetStatus, false)
	}
	for router := range c.rel.routers {
		add(store.RouterPortsOf(router), kindPorts, false)
	}
	for g := range c.rel.remote {
		add(store.SecGroupPortsOf(g), kindPorts, false)
	}
	// An own port no other range holds (plugged here before it was bound,
	// or known only by its status record): follow its key until its
	// network's range holds it, or until it is created.
	for id := range c.rel.own {
		if id == "" || strings.Contains(id, "/") {
			continue // not a port id: its key would be a prefix of others
		}
		key := store.PortKey(id)
		held := c.portRefs[id]
		if r := c.ranges[key]; r != nil && r.ports[id] {
			held--
		}
		if held == 0 {
			add(key, kindPorts, true)
		}
	}
	return want
}

// open lists a dynamic range, applies it and starts watching it from the
// listed revision. The caller holds c.mu.
func (c *cache) open(ctx context.Context, r *keyRange) error {
	if c.stopped {
		return context.Canceled
	}
	kvs, rev, err := c.st.List(ctx, r.prefix)
	if err != nil {
		return err
	}
	c.stats.relists.Add(1)
	c.ranges[r.prefix] = r
	c.replace(r, kvs)
	parent := c.ctx
	if parent == nil {
		parent = ctx
	}
	rctx, cancel := context.WithCancel(parent)
	r.cancel = cancel
	c.wg.Go(func() { c.follow(rctx, r, listing{rev: rev, ok: true}) })
	return nil
}

// close stops following a dynamic range and drops what it brought. The
// caller holds c.mu.
func (c *cache) close(r *keyRange) {
	r.cancel()
	delete(c.ranges, r.prefix)
	switch r.kind {
	case kindPorts:
		for id := range r.ports {
			c.unref(r, id)
		}
	case kindNetStatus:
		for key := range c.statusRev {
			if strings.HasPrefix(key, r.prefix) {
				c.del(r, store.KV{Key: key})
			}
		}
	case kindNetwork:
		c.del(r, store.KV{Key: r.prefix})
	}
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

// relevance derives what concerns the host from the cache. The caller
// holds c.mu.
func (c *cache) relevance(local map[string]bool) relevance {
	r := newRelevance(local)
	for router, hosts := range c.snap.L3Bindings {
		if removed, ok := hosts[c.host]; ok && !removed {
			r.routers[router] = true
		}
	}
	for id := range local {
		r.own[id] = true
	}
	for key := range c.statusRev {
		if host, id, ok := store.ParsePortStatusKey(key); ok && host == c.host {
			r.own[id] = true
		}
	}
	for id, p := range c.snap.Ports {
		if p.BindingHostID == c.host || store.RouterOwned(p.DeviceOwner) && r.routers[p.DeviceID] {
			r.own[id] = true
		}
	}
	for id := range r.own {
		p, ok := c.snap.Ports[id]
		if !ok {
			continue
		}
		r.nets[p.NetworkID] = true
		if filtered(*p) {
			for _, g := range p.SecurityGroups {
				r.groups[g] = true
			}
		}
	}
	for g := range r.groups {
		for _, rule := range c.snap.SecurityGroups[g].SecurityGroupRules {
			if rule.RemoteGroupID != nil {
				r.remote[*rule.RemoteGroupID] = true
			}
		}
	}
	for id, p := range c.snap.Ports {
		if p.BindingHostID != "" {
			r.hosts[p.BindingHostID] = true
		}
		for h := range c.snap.PortStatus[id] {
			r.hosts[h] = true
		}
	}
	delete(r.hosts, c.host)
	return r
}

func decodeInto[T any](b []byte, id string, m map[string]T) error {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	m[id] = v
	return nil
}
