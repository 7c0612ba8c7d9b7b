package service

import (
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// storedRouter is a router as it lives in the store (see storedNetwork).
// GatewayPort is the id of its gateway port on the external network.
type storedRouter struct {
	api.Router
	GatewayPort string `json:"vland:gateway_port,omitempty"`
	QuotaSlot   string `json:"vland:quota_slot,omitempty"`
}

// storedFloatingIP: see storedNetwork. FIPPort is the port on the
// external network that holds its address.
type storedFloatingIP struct {
	api.FloatingIP
	FIPPort   string `json:"vland:fip_port"`
	QuotaSlot string `json:"vland:quota_slot,omitempty"`
}

// l3Cache is the cache's routers and floating IPs.
type l3Cache struct {
	routers map[string]versioned[storedRouter]
	fips    map[string]versioned[storedFloatingIP]
}

func newL3Cache() l3Cache {
	return l3Cache{routers: map[string]versioned[storedRouter]{}, fips: map[string]versioned[storedFloatingIP]{}}
}

// applyL3 records a router or floating IP event. Caller holds c.mu.
func (c *cache) applyL3(key string, put bool, kv store.KV) {
	if id, ok := strings.CutPrefix(key, store.RoutersPrefix); ok {
		if old, ok := c.l3.routers[id]; ok {
			c.count(old.obj.ProjectID, quotaRouter, -1)
			delete(c.l3.routers, id)
		}
		var r storedRouter
		if put && decode(kv.Value, &r, c.log, key) {
			c.l3.routers[id] = versioned[storedRouter]{r, kv.ModRevision}
			c.count(r.ProjectID, quotaRouter, 1)
		}
		return
	}
	id := strings.TrimPrefix(key, store.FloatingIPsPrefix)
	if old, ok := c.l3.fips[id]; ok {
		c.count(old.obj.ProjectID, quotaFloatingIP, -1)
		delete(c.l3.fips, id)
	}
	var f storedFloatingIP
	if put && decode(kv.Value, &f, c.log, key) {
		c.l3.fips[id] = versioned[storedFloatingIP]{f, kv.ModRevision}
		c.count(f.ProjectID, quotaFloatingIP, 1)
	}
}

func (c *cache) router(id string) (versioned[storedRouter], bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.l3.routers[id]
	return v, ok
}

func (c *cache) allRouters() []versioned[storedRouter] {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]versioned[storedRouter], 0, len(c.l3.routers))
	for _, v := range c.l3.routers {
		out = append(out, v)
	}
	return out
}

func (c *cache) floatingIP(id string) (versioned[storedFloatingIP], bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.l3.fips[id]
	return v, ok
}

func (c *cache) allFloatingIPs() []versioned[storedFloatingIP] {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]versioned[storedFloatingIP], 0, len(c.l3.fips))
	for _, v := range c.l3.fips {
		out = append(out, v)
	}
	return out
}

// l3Usage is a project's routers and floating IPs.
func (c *cache) l3Usage(project string) (routers, fips int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.counts[project+"/"+quotaRouter], c.counts[project+"/"+quotaFloatingIP]
}

// Routers and floating IPs are taggable (tag-ext, standard-attr-tag).
func init() {
	taggables["routers"] = taggable[storedRouter]{
		key: store.RouterKey,
		find: func(s *Service, who identity.Identity, id string, write bool) (versioned[storedRouter], error) {
			if write {
				return s.writableRouter(who, id, "update_router")
			}
			v, ok := s.cache.router(id)
			if !ok || !canSeeRouter(who, &v.obj.Router) {
				return v, routerNotFound(id)
			}
			return v, nil
		},
		std: func(r *storedRouter) (*[]string, *int64, *string) { return &r.Tags, &r.RevisionNumber, &r.UpdatedAt },
	}
	taggables["floatingips"] = taggable[storedFloatingIP]{
		key: store.FloatingIPKey,
		find: func(s *Service, who identity.Identity, id string, write bool) (versioned[storedFloatingIP], error) {
			if write {
				return s.writableFIP(who, id, "update_floatingip")
			}
			v, ok := s.cache.floatingIP(id)
			if !ok || !readsProject(who, v.obj.ProjectID) {
				return v, fipNotFound(id)
			}
			return v, nil
		},
		std: func(f *storedFloatingIP) (*[]string, *int64, *string) {
			return &f.Tags, &f.RevisionNumber, &f.UpdatedAt
		},
	}
}
