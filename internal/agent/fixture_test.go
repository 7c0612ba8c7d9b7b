package agent

import (
	"net/netip"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/hoststate"
)

// Small builders for store objects, shared by the tests of this package.

func vxlanNet(id string, vni int) api.Network {
	return api.Network{ID: id, AdminStateUp: true, NetworkType: api.NetworkTypeVXLAN, SegmentationID: &vni, MTU: 1450}
}

func vlanNet(id, physnet string, vlan int) api.Network {
	return api.Network{ID: id, AdminStateUp: true, NetworkType: api.NetworkTypeVLAN,
		PhysicalNetwork: &physnet, SegmentationID: &vlan, MTU: 1500}
}

func vmPort(id, netID, mac, ip, bindingHost string) api.Port {
	return api.Port{
		ID: id, NetworkID: netID, MACAddress: mac, AdminStateUp: true, PortSecurityEnabled: true,
		FixedIPs:      []api.FixedIP{{SubnetID: "sub-" + netID, IPAddress: ip}},
		DeviceOwner:   "compute:nova",
		BindingHostID: bindingHost,
	}
}

func ovsAgent(host, ip string) api.Agent {
	return api.Agent{ID: "id-" + host, Host: host, AgentType: api.AgentTypeOVS,
		Configurations: api.AgentConfig{LocalIP: ip, TunnelTypes: []string{"vxlan"}}}
}

func iface(portID string) hoststate.Interface {
	return hoststate.Interface{Name: "tap" + portID, IfaceID: portID, OFPort: 1}
}

func active(portID, host string) api.PortStatus {
	return api.PortStatus{PortID: portID, Host: host, Status: api.StatusActive}
}

// snapOf builds a Snapshot from lists; every listed agent is alive unless
// named in dead.
func snapOf(nets []api.Network, ports []api.Port, statuses []api.PortStatus, agents []api.Agent, dead ...string) Snapshot {
	s := Snapshot{
		Networks: map[string]api.Network{}, Ports: map[string]*api.Port{},
		PortStatus: map[string]map[string]api.PortStatus{}, Agents: map[string]api.Agent{}, Alive: map[string]bool{},
	}
	for _, n := range nets {
		s.Networks[n.ID] = n
	}
	for _, p := range ports {
		s.Ports[p.ID] = &p
	}
	for _, st := range statuses {
		if s.PortStatus[st.PortID] == nil {
			s.PortStatus[st.PortID] = map[string]api.PortStatus{}
		}
		s.PortStatus[st.PortID][st.Host] = st
	}
	for _, a := range agents {
		s.Agents[a.Host] = a
		s.Alive[a.Host] = true
	}
	for _, h := range dead {
		delete(s.Alive, h)
	}
	return s
}

var hostA = HostConfig{
	Host: "hostA", LocalIP: netip.MustParseAddr("192.168.50.1"),
	TunnelTypes: []string{"vxlan"}, BridgeMappings: map[string]string{"physnet1": "br-ex"},
}
