package service

import (
	"strconv"
	"strings"

	"github.com/vland/vland/internal/store"
)

// The cache's quota state: resources per project and resource type (for
// usage and the over-quota pre-check) and the slots in use, each set with
// a scan hint like ipam.Used, so that a create costs O(1), not O(use).

// slotSet is the quota slots of one project's resource type in use. Every
// slot below hint is in use or held by an in-flight request.
type slotSet struct {
	used map[int]struct{}
	hint int
}

// slotOf splits a slot key into its set ("<project>/<resource>") and n.
func slotOf(key string) (string, int, bool) {
	rest := strings.TrimPrefix(key, store.QuotaSlotsPrefix)
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(rest[i+1:])
	return rest[:i], n, err == nil
}

// applySlot records a slot key event. Caller holds c.mu.
func (c *cache) applySlot(key string, put bool) {
	set, n, ok := slotOf(key)
	if !ok {
		return
	}
	s := c.slots[set]
	if s == nil {
		s = &slotSet{used: map[int]struct{}{}}
		c.slots[set] = s
	}
	if put {
		s.used[n] = struct{}{}
		return
	}
	delete(s.used, n)
	s.hint = min(s.hint, n)
}

// releaseSlot lowers a set's hint below a slot given up uncommitted.
// Caller holds c.mu.
func (c *cache) releaseSlot(key string) {
	if set, n, ok := slotOf(key); ok && c.slots[set] != nil {
		c.slots[set].hint = min(c.slots[set].hint, n)
	}
}

// freeSlot returns the lowest slot of a project's resource type below
// limit (-1: no limit) that is not in use and that take accepts (take
// reserves it for the caller, and refuses one another request holds).
func (c *cache) freeSlot(project, resource string, limit int, take func(n int) bool) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := project + "/" + resource
	s := c.slots[set]
	if s == nil {
		s = &slotSet{used: map[int]struct{}{}}
		c.slots[set] = s
	}
	for n := s.hint; limit < 0 || n < limit; n++ {
		s.hint = n + 1
		if _, used := s.used[n]; !used && take(n) {
			return n, true
		}
	}
	return 0, false
}

// count adjusts the number of a project's resources. Caller holds c.mu.
func (c *cache) count(project, resource string, delta int) {
	k := project + "/" + resource
	if c.counts[k] += delta; c.counts[k] <= 0 {
		delete(c.counts, k)
	}
}

// usage is the number of a project's networks, subnets and ports
// (pending ones of a bulk create included: they hold their quota slots).
func (c *cache) usage(project string) (networks, subnets, ports int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.counts[project+"/"+quotaNetwork], c.counts[project+"/"+quotaSubnet], c.counts[project+"/"+quotaPort]
}
