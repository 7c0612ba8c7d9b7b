package scheduler

import (
	"cmp"
	"slices"
	"time"
)

// planL3 keeps every router on one usable L3 host, as Neutron's legacy
// (non-HA) routers: a router whose host is gone, lost the l3 role or has
// been dead longer than the down time moves to the live, enabled L3 host
// with the fewest routers; with no such host it stays where it is (its
// host may come back). Bindings of deleted routers go. An admin's removal
// mark keeps the router off that host.
func (s *Scheduler) planL3(snap *snapshot, now time.Time) []action {
	var acts []action
	load := map[string]int{}
	for rid, hosts := range snap.l3Bindings {
		for h, removed := range hosts {
			if !snap.routers[rid] {
				acts = append(acts, action{kind: unbindL3, router: rid, host: h})
			} else if !removed {
				load[h]++
			}
		}
	}
	for _, rid := range sortedKeys(snap.routers) {
		bound := snap.l3Bindings[rid]
		var usable, stale []string
		for _, h := range sortedKeys(bound) {
			if bound[h] {
				continue
			}
			if s.usableL3(snap, h, now) {
				usable = append(usable, h)
				if since, dead := s.deadSince[h]; dead {
					if w := since.Add(s.cfg.AgentDownTime); s.wake.IsZero() || w.Before(s.wake) {
						s.wake = w
					}
				}
			} else {
				stale = append(stale, h)
			}
		}
		if len(usable) > 0 || len(stale) == 0 && len(bound) > 0 {
			continue // placed, or taken off its host by an admin: unscheduled until one adds it
		}
		var cands []string
		for name, h := range snap.hosts {
			if _, taken := bound[name]; !taken && h.l3 && h.alive && h.l3On {
				cands = append(cands, name)
			}
		}
		if len(cands) == 0 {
			continue // stale hosts keep it until one can take it
		}
		slices.SortFunc(cands, func(a, b string) int { return cmp.Or(cmp.Compare(load[a], load[b]), cmp.Compare(a, b)) })
		acts = append(acts, action{kind: bindL3, router: rid, host: cands[0]})
		load[cands[0]]++
		for _, h := range stale {
			acts = append(acts, action{kind: unbindL3, router: rid, host: h})
			load[h]--
		}
	}
	return acts
}

func (s *Scheduler) usableL3(snap *snapshot, name string, now time.Time) bool {
	h, ok := snap.hosts[name]
	if !ok || !h.l3 {
		return false
	}
	since, dead := s.deadSince[name]
	return !dead || now.Sub(since) < s.cfg.AgentDownTime
}
