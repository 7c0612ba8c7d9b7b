package service

import "github.com/vland/vland/internal/store"

// The cache's security groups: the groups by id and, for rule reads,
// the group of each rule.
type secGroupCache struct {
	groups map[string]versioned[storedSecGroup]
	rules  map[string]string // rule id -> group id
}

func newSecGroupCache() secGroupCache {
	return secGroupCache{groups: map[string]versioned[storedSecGroup]{}, rules: map[string]string{}}
}

// applySecGroup folds a group key event in. Caller holds c.mu.
func (c *cache) applySecGroup(id string, put bool, kv store.KV) {
	if old, ok := c.sg.groups[id]; ok {
		c.count(old.obj.ProjectID, quotaSecGroup, -1)
		c.count(old.obj.ProjectID, quotaSecGroupRule, -len(old.obj.SecurityGroupRules))
		for _, r := range old.obj.SecurityGroupRules {
			delete(c.sg.rules, r.ID)
		}
		delete(c.sg.groups, id)
	}
	var g storedSecGroup
	if !put || !decode(kv.Value, &g, c.log, kv.Key) {
		return
	}
	c.sg.groups[id] = versioned[storedSecGroup]{g, kv.ModRevision}
	c.count(g.ProjectID, quotaSecGroup, 1)
	c.count(g.ProjectID, quotaSecGroupRule, len(g.SecurityGroupRules))
	for _, r := range g.SecurityGroupRules {
		c.sg.rules[r.ID] = id
	}
}

func (c *cache) secGroup(id string) (versioned[storedSecGroup], bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.sg.groups[id]
	return v, ok
}

func (c *cache) allSecGroups() []versioned[storedSecGroup] {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]versioned[storedSecGroup], 0, len(c.sg.groups))
	for _, v := range c.sg.groups {
		out = append(out, v)
	}
	return out
}

// ruleGroup returns the group holding a rule.
func (c *cache) ruleGroup(ruleID string) (versioned[storedSecGroup], bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.sg.groups[c.sg.rules[ruleID]]
	return v, ok
}

// used is the number of a project's resources of one quota type.
func (c *cache) used(project, resource string) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.counts[project+"/"+resource]
}
