package scheduler

import (
	"cmp"
	"slices"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/service"
)

// actionKind is one write the scheduler makes.
type actionKind int

const (
	unbind     actionKind = iota // forget a binding (and its DHCP port)
	bind                         // place a network on a host
	createPort                   // create host's DHCP port on a network
	updatePort                   // give a DHCP port addresses on exactly the DHCP subnets
	deletePort                   // delete a DHCP port nobody wants
	unbindL3                     // forget a router's binding
	bindL3                       // place a router on an L3 host
)

type action struct {
	kind    actionKind
	network string
	router  string
	host    string
	port    string
	subnets []string
}

// plan decides the writes that bring the store to the desired placement.
// It is pure except for deadSince, the time each dead host was first seen
// dead by this leader: a host's networks move only once that is older
// than the down time.
func (s *Scheduler) plan(snap *snapshot, now time.Time) []action {
	s.wake = time.Time{}
	for name, h := range snap.hosts {
		if h.alive || !h.dhcp && !h.l3 {
			delete(s.deadSince, name)
		} else if _, ok := s.deadSince[name]; !ok {
			s.deadSince[name] = now
		}
	}
	for name := range s.deadSince {
		if _, ok := snap.hosts[name]; !ok {
			delete(s.deadSince, name)
		}
	}
	var acts []action
	load := map[string]int{}
	for netID, hosts := range snap.bindings {
		if _, ok := snap.networks[netID]; !ok {
			for h := range hosts {
				acts = append(acts, action{kind: unbind, network: netID, host: h})
			}
			delete(snap.bindings, netID)
			continue
		}
		for h, removed := range hosts {
			if !removed {
				load[h]++
			}
		}
	}
	for _, id := range sortedKeys(snap.networks) {
		if n := snap.networks[id]; len(n.dhcpSubnets) > 0 {
			acts = append(acts, s.place(snap, id, load, now)...)
		}
	}
	return append(acts, s.ports(snap)...)
}

// place keeps dhcp_agents_per_network usable hosts on one network. A host
// is usable unless it lost the DHCP role or has been dead longer than the
// down time; an unusable host keeps the network while no other host can
// take it (it may come back).
func (s *Scheduler) place(snap *snapshot, netID string, load map[string]int, now time.Time) []action {
	bound := snap.bindings[netID]
	var usable, stale []string
	for _, h := range sortedKeys(bound) {
		if bound[h] {
			continue
		}
		if s.usable(snap, h, now) {
			usable = append(usable, h)
			if since, dead := s.deadSince[h]; dead {
				if w := since.Add(s.cfg.AgentDownTime); s.wake.IsZero() || w.Before(s.wake) {
					s.wake = w // its down time runs: pass again when it is over
				}
			}
		} else {
			stale = append(stale, h)
		}
	}
	var cands []string
	for name, h := range snap.hosts {
		if _, taken := bound[name]; !taken && h.dhcp && h.alive && h.enabled {
			cands = append(cands, name)
		}
	}
	slices.SortFunc(cands, func(a, b string) int { return cmp.Or(cmp.Compare(load[a], load[b]), cmp.Compare(a, b)) })
	want := s.cfg.AgentsPerNetwork
	picks := cands[:max(0, min(want-len(usable), len(cands)))]
	var acts []action
	if bound == nil {
		bound = map[string]bool{}
		snap.bindings[netID] = bound
	}
	for _, h := range picks {
		acts = append(acts, action{kind: bind, network: netID, host: h})
		bound[h] = false
		load[h]++
	}
	keepStale := max(0, min(len(stale), want-len(usable)-len(picks)))
	for _, h := range stale[keepStale:] {
		acts = append(acts, action{kind: unbind, network: netID, host: h})
		delete(bound, h)
		load[h]--
	}
	return acts
}

func (s *Scheduler) usable(snap *snapshot, name string, now time.Time) bool {
	h, ok := snap.hosts[name]
	if !ok || !h.dhcp {
		return false
	}
	since, dead := s.deadSince[name]
	return !dead || now.Sub(since) < s.cfg.AgentDownTime
}

// ports lines the DHCP ports up with the bindings: one port per bound
// host on each network with DHCP subnets, with one address per DHCP
// subnet; any other scheduler DHCP port goes.
func (s *Scheduler) ports(snap *snapshot) []action {
	have := map[string][]api.Port{} // device id -> ports
	for _, p := range snap.ports {
		have[p.DeviceID] = append(have[p.DeviceID], p)
	}
	var acts []action
	for _, netID := range sortedKeys(snap.bindings) {
		n, ok := snap.networks[netID]
		if !ok || len(n.dhcpSubnets) == 0 {
			continue
		}
		for _, h := range sortedKeys(snap.bindings[netID]) {
			if snap.bindings[netID][h] {
				continue
			}
			dev := service.DHCPDeviceID(h, netID)
			ps := have[dev]
			delete(have, dev)
			if len(ps) == 0 {
				acts = append(acts, action{kind: createPort, network: netID, host: h, subnets: n.dhcpSubnets})
				continue
			}
			if !slices.Equal(portSubnets(&ps[0]), n.dhcpSubnets) {
				acts = append(acts, action{kind: updatePort, network: netID, host: h, port: ps[0].ID, subnets: n.dhcpSubnets})
			}
			for _, extra := range ps[1:] {
				acts = append(acts, action{kind: deletePort, network: netID, port: extra.ID})
			}
		}
	}
	for _, dev := range sortedKeys(have) {
		for _, p := range have[dev] {
			acts = append(acts, action{kind: deletePort, network: p.NetworkID, port: p.ID})
		}
	}
	return acts
}

// portSubnets are the sorted subnets a port has addresses on.
func portSubnets(p *api.Port) []string {
	var out []string
	for _, f := range p.FixedIPs {
		if !slices.Contains(out, f.SubnetID) {
			out = append(out, f.SubnetID)
		}
	}
	slices.Sort(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
