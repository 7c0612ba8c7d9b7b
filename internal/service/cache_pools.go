package service

import (
	"net/netip"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
)

// The cache's subnet pools and address scopes, and the prefixes in-flight
// subnet creates of this server hold (so that concurrent creates from one
// pool choose different prefixes instead of colliding in the store).

type poolCache struct {
	pools  map[string]versioned[storedPool]
	scopes map[string]versioned[storedScope]
	holds  map[string]map[netip.Prefix]int64 // pool -> prefix -> commit revision (0: in flight)
}

func newPoolCache() poolCache {
	return poolCache{pools: map[string]versioned[storedPool]{}, scopes: map[string]versioned[storedScope]{},
		holds: map[string]map[netip.Prefix]int64{}}
}

// applyPool folds a pool or scope key event in. Caller holds c.mu.
func (c *cache) applyPool(key string, put bool, kv store.KV) {
	if id, ok := strings.CutPrefix(key, store.SubnetPoolsPrefix); ok {
		delete(c.pl.pools, id)
		var p storedPool
		if put && decode(kv.Value, &p, c.log, key) {
			c.pl.pools[id] = versioned[storedPool]{p, kv.ModRevision}
		}
		return
	}
	id := strings.TrimPrefix(key, store.AddressScopesPrefix)
	delete(c.pl.scopes, id)
	var sc storedScope
	if put && decode(kv.Value, &sc, c.log, key) {
		c.pl.scopes[id] = versioned[storedScope]{sc, kv.ModRevision}
	}
}

func (c *cache) pool(id string) (versioned[storedPool], bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.pl.pools[id]
	return v, ok
}

func (c *cache) allPools() []versioned[storedPool] {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]versioned[storedPool], 0, len(c.pl.pools))
	for _, v := range c.pl.pools {
		out = append(out, v)
	}
	return out
}

// defaultPool returns the default pool of an IP version.
func (c *cache) defaultPool(version int) (versioned[storedPool], bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, v := range c.pl.pools {
		if v.obj.IsDefault && v.obj.IPVersion == version {
			return v, true
		}
	}
	return versioned[storedPool]{}, false
}

func (c *cache) scope(id string) (versioned[storedScope], bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.pl.scopes[id]
	return v, ok
}

func (c *cache) allScopes() []versioned[storedScope] {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]versioned[storedScope], 0, len(c.pl.scopes))
	for _, v := range c.pl.scopes {
		out = append(out, v)
	}
	return out
}

// poolSubnets returns the subnets allocated from a pool.
func (c *cache) poolSubnets(poolID string) []api.Subnet {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []api.Subnet
	for _, v := range c.subnets {
		if v.obj.SubnetPoolID != nil && *v.obj.SubnetPoolID == poolID {
			out = append(out, v.obj.Subnet)
		}
	}
	return out
}

// poolUsage is what choose needs to pick a prefix: the pool's allocated
// and held prefixes, the units a project's subnets in it use, and the
// cache revision this was read at.
type poolUsage struct {
	taken []netip.Prefix
	units uint64
	rev   int64
}

// holdPoolPrefix calls choose with the pool's usage by project and, if it
// returns a prefix, holds that prefix for the caller until releaseHold.
// Reading the usage and holding happen under one lock, so two requests
// of this server never choose the same (or overlapping) prefixes.
func (c *cache) holdPoolPrefix(poolID, project string, choose func(poolUsage) (netip.Prefix, error)) (netip.Prefix, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := poolUsage{rev: c.rev}
	for _, v := range c.subnets {
		if v.obj.SubnetPoolID == nil || *v.obj.SubnetPoolID != poolID {
			continue
		}
		p, err := netip.ParsePrefix(v.obj.CIDR)
		if err != nil {
			continue
		}
		u.taken = append(u.taken, p)
		if v.obj.ProjectID == project {
			u.units = addUnits(u.units, p)
		}
	}
	holds := c.pl.holds[poolID]
	for p, rev := range holds {
		if rev > 0 && c.rev >= rev {
			delete(holds, p) // committed and seen (or deleted since): the subnets say it all
			continue
		}
		u.taken = append(u.taken, p)
	}
	p, err := choose(u)
	if err != nil {
		return p, err
	}
	if holds == nil {
		holds = map[netip.Prefix]int64{}
		c.pl.holds[poolID] = holds
	}
	holds[p] = 0
	return p, nil
}

// releaseHold ends a hold: an uncommitted prefix is free again, a
// committed one stays held until the cache has seen revision rev.
func (c *cache) releaseHold(poolID string, p netip.Prefix, rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	holds := c.pl.holds[poolID]
	if holds == nil {
		return // the cache was reloaded meanwhile
	}
	if rev > 0 && c.rev < rev {
		holds[p] = rev
		return
	}
	delete(holds, p)
	if len(holds) == 0 {
		delete(c.pl.holds, poolID)
	}
}
