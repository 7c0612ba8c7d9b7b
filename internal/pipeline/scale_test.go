package pipeline

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vland/vland/internal/hoststate"
)

// thousandPorts is one host of BenchmarkThousandPorts (test/bench): 1,000
// ports with port security in the default group (ingress from the group,
// IPv4 and IPv6; egress anywhere), on 10 VXLAN networks over 3 hosts; this
// host has every third port, the two peers the rest.
func thousandPorts() (hoststate.State, PortMap) {
	s := hoststate.State{Host: "host1", LocalIP: netip.MustParseAddr("10.0.0.1"), TunnelTypes: []string{"vxlan"},
		Networks: map[string]hoststate.Network{}, Ports: map[string]hoststate.Port{},
		SecurityGroups: map[string]hoststate.SecurityGroup{"default": {ID: "default", Rules: []hoststate.Rule{
			{Ingress: true, Protocol: -1, PortMin: -1, PortMax: -1, RemoteGroup: "default"},
			{Ingress: true, IPv6: true, Protocol: -1, PortMin: -1, PortMax: -1, RemoteGroup: "default"},
			{Protocol: -1, PortMin: -1, PortMax: -1},
			{IPv6: true, Protocol: -1, PortMin: -1, PortMax: -1},
		}}},
		GroupMembers: map[string][]netip.Prefix{},
	}
	pm := PortMap{Ports: map[string]int{}, LocalVLANs: map[string]int{}, PatchTun: 1, PatchInt: 1,
		Tunnels: map[string]int{"vxlan-flow": 2}}
	s.TunnelPorts = hoststate.TunnelPortsFlow
	peers := []hoststate.Peer{{Host: "host2", IP: netip.MustParseAddr("10.0.0.2")}, {Host: "host3", IP: netip.MustParseAddr("10.0.0.3")}}
	for n := 0; n < 10; n++ {
		id := fmt.Sprintf("net%d", n)
		s.Networks[id] = hoststate.Network{ID: id, Type: "vxlan", SegmentationID: 100 + n, MTU: 1450}
		pm.LocalVLANs[id] = n + 1
		for i := range peers {
			peers[i].Networks = append(peers[i].Networks, id)
		}
	}
	for i := 0; i < 1000; i++ {
		ip := netip.AddrFrom4([4]byte{10, byte(i % 10), byte(i / 250), byte(i%250 + 2)})
		p := hoststate.Port{ID: fmt.Sprintf("p%04d", i), NetworkID: fmt.Sprintf("net%d", i%10),
			MAC: fmt.Sprintf("fa:16:3e:00:%02x:%02x", i/256, i%256), IPs: []netip.Addr{ip},
			PortSecurity: true, AdminStateUp: true, DeviceOwner: "compute:nova", Filtered: true, SecurityGroups: []string{"default"}}
		s.GroupMembers["default"] = append(s.GroupMembers["default"], netip.PrefixFrom(ip, 32))
		if i%3 == 0 {
			s.Ports[p.ID] = p
			pm.Ports[p.ID] = 10 + i
			continue
		}
		peers[i%3-1].Ports = append(peers[i%3-1].Ports, p)
	}
	s.Peers = peers
	return s, pm
}

// TestThousandPortsFlows is the flow count of a BenchmarkThousandPorts
// host (334 local ports, 666 remote): br-int grows by a few flows per local
// port plus one per member of the default group, br-tun by 2 per remote
// port (l2population and ARP responder).
func TestThousandPortsFlows(t *testing.T) {
	s, pm := thousandPorts()
	f := Build(s, pm)
	local := len(s.Ports)
	t.Logf("FIGURE: %d local ports: br-int %d (%.1f per local port), br-tun %d, total %d",
		local, len(f.Int), float64(len(f.Int))/float64(local), len(f.Tun), len(f.Int)+len(f.Tun))
	perPort := map[string]int{}
	for _, fl := range f.Int {
		if fl.Owner == OwnerPort || (fl.Owner == OwnerFirewall && fl.Table == IntTransient.ID) {
			perPort[fmt.Sprintf("%d", fl.Table)]++
		}
	}
	t.Logf("FIGURE: per-port br-int flows by table: %v", perPort)
	// Each port: table 0 (its MAC), 24 (ARP sender), 25 (IPv4 source), 60
	// (delivery, from local ports and from the tunnel patch alike).
	assert.Equal(t, map[string]int{"0": local, "24": local, "25": local, "60": local}, perPort)
	assert.Less(t, len(f.Int)+len(f.Tun), 5000, "issue 11: under 5,000 flows per host")
}
