package agent

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/hoststate"
)

func TestComputePorts(t *testing.T) {
	p1 := vmPort("p1", "n1", "FA:16:3E:00:00:01", "10.1.0.5", "")
	p1.AllowedAddressPairs = []api.AddressPair{{IPAddress: "10.1.0.100"}, {IPAddress: "10.9.0.0/16", MACAddress: "fa:16:3e:00:00:99"}, {IPAddress: "bogus"}}
	p1.FixedIPs = append(p1.FixedIPs, api.FixedIP{IPAddress: "not-an-ip"})
	down := vlanNet("n2", "physnet1", 100)
	down.AdminStateUp = false
	snap := snapOf(
		[]api.Network{vxlanNet("n1", 111), down},
		[]api.Port{p1, vmPort("p2", "n2", "fa:16:3e:00:00:02", "10.2.0.5", "hostA"), vmPort("orphan", "gone", "fa:16:3e:00:00:03", "10.3.0.5", "")},
		nil, nil)
	ifaces := []hoststate.Interface{iface("p1"), iface("p2"), iface("unknown"), iface("orphan")}

	got := Compute(hostA, ifaces, snap)

	require.Equal(t, hoststate.State{
		Host: "hostA", LocalIP: hostA.LocalIP, TunnelTypes: []string{"vxlan"},
		BridgeMappings: map[string]string{"physnet1": "br-ex"},
		Networks: map[string]hoststate.Network{
			"n1": {ID: "n1", Type: "vxlan", SegmentationID: 111, MTU: 1450},
			"n2": {ID: "n2", Type: "vlan", PhysicalNetwork: "physnet1", SegmentationID: 100, MTU: 1500},
		},
		Ports: map[string]hoststate.Port{
			"p1": {ID: "p1", NetworkID: "n1", MAC: "fa:16:3e:00:00:01", IPs: []netip.Addr{netip.MustParseAddr("10.1.0.5")},
				PortSecurity: true, DeviceOwner: "compute:nova", AdminStateUp: true, Filtered: true,
				AllowedAddressPairs: []hoststate.AddressPair{
					{Prefix: netip.MustParsePrefix("10.1.0.100/32"), MAC: "fa:16:3e:00:00:01"},
					{Prefix: netip.MustParsePrefix("10.9.0.0/16"), MAC: "fa:16:3e:00:00:99"},
				}},
			// Admin-down network: the port is down too.
			"p2": {ID: "p2", NetworkID: "n2", MAC: "fa:16:3e:00:00:02", IPs: []netip.Addr{netip.MustParseAddr("10.2.0.5")},
				PortSecurity: true, DeviceOwner: "compute:nova", AdminStateUp: false, Filtered: true},
		},
	}, got)
}

func TestComputePeers(t *testing.T) {
	agents := []api.Agent{ovsAgent("hostA", "192.168.50.1"), ovsAgent("hostB", "192.168.50.2"),
		ovsAgent("hostC", "192.168.50.3"), ovsAgent("hostD", "192.168.50.4"), ovsAgent("hostE", "bad")}
	nets := []api.Network{vxlanNet("n1", 101), vxlanNet("n2", 102), vxlanNet("n3", 103), vlanNet("v1", "physnet1", 10)}
	tests := []struct {
		name     string
		ports    []api.Port
		statuses []api.PortStatus
		dead     []string
		ifaces   []string
		want     []hoststate.Peer
	}{
		{
			name:   "no other hosts",
			ports:  []api.Port{vmPort("a1", "n1", "m", "10.0.0.1", "")},
			ifaces: []string{"a1"},
		},
		{
			name: "ports on two hosts share a network",
			ports: []api.Port{vmPort("a1", "n1", "m", "10.0.0.1", ""), vmPort("b1", "n1", "m", "10.0.0.2", ""),
				vmPort("b2", "n1", "m", "10.0.0.3", "")},
			statuses: []api.PortStatus{active("b1", "hostB"), active("b2", "hostB")},
			ifaces:   []string{"a1"},
			want:     []hoststate.Peer{{Host: "hostB", IP: netip.MustParseAddr("192.168.50.2"), Networks: []string{"n1"}}},
		},
		{
			name: "only shared tunnel networks, binding host counts",
			ports: []api.Port{vmPort("a1", "n1", "m", "", ""), vmPort("a2", "n2", "m", "", ""), vmPort("a3", "v1", "m", "", ""),
				vmPort("b1", "n2", "m", "", "hostB"), vmPort("b2", "n1", "m", "", "hostB"), vmPort("b3", "n3", "m", "", "hostB"),
				vmPort("b4", "v1", "m", "", "hostB"), vmPort("c1", "n2", "m", "", "")},
			statuses: []api.PortStatus{active("c1", "hostC")},
			ifaces:   []string{"a1", "a2", "a3"},
			want: []hoststate.Peer{
				{Host: "hostB", IP: netip.MustParseAddr("192.168.50.2"), Networks: []string{"n1", "n2"}},
				{Host: "hostC", IP: netip.MustParseAddr("192.168.50.3"), Networks: []string{"n2"}},
			},
		},
		{
			// A dead agent's OVS may still forward: its tunnel stays.
			name:   "dead agents kept, unregistered hosts and unusable IPs excluded",
			ports:  []api.Port{vmPort("a1", "n1", "m", "", ""), vmPort("c1", "n1", "m", "", "hostC"), vmPort("d1", "n1", "m", "", "hostD"), vmPort("e1", "n1", "m", "", "hostE"), vmPort("x1", "n1", "m", "", "hostX")},
			dead:   []string{"hostC"},
			ifaces: []string{"a1"},
			want: []hoststate.Peer{
				{Host: "hostC", IP: netip.MustParseAddr("192.168.50.3"), Networks: []string{"n1"}},
				{Host: "hostD", IP: netip.MustParseAddr("192.168.50.4"), Networks: []string{"n1"}},
			},
		},
		{
			name:   "unknown iface ids ignored",
			ports:  []api.Port{vmPort("b1", "n1", "m", "", "hostB")},
			ifaces: []string{"nope"},
		},
		{
			name: "moved port: status from old host is superseded",
			ports: []api.Port{vmPort("a1", "n1", "m", "", ""), vmPort("m1", "n1", "m", "", "hostA"),
				vmPort("m2", "n1", "m", "", "hostB")},
			// m1 moved here (bound and plugged here) while hostB's old
			// record still says ACTIVE; m2 moved from hostB to hostC,
			// which reported it last.
			statuses: []api.PortStatus{active("m1", "hostB"), active("m2", "hostC")},
			ifaces:   []string{"a1", "m1"},
			want:     []hoststate.Peer{{Host: "hostC", IP: netip.MustParseAddr("192.168.50.3"), Networks: []string{"n1"}}},
		},
		{
			name:     "down status falls back to the binding",
			ports:    []api.Port{vmPort("a1", "n1", "m", "", ""), vmPort("b1", "n1", "m", "", "")},
			statuses: []api.PortStatus{{PortID: "b1", Host: "hostB", Status: api.StatusDown}},
			ifaces:   []string{"a1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ifaces []hoststate.Interface
			for _, id := range tc.ifaces {
				ifaces = append(ifaces, iface(id))
			}
			got := Compute(hostA, ifaces, snapOf(nets, tc.ports, tc.statuses, agents, tc.dead...))
			require.Equal(t, tc.want, withoutPorts(got.Peers))
			require.Len(t, got.Ports, countKnown(tc.ifaces, tc.ports))
		})
	}
}

// withoutPorts strips the peers' ports (l2population), checked apart.
func withoutPorts(ps []hoststate.Peer) []hoststate.Peer {
	var out []hoststate.Peer
	for _, p := range ps {
		p.Ports = nil
		out = append(out, p)
	}
	return out
}

func peerPortIDs(p hoststate.Peer) []string {
	var out []string
	for _, rp := range p.Ports {
		out = append(out, rp.ID)
	}
	return out
}

// A peer carries its ports on shared tunnel networks, with their addresses,
// sorted by id: l2population's unicast flows and ARP responder need them.
func TestComputePeerPorts(t *testing.T) {
	b1 := vmPort("b1", "n1", "FA:16:3E:00:00:B1", "10.0.0.2", "hostB")
	b1.AllowedAddressPairs = []api.AddressPair{{IPAddress: "10.0.0.100", MACAddress: "fa:16:3e:00:00:bb"}}
	snap := snapOf([]api.Network{vxlanNet("n1", 1), vxlanNet("n2", 2)},
		[]api.Port{vmPort("a1", "n1", "m", "", ""), vmPort("b2", "n1", "fa:16:3e:00:00:b2", "10.0.0.3", "hostB"), b1,
			vmPort("b3", "n2", "fa:16:3e:00:00:b3", "10.0.1.3", "hostB")},
		nil, []api.Agent{ovsAgent("hostB", "192.168.50.2")})
	got := Compute(hostA, []hoststate.Interface{iface("a1")}, snap)
	require.Len(t, got.Peers, 1)
	require.Equal(t, []string{"b1", "b2"}, peerPortIDs(got.Peers[0]), "only ports on this host's networks")
	p := got.Peers[0].Ports[0]
	require.Equal(t, "fa:16:3e:00:00:b1", p.MAC)
	require.Equal(t, []netip.Addr{netip.MustParseAddr("10.0.0.2")}, p.IPs)
	require.Equal(t, []hoststate.AddressPair{{Prefix: netip.MustParsePrefix("10.0.0.100/32"), MAC: "fa:16:3e:00:00:bb"}}, p.AllowedAddressPairs)
}

func countKnown(ifaces []string, ports []api.Port) int {
	n := 0
	for _, id := range ifaces {
		for _, p := range ports {
			if p.ID == id {
				n++
			}
		}
	}
	return n
}

// Compute must not depend on map iteration order or share memory with its
// input: the same input gives equal states, and changing the result does not
// change the config.
func TestComputeDeterministic(t *testing.T) {
	snap := snapOf([]api.Network{vxlanNet("n1", 1), vxlanNet("n2", 2)},
		[]api.Port{vmPort("a1", "n1", "m", "", ""), vmPort("a2", "n2", "m", "", ""),
			vmPort("b1", "n1", "m", "", "hostB"), vmPort("c1", "n2", "m", "", "hostC"), vmPort("c2", "n1", "m", "", "hostC")},
		nil, []api.Agent{ovsAgent("hostB", "192.168.50.2"), ovsAgent("hostC", "192.168.50.3")})
	ifaces := []hoststate.Interface{iface("a1"), iface("a2")}
	first := Compute(hostA, ifaces, snap)
	for range 20 {
		require.Equal(t, first, Compute(hostA, ifaces, snap))
	}
	first.BridgeMappings["x"] = "y"
	first.TunnelTypes[0] = "gre"
	require.Equal(t, map[string]string{"physnet1": "br-ex"}, hostA.BridgeMappings)
	require.Equal(t, []string{"vxlan"}, hostA.TunnelTypes)
}

// A VIF is wired only for a port bound to this host or not bound yet: an
// interface here whose port is bound to another host is left out (dead
// VLAN, no flows, no status), as Neutron refuses to wire it.
func TestComputeBindingHost(t *testing.T) {
	snap := snapOf([]api.Network{vxlanNet("n1", 111)},
		[]api.Port{vmPort("mine", "n1", "fa:16:3e:00:00:01", "10.1.0.5", "hostA"),
			vmPort("unbound", "n1", "fa:16:3e:00:00:02", "10.1.0.6", ""),
			vmPort("elsewhere", "n1", "fa:16:3e:00:00:03", "10.1.0.7", "hostB")},
		nil, []api.Agent{ovsAgent("hostB", "192.168.50.2")})
	got := Compute(hostA, []hoststate.Interface{iface("mine"), iface("unbound"), iface("elsewhere")}, snap)
	require.ElementsMatch(t, []string{"mine", "unbound"}, sortedKeys(got.Ports))
	// Its binding still places it on hostB, which becomes a tunnel peer.
	require.Equal(t, []hoststate.Peer{{Host: "hostB", IP: netip.MustParseAddr("192.168.50.2"), Networks: []string{"n1"}}}, withoutPorts(got.Peers))
	require.Equal(t, []string{"elsewhere"}, peerPortIDs(got.Peers[0]))

	// Once the port is bound here, it is wired here.
	p := *snap.Ports["elsewhere"] // a changed copy: ports are shared
	p.BindingHostID = "hostA"
	snap.Ports["elsewhere"] = &p
	got = Compute(hostA, []hoststate.Interface{iface("mine"), iface("unbound"), iface("elsewhere")}, snap)
	require.ElementsMatch(t, []string{"mine", "unbound", "elsewhere"}, sortedKeys(got.Ports))
	require.Empty(t, got.Peers)
}
