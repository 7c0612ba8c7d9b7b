package agent

import "github.com/vland/vland/api"

// Snapshot is the part of the store the agent computes its host's state
// from, decoded. The zero value is an empty store. Compute only reads it.
type Snapshot struct {
	Networks   map[string]api.Network    // by network id
	Ports      map[string]api.Port       // by port id
	PortStatus map[string]api.PortStatus // by port id
	Agents     map[string]api.Agent      // by host
	// Alive holds the hosts whose heartbeat key exists. It only decides
	// whether a port's status may be taken over from another host; tunnels
	// do not depend on it (see peers).
	Alive map[string]bool
	// SecurityGroups by id.
	SecurityGroups map[string]api.SecurityGroup
}

// portHost says which host a port is plugged into, as far as the store
// knows: the host that last reported it ACTIVE (that agent sees its VIF),
// else the host it is bound to (binding:host_id), else "".
func (s Snapshot) portHost(p api.Port) string {
	if st, ok := s.PortStatus[p.ID]; ok && st.Host != "" && st.Status == api.StatusActive {
		return st.Host
	}
	return p.BindingHostID
}
