package agent

import "github.com/vland/vland/api"

// Snapshot is the part of the store the agent computes its host's state
// from, decoded. The zero value is an empty store. Compute only reads it.
type Snapshot struct {
	Networks map[string]api.Network // by network id
	Subnets  map[string]api.Subnet  // by subnet id
	Ports    map[string]*api.Port   // by port id; shared, never written: the cache replaces a changed port
	// PortStatus holds the status records by port id, then by the host
	// that wrote it (each host writes its own; a port has several while
	// it moves).
	PortStatus map[string]map[string]api.PortStatus
	Agents     map[string]api.Agent // by host
	// Alive holds the hosts whose heartbeat key exists. It only decides
	// which host's ACTIVE report wins when several hosts report a port
	// (portHost); tunnels do not depend on it (see peers).
	Alive map[string]bool
	// SecurityGroups by id.
	SecurityGroups map[string]api.SecurityGroup

	// Routers and FloatingIPs by id, and L3Bindings (router id -> host ->
	// removed by an admin): read only by agents with the l3 role.
	Routers     map[string]api.Router
	FloatingIPs map[string]api.FloatingIP
	L3Bindings  map[string]map[string]bool
}

// portHost says which host a port is plugged into, as far as the store
// knows: a host that reports it ACTIVE (that agent sees its VIF), preferring
// a live one, then the bound host, then the first by name; else the host it
// is bound to (binding:host_id), else "".
func (s Snapshot) portHost(p api.Port) string {
	best, bestRank := "", -1
	for host, st := range s.PortStatus[p.ID] {
		if st.Status != api.StatusActive {
			continue
		}
		rank := 0
		if s.Alive[host] {
			rank += 2
		}
		if host == p.BindingHostID {
			rank++
		}
		if rank > bestRank || rank == bestRank && host < best {
			best, bestRank = host, rank
		}
	}
	if best != "" {
		return best
	}
	return p.BindingHostID
}
