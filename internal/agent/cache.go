package agent

import (
	"bytes"
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
// and kept current by List then Watch from the listed revision.
//
// Every agent watches the same prefixes (the key layout has no per-network
// range), so every change reaches every agent; the cache drops what does
// not concern its host as early and cheaply as it can (a port is judged on
// a few decoded fields, a status on its key) and only a change it keeps
// wakes the reconcile loop. What concerns the host (relevance) is: its
// ports (plugged into br-int, bound to it, or reported by it), the networks
// they are on, every port of those networks with its status records, the
// members of the remote security groups its ports' rules name, and the
// agents of the hosts those ports are on. When that set grows (the host
// joins a network), the cache lists the port, status, network and subnet
// prefixes again, filtered; that is the one read whose cost grows with the
// cloud, paid when a host joins a network, not per change.
type cache struct {
	st       store.Store
	log      *slog.Logger
	host     string
	prefixes []string // followed store prefixes

	mu   sync.Mutex
	snap Snapshot
	// portsShared: snap.Ports was handed out by snapshot and must not be
	// written in place (see writablePorts).
	portsShared bool
	// statusShared: snap.PortStatus and statusRev were handed out by
	// snapshot (see setStatus). A port's map of statuses by host is never
	// written in place either way: it is replaced.
	statusShared bool
	statusRev    map[string]int64 // status key -> its ModRevision
	rev          map[string]int64 // other kept key -> its ModRevision
	// agents holds every host's agent record undecoded: records are
	// rewritten by heartbeats all over the cloud, and only the few of
	// relevant hosts are decoded, by snapshot.
	agents map[string][]byte
	rel    relevance
	// limbo holds other hosts' status records for ports the cache does not
	// know yet, until the ports watch has caught up with their revision
	// (or limboTTL passed): ports and statuses are two watches, so a
	// status can arrive before the port it is about.
	limbo    []limboEntry
	grown    bool          // a ports listing found networks the others miss
	portsRev int64         // revision the ports watch (or a listing) reached
	pending  int           // prefixes not listed yet
	ready    chan struct{} // closed once every prefix was listed
	changed  chan struct{}

	stats cacheStats
}

// cacheStats count what the cache received and kept (for the scale bench).
type cacheStats struct {
	events  atomic.Int64 // watch events received
	kept    atomic.Int64 // events that changed the cache and woke the agent
	relists atomic.Int64 // filtered listings after the relevance grew

	rewatches atomic.Int64 // watches started again after a break
	listings  atomic.Int64 // whole prefixes listed again after a break
}

// relevance is what concerns the host, derived from the cache (see cache).
type relevance struct {
	local  map[string]bool // port ids with an interface on br-int here
	nets   map[string]bool // networks of the host's ports
	groups map[string]bool // security groups of the host's filtered ports
	remote map[string]bool // remote groups named by those groups' rules
	hosts  map[string]bool // hosts of the ports kept (their agent records matter)
}

// prefixes the agent follows, with how a key's value lands in the cache.
var cachePrefixes = []string{
	store.NetworksPrefix, store.PortsPrefix, store.PortStatusPrefix,
	store.AgentsPrefix, store.AgentAlivePrefix, store.SecurityGroupsPrefix,
}

// servicePrefixes are followed too when the agent runs network services
// (the agent learns only what its roles need).
var servicePrefixes = []string{store.SubnetsPrefix, store.RoutersPrefix, store.FloatingIPsPrefix, store.L3BindingsPrefix}

// relistPrefixes are listed again, in this order, when the relevance
// grows: the prefixes whose keys the cache filters by network or port.
var relistPrefixes = []string{store.PortsPrefix, store.NetworksPrefix, store.SubnetsPrefix, store.PortStatusPrefix}

func newCache(st store.Store, log *slog.Logger, host string, services bool) *cache {
	prefixes := cachePrefixes
	if services {
		prefixes = append(slices.Clone(cachePrefixes), servicePrefixes...)
	}
	return &cache{
		st:       st,
		log:      log,
		host:     host,
		prefixes: prefixes,
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
		agents:    map[string][]byte{},
		rel:       relevance{local: map[string]bool{}, nets: map[string]bool{}, groups: map[string]bool{}, remote: map[string]bool{}, hosts: map[string]bool{}},
		pending:   len(prefixes),
		ready:     make(chan struct{}),
		changed:   make(chan struct{}, 1),
	}
}

// run lists every prefix, then follows each until ctx ends. The first
// listings run in order (the host's own statuses, ports, then the rest),
// so that each is filtered by what the earlier ones showed: a host's
// ports decide its networks, which decide the statuses it keeps.
func (c *cache) run(ctx context.Context) {
	if kvs, _, err := c.st.List(ctx, store.PortStatusOf(c.host)); err == nil {
		c.mu.Lock()
		for _, kv := range kvs {
			c.putStatus(kv)
		}
		c.mu.Unlock()
	}
	order := slices.Clone(c.prefixes)
	slices.SortStableFunc(order, func(a, b string) int { return listRank(a) - listRank(b) })
	first := map[string]listing{}
	for _, p := range order {
		kvs, rev, err := c.st.List(ctx, p)
		if err != nil {
			break // follow lists again, with back-off
		}
		c.listed(p, kvs, rev)
		first[p] = listing{rev: rev, ok: true}
	}
	if len(first) == len(order) {
		c.mu.Lock()
		c.grown = false // every listing came after the ports'
		c.mu.Unlock()
	}
	var wg sync.WaitGroup
	for _, p := range c.prefixes {
		wg.Go(func() { c.follow(ctx, p, first[p]) })
	}
	wg.Wait()
}

// listing is a first listing already applied: watch from rev+1.
type listing struct {
	rev int64
	ok  bool
}

// listRank orders the first listings: the routers bound to hosts (they
// make ports the host's), ports, then networks and subnets, then statuses,
// then the rest.
func listRank(p string) int {
	switch p {
	case store.L3BindingsPrefix:
		return -1
	case store.PortsPrefix:
		return 0
	case store.NetworksPrefix, store.SubnetsPrefix:
		return 1
	case store.PortStatusPrefix:
		return 2
	}
	return 3
}

// follow watches prefix from a first listing (if ok) until ctx ends. When
// the watch breaks (store restart, lost connection, expired login) it
// watches again from the revision after the last one it applied, so a
// store restart costs each agent one watch request per prefix, not a
// listing of the whole cloud; it lists again only when that revision was
// compacted away (or nothing was listed yet). Between tries it pauses,
// with jitter, so that a thousand agents do not retry in step.
func (c *cache) follow(ctx context.Context, prefix string, first listing) {
	bo := backoff{min: 100 * time.Millisecond, max: 5 * time.Second, jitter: true}
	rev, listed := first.rev, first.ok
	for ctx.Err() == nil {
		var err error
		progressed, began := false, time.Now()
		if !listed {
			var kvs []store.KV
			if kvs, rev, err = c.st.List(ctx, prefix); err == nil {
				c.stats.listings.Add(1)
				c.listed(prefix, kvs, rev)
				listed, progressed = true, true
			}
		}
		if listed {
			var applied bool
			rev, applied, err = c.watch(ctx, prefix, rev)
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
		c.log.Warn("store watch broke, watching again", "prefix", prefix, "rev", rev, "list", !listed, "err", err)
		if !sleep(ctx, bo.next()) {
			return
		}
	}
}

// watch applies the changes under prefix after revision rev until the
// watch ends; it returns the last revision applied whole (rev if none),
// whether it applied any, and why the watch ended.
func (c *cache) watch(ctx context.Context, prefix string, rev int64) (last int64, applied bool, err error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for ev := range c.st.Watch(wctx, prefix, rev+1) {
		if ev.Err != nil {
			return rev, applied, ev.Err
		}
		c.apply(prefix, ev)
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

// listed applies a listing and counts it towards readiness.
func (c *cache) listed(prefix string, kvs []store.KV, rev int64) {
	c.mu.Lock()
	c.replace(prefix, kvs, rev)
	if c.pending > 0 {
		c.pending--
		if c.pending == 0 {
			close(c.ready)
		}
	}
	c.mu.Unlock()
	c.notify()
}

// replace sets prefix's content to the kept keys of kvs, a listing taken
// at revision rev. Ports are judged in two passes: the host's own ports
// first, whose networks then keep the other ports on them. The caller
// holds c.mu.
func (c *cache) replace(prefix string, kvs []store.KV, rev int64) {
	c.clear(prefix)
	if prefix == store.PortsPrefix {
		for _, kv := range kvs {
			id := strings.TrimPrefix(kv.Key, prefix)
			if h, err := c.portHead(kv.Value); err == nil && c.ownPort(id, h) && !c.rel.nets[h.NetworkID] {
				c.rel.nets[h.NetworkID] = true
				c.grown = true // the networks, subnets and statuses listed before miss it
			}
		}
	}
	for _, kv := range kvs {
		c.put(prefix, kv)
	}
	if prefix == store.PortsPrefix {
		c.portsAt(rev)
	}
}

func (c *cache) apply(prefix string, ev store.Event) {
	c.stats.events.Add(1)
	c.mu.Lock()
	var wake bool
	if ev.Type == store.EventDelete {
		wake = c.del(prefix, ev.KV)
	} else {
		wake = c.put(prefix, ev.KV)
	}
	if prefix == store.PortsPrefix && c.portsAt(ev.KV.ModRevision) {
		wake = true
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

// put decodes one key into the cache if it concerns the host, and reports
// whether the host's view changed (the agent must wake). A value that does
// not decode is dropped (logged): one bad record must not stop the host.
// Keys of prefixes the cache does not filter are all kept.
func (c *cache) put(prefix string, kv store.KV) bool {
	id := strings.TrimPrefix(kv.Key, prefix)
	if c.rev[kv.Key] >= kv.ModRevision && kv.ModRevision > 0 {
		return false // a listing already brought this or a newer value
	}
	var err error
	wake := true
	switch prefix {
	case store.NetworksPrefix:
		if !c.rel.nets[id] {
			return c.drop(prefix, kv)
		}
		err = decodeInto(kv.Value, id, c.snap.Networks)
	case store.SubnetsPrefix:
		var h struct {
			NetworkID string `json:"network_id"`
		}
		if err = json.Unmarshal(kv.Value, &h); err == nil && !c.rel.nets[h.NetworkID] {
			return c.drop(prefix, kv)
		}
		if err == nil {
			err = decodeInto(kv.Value, id, c.snap.Subnets)
		}
	case store.PortsPrefix:
		var h portHead
		if h, err = c.portHead(kv.Value); err == nil && !c.keepPort(id, h) {
			return c.drop(prefix, kv)
		}
		var p api.Port
		if err == nil {
			p, err = decodePort(kv.Value)
		}
		if err == nil {
			c.writablePorts()[id] = &p // a new port: snapshots may hold the old one
		}
	case store.PortStatusPrefix:
		return c.putStatus(kv)
	case store.AgentsPrefix:
		// Heartbeats rewrite the record every 30 s; only a changed tunnel
		// endpoint concerns the peers.
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
	if err != nil {
		c.log.Warn("ignoring undecodable store value", "key", kv.Key, "err", err)
		return c.drop(prefix, kv)
	}
	c.rev[kv.Key] = kv.ModRevision
	return wake
}

// drop removes a key that no longer concerns the host (or never did) and
// reports whether the cache held it.
func (c *cache) drop(prefix string, kv store.KV) bool {
	_, held := c.rev[kv.Key]
	if !held {
		return false
	}
	return c.del(prefix, store.KV{Key: kv.Key, ModRevision: kv.ModRevision})
}

// portHead is the part of a port the cache judges it on.
type portHead struct {
	NetworkID           string   `json:"network_id"`
	DeviceOwner         string   `json:"device_owner"`
	PortSecurityEnabled bool     `json:"port_security_enabled"`
	SecurityGroups      []string `json:"security_groups"`
	BindingHostID       string   `json:"binding:host_id"`
	DeviceID            string   `json:"device_id"`
}

// portHead reads what keepPort needs from a port's JSON. Every agent
// sees every port change in the cloud, so this is the hot path: network_id
// and binding:host_id are found by scanning the bytes (the server writes
// them as plain top-level strings, before any free-form map), and the JSON
// is only decoded when security groups matter or the scan is unsure.
func (c *cache) portHead(b []byte) (portHead, error) {
	net, ok1 := jsonString(b, `"network_id":"`)
	host, ok2 := jsonString(b, `"binding:host_id":"`)
	dev, ok3 := jsonString(b, `"device_id":"`)
	if ok1 && ok2 && ok3 && len(c.rel.remote) == 0 {
		return portHead{NetworkID: net, BindingHostID: host, DeviceID: dev}, nil
	}
	var h portHead
	err := json.Unmarshal(b, &h)
	return h, err
}

// jsonString returns the string value following key (which ends with the
// value's opening quote) at its first occurrence; ok is false if the key is
// missing or the value has escapes.
func jsonString(b []byte, key string) (string, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return "", false
	}
	v := b[i+len(key):]
	j := bytes.IndexByte(v, '"')
	if j < 0 || bytes.IndexByte(v[:j], '\\') >= 0 {
		return "", false
	}
	return string(v[:j]), true
}

// ownPort says whether a port is the host's own: plugged here, bound
// here, or reported by it.
func (c *cache) ownPort(id string, h portHead) bool {
	if c.rel.local[id] || h.BindingHostID == c.host || c.routerHere(h.DeviceID) {
		return true
	}
	_, mine := c.snap.PortStatus[id][c.host]
	return mine
}

// keepPort says whether a port concerns the host: its own (plugged here,
// bound here, reported by it), on one of its networks, or a member of a
// remote group its rules name.
func (c *cache) keepPort(id string, h portHead) bool {
	if c.rel.nets[h.NetworkID] || c.ownPort(id, h) {
		return true
	}
	if len(c.rel.remote) > 0 && filtered(api.Port{PortSecurityEnabled: h.PortSecurityEnabled, DeviceOwner: h.DeviceOwner}) {
		for _, g := range h.SecurityGroups {
			if c.rel.remote[g] {
				return true
			}
		}
	}
	return false
}

// del removes one key and reports whether the host's view changed.
func (c *cache) del(prefix string, kv store.KV) bool {
	id := strings.TrimPrefix(kv.Key, prefix)
	if prefix == store.PortStatusPrefix {
		host, port, ok := store.ParsePortStatusKey(kv.Key)
		if !ok {
			return false
		}
		if _, held := c.snap.PortStatus[port][host]; !held {
			c.limbo = slices.DeleteFunc(c.limbo, func(w limboEntry) bool { return w.kv.Key == kv.Key })
			return false
		}
		byHost := maps.Clone(c.snap.PortStatus[port])
		delete(byHost, host)
		c.setStatus(port, byHost, kv.Key, -1)
		return true
	}
	rev, held := c.rev[kv.Key]
	if !held || kv.ModRevision > 0 && kv.ModRevision < rev {
		return false // never kept, or a listing brought a newer value
	}
	delete(c.rev, kv.Key)
	wake := true
	switch prefix {
	case store.NetworksPrefix:
		delete(c.snap.Networks, id)
	case store.SubnetsPrefix:
		delete(c.snap.Subnets, id)
	case store.PortsPrefix:
		delete(c.writablePorts(), id)
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

func (c *cache) clear(prefix string) {
	for k := range c.rev {
		if strings.HasPrefix(k, prefix) {
			delete(c.rev, k)
		}
	}
	switch prefix {
	case store.NetworksPrefix:
		clear(c.snap.Networks)
	case store.SubnetsPrefix:
		clear(c.snap.Subnets)
	case store.PortsPrefix:
		c.snap.Ports, c.portsShared = map[string]*api.Port{}, false
	case store.PortStatusPrefix:
		c.snap.PortStatus, c.statusRev, c.statusShared = map[string]map[string]api.PortStatus{}, map[string]int64{}, false
		c.limbo = nil
	case store.AgentsPrefix:
		clear(c.agents)
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

// putStatus records a status key if it concerns the host: its own
// records always (it writes them with compare-and-set), another host's for
// the ports the cache holds. Keys of another layout (the old
// port-status/<port id>) are skipped. The host's own records do not wake
// it: it wrote them, and its next reconcile reads them anyway.
func (c *cache) putStatus(kv store.KV) bool {
	host, port, ok := store.ParsePortStatusKey(kv.Key)
	if !ok || c.statusRev[kv.Key] >= kv.ModRevision && kv.ModRevision > 0 {
		return false
	}
	if _, known := c.snap.Ports[port]; host != c.host && !known {
		if kv.ModRevision > c.portsRev {
			now := time.Now()
			old := 0
			for old < len(c.limbo) && (now.Sub(c.limbo[old].at) > limboTTL || len(c.limbo)-old >= maxLimbo) {
				old++
			}
			c.limbo = append(c.limbo[old:], limboEntry{kv: kv, at: now})
		}
		return false
	}
	var st api.PortStatus
	if err := json.Unmarshal(kv.Value, &st); err != nil {
		c.log.Warn("ignoring undecodable store value", "key", kv.Key, "err", err)
		return c.del(store.PortStatusPrefix, kv)
	}
	st.Host, st.PortID = host, port // the key, not the value, says who wrote it
	byHost := maps.Clone(c.snap.PortStatus[port])
	if byHost == nil {
		byHost = map[string]api.PortStatus{}
	}
	byHost[host] = st
	c.setStatus(port, byHost, kv.Key, kv.ModRevision)
	return host != c.host
}

// limboEntry is a status record waiting for its port, since at.
type limboEntry struct {
	kv store.KV
	at time.Time
}

// The status records waiting for their port are bounded in number and in
// time: the ports watch is not seconds behind the statuses watch (both
// come from the same etcd), so an older one is about a port that does not
// concern the host, whose changes arrive with no port change to settle
// them (such as every status of a cold-starting cloud).
const (
	maxLimbo = 10000
	limboTTL = 5 * time.Second
)

// portsAt records that the ports watch reached rev and settles the status
// records that waited: kept once their port is in the cache, dropped once
// the ports watch passed their revision without bringing the port. It
// reports whether one was kept.
func (c *cache) portsAt(rev int64) bool {
	c.portsRev = max(c.portsRev, rev)
	wake := false
	rest := c.limbo[:0]
	for _, e := range c.limbo {
		kv := e.kv
		_, port, _ := store.ParsePortStatusKey(kv.Key)
		switch {
		case c.hasPort(port):
			wake = c.putStatus(kv) || wake
		case kv.ModRevision > c.portsRev:
			rest = append(rest, e)
		}
	}
	clear(c.limbo[len(rest):])
	c.limbo = rest
	return wake
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
	return Snapshot{
		Networks:   maps.Clone(c.snap.Networks),
		Subnets:    maps.Clone(c.snap.Subnets),
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

// setLocal records the ports plugged here before the first listing, so
// that listing already keeps what the host needs.
func (c *cache) setLocal(ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		c.rel.local[id] = true
	}
}

// sync brings the relevance up to date with the ports plugged here (ids)
// and the cache's content; when it grew, it lists the filtered prefixes
// again (holding the lock, so no watch event interleaves), until it is
// stable. Entries that no longer concern the host are dropped.
func (c *cache) sync(ctx context.Context, ids []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	local := make(map[string]bool, len(ids))
	for _, id := range ids {
		local[id] = true
	}
	// A newly plugged port the cache does not hold (not bound here, on a
	// network the host did not have): read it alone. If it is not created
	// yet, the watch keeps it when it comes (it is local now).
	var unknown []string
	for id := range local {
		if !c.rel.local[id] && !c.hasPort(id) {
			unknown = append(unknown, id)
		}
	}
	c.rel.local = local
	for _, id := range unknown {
		kv, err := c.st.Get(ctx, store.PortKey(id))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		c.put(store.PortsPrefix, kv)
	}
	for range 3 {
		r := c.relevance(local)
		grew := c.grown || !subset(r.nets, c.rel.nets) || !subset(r.remote, c.rel.remote)
		c.grown = false
		c.rel = r
		if !grew {
			break
		}
		c.stats.relists.Add(1)
		for _, p := range relistPrefixes {
			if !slices.Contains(c.prefixes, p) {
				continue
			}
			kvs, rev, err := c.st.List(ctx, p)
			if err != nil {
				return err
			}
			c.replace(p, kvs, rev)
		}
		c.grown = false // the ports were listed first
	}
	c.prune()
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
	if host == c.host && !b.Removed && !c.routerHere(router) {
		// The router's ports (and the networks they are on) were filtered
		// out until now: list them again at the next refresh.
		c.grown = true
	}
	c.snap.L3Bindings[router][host] = b.Removed
	return nil
}

// routerHere says whether a router is bound to this host: its interface
// and gateway ports, and their networks, concern the host's L3 service.
func (c *cache) routerHere(router string) bool {
	removed, ok := c.snap.L3Bindings[router][c.host]
	return router != "" && ok && !removed
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
	r := relevance{local: local, nets: map[string]bool{}, groups: map[string]bool{}, remote: map[string]bool{}, hosts: map[string]bool{}}
	for id, p := range c.snap.Ports {
		_, mine := c.snap.PortStatus[id][c.host]
		if !local[id] && p.BindingHostID != c.host && !mine && !c.routerHere(p.DeviceID) {
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

// prune drops the ports, networks, subnets and other hosts' statuses that
// no longer concern the host (it left a network). The caller holds c.mu.
func (c *cache) prune() {
	for id, p := range c.snap.Ports {
		h := portHead{NetworkID: p.NetworkID, DeviceOwner: p.DeviceOwner, PortSecurityEnabled: p.PortSecurityEnabled,
			SecurityGroups: p.SecurityGroups, BindingHostID: p.BindingHostID, DeviceID: p.DeviceID}
		if !c.keepPort(id, h) {
			delete(c.writablePorts(), id)
			delete(c.rev, store.PortKey(id))
		}
	}
	for id := range c.snap.Networks {
		if !c.rel.nets[id] {
			delete(c.snap.Networks, id)
			delete(c.rev, store.NetworkKey(id))
		}
	}
	for id, s := range c.snap.Subnets {
		if !c.rel.nets[s.NetworkID] {
			delete(c.snap.Subnets, id)
			delete(c.rev, store.SubnetKey(id))
		}
	}
	for port, byHost := range c.snap.PortStatus {
		if c.hasPort(port) {
			continue
		}
		for host := range byHost {
			if host != c.host {
				left := maps.Clone(c.snap.PortStatus[port])
				delete(left, host)
				c.setStatus(port, left, store.PortStatusKey(host, port), -1)
			}
		}
	}
}

func subset(a, b map[string]bool) bool {
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func decodeInto[T any](b []byte, id string, m map[string]T) error {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	m[id] = v
	return nil
}
