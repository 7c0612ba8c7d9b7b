package service

import "github.com/vland/vland/api"

// Read accessors of the cache. They return copies of the maps' values;
// slices inside are shared and must be treated as read-only.

func (c *cache) network(id string) (versioned[storedNetwork], bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.networks[id]
	return v, ok
}

func (c *cache) allNetworks() []versioned[storedNetwork] {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]versioned[storedNetwork], 0, len(c.networks))
	for _, v := range c.networks {
		out = append(out, v)
	}
	return out
}

func (c *cache) subnet(id string) (versioned[storedSubnet], bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.subnets[id]
	return v, ok
}

func (c *cache) allSubnets() []versioned[storedSubnet] {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]versioned[storedSubnet], 0, len(c.subnets))
	for _, v := range c.subnets {
		out = append(out, v)
	}
	return out
}

// port returns a visible port: one of a bulk create still in progress is
// not (yet) there.
func (c *cache) port(id string) (versioned[storedPort], bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.ports[id]
	return v, ok && !c.pending(&v.obj)
}

// anyPort returns a port, also one of a bulk create in progress.
func (c *cache) anyPort(id string) (versioned[storedPort], bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.ports[id]
	return v, ok
}

// pending reports whether p belongs to a bulk create in progress. Caller
// holds mu.
func (c *cache) pending(p *storedPort) bool {
	_, ok := c.bulks[p.Bulk]
	return p.Bulk != "" && ok
}

func (c *cache) allPorts() []versioned[storedPort] {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]versioned[storedPort], 0, len(c.ports))
	for _, v := range c.ports {
		if !c.pending(&v.obj) {
			out = append(out, v)
		}
	}
	return out
}

// bulkPorts returns the ports of a bulk create (visible or not).
func (c *cache) bulkPorts(bulk string) []versioned[storedPort] {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []versioned[storedPort]
	for _, v := range c.ports {
		if v.obj.Bulk == bulk {
			out = append(out, v)
		}
	}
	return out
}

// networkPorts returns the ports on a network, pending ones included.
func (c *cache) networkPorts(netID string) []versioned[storedPort] {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]versioned[storedPort], 0, len(c.netPorts[netID]))
	for id := range c.netPorts[netID] {
		out = append(out, c.ports[id])
	}
	return out
}

func (c *cache) hasSegment(key string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.segments[key]
	return ok
}

func (c *cache) hasMAC(netID, mac string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.macs[netID+"/"+mac]
	return ok
}

func (c *cache) quota(project string) (versioned[api.Quota], bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.quotas[project]
	return v, ok
}

func (c *cache) allQuotas() map[string]api.Quota {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]api.Quota, len(c.quotas))
	for id, v := range c.quotas {
		out[id] = v.obj
	}
	return out
}

// portStatus returns the status record that speaks for a port: that of
// the host it is bound to; for an unbound port, an ACTIVE record (a live
// host's first), else any, the first host by name on a tie.
func (c *cache) portStatus(id, boundHost string) (api.PortStatus, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	byHost := c.status[id]
	if boundHost != "" {
		st, ok := byHost[boundHost]
		return st, ok
	}
	var best api.PortStatus
	bestRank := -1
	for host, st := range byHost {
		rank := 0
		if st.Status == api.StatusActive {
			rank += 2
		}
		if _, alive := c.alive[host]; alive {
			rank++
		}
		if rank > bestRank || (rank == bestRank && host < best.Host) {
			best, bestRank = st, rank
		}
	}
	return best, bestRank >= 0
}

// statusHosts names the hosts with a status record of a port.
func (c *cache) statusHosts(id string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	hosts := make([]string, 0, len(c.status[id]))
	for h := range c.status[id] {
		hosts = append(hosts, h)
	}
	return hosts
}

// agentList returns every agent record with its liveness, the time of its
// last heartbeat and its device count: its heartbeat key's, or the
// record's own if later
// (written at registration, or by an agent that keeps no heartbeat key;
// both use one layout, which sorts as text).
func (c *cache) agentList() []api.Agent {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]api.Agent, 0, len(c.agents))
	for host, a := range c.agents {
		_, a.Alive = c.alive[host]
		if hb, ok := c.beats[host]; ok && hb.Timestamp > a.HeartbeatTimestamp {
			a.HeartbeatTimestamp = hb.Timestamp
			a.Configurations.Devices = hb.Devices
		}
		out = append(out, a)
	}
	return out
}

// datapath is the OVS datapath type the host's agent reported ("" if
// unknown).
func (c *cache) datapath(host string) string {
	if host == "" {
		return ""
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.agents[host].Configurations.DatapathType
}
