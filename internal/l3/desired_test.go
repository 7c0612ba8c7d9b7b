package l3

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/agent"
)

func ptr[T any](v T) *T { return &v }

// snap is one router with two interfaces and a gateway, bound to h1, a
// floating IP on one VM and port forwardings on another floating IP.
func snap() agent.Snapshot {
	gw := "203.0.113.1"
	ports := []api.Port{
		{ID: "qr1-port-aaaaaaa", NetworkID: "n1", MACAddress: "FA:16:3E:00:00:01", DeviceOwner: api.OwnerRouterInterface, DeviceID: "r1",
			FixedIPs: []api.FixedIP{{SubnetID: "s1", IPAddress: "10.0.1.1"}}},
		{ID: "qr2-port-bbbbbbb", NetworkID: "n2", MACAddress: "fa:16:3e:00:00:02", DeviceOwner: api.OwnerRouterInterface, DeviceID: "r1",
			FixedIPs: []api.FixedIP{{SubnetID: "s2", IPAddress: "10.0.2.1"}}},
		{ID: "qg-port-ccccccc", NetworkID: "ext", MACAddress: "fa:16:3e:00:00:03", DeviceOwner: api.OwnerRouterGateway, DeviceID: "r1",
			FixedIPs: []api.FixedIP{{SubnetID: "sx", IPAddress: "203.0.113.5"}}},
		{ID: "vm", NetworkID: "n1", DeviceOwner: "compute:nova", FixedIPs: []api.FixedIP{{SubnetID: "s1", IPAddress: "10.0.1.7"}}},
	}
	s := agent.Snapshot{
		Networks: map[string]api.Network{"n1": {ID: "n1", MTU: 1450}, "n2": {ID: "n2", MTU: 1450}, "ext": {ID: "ext", MTU: 1500}},
		Subnets: map[string]api.Subnet{"s1": {ID: "s1", CIDR: "10.0.1.0/24"}, "s2": {ID: "s2", CIDR: "10.0.2.0/24"},
			"sx": {ID: "sx", CIDR: "203.0.113.0/24", GatewayIP: &gw}},
		Ports: map[string]*api.Port{},
		Routers: map[string]api.Router{"r1": {ID: "r1", AdminStateUp: true,
			ExternalGatewayInfo: &api.ExternalGatewayInfo{NetworkID: "ext", EnableSNAT: true},
			Routes:              []api.Route{{Destination: "192.168.0.0/16", Nexthop: "10.0.2.254"}}},
			"r2": {ID: "r2", AdminStateUp: true}},
		FloatingIPs: map[string]api.FloatingIP{
			"f1": {ID: "f1", FloatingIPAddress: "203.0.113.10", RouterID: ptr("r1"), PortID: ptr("vm"), FixedIPAddress: ptr("10.0.1.7")},
			"f2": {ID: "f2", FloatingIPAddress: "203.0.113.11", RouterID: ptr("r1"), PortForwardings: []api.PortForwarding{
				{Protocol: "tcp", InternalIPAddress: "10.0.2.8", InternalPort: ptr(80), ExternalPort: ptr(8080)},
				{Protocol: "udp", InternalIPAddress: "10.0.2.8", InternalPortRange: "9000:9002", ExternalPortRange: "8000:8002"}}},
			"f3": {ID: "f3", FloatingIPAddress: "203.0.113.12"}, // unassociated
		},
		L3Bindings: map[string]map[string]bool{"r1": {"h1": false}, "r2": {"h1": true}},
	}
	for _, p := range ports {
		s.Ports[p.ID] = &p
	}
	return s
}

func TestCompute(t *testing.T) {
	s := snap()
	got := Compute("h1", s)
	require.Len(t, got, 1, "r2's binding is a removal mark")
	r := got["r1"]
	require.Len(t, r.Interfaces, 2)
	require.Equal(t, "fa:16:3e:00:00:01", r.Interfaces[0].MAC)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.1.1/24")}, r.Interfaces[0].Addrs)
	require.Equal(t, 1450, r.Interfaces[0].MTU)
	require.NotNil(t, r.Gateway)
	require.Equal(t, netip.MustParseAddr("203.0.113.1"), r.NextHop)
	require.Equal(t, "qg-qg-port-ccc", r.NAT.QG)
	require.Equal(t, netip.MustParseAddr("203.0.113.5"), r.NAT.GatewayIP)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.1.0/24"), netip.MustParsePrefix("10.0.2.0/24")}, r.NAT.Internal)
	require.Equal(t, []FIP{{netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("10.0.1.7")}}, r.NAT.FIPs)
	require.Len(t, r.NAT.Forwards, 2)
	require.Equal(t, []Route{{netip.MustParsePrefix("192.168.0.0/16"), netip.MustParseAddr("10.0.2.254")}}, r.Routes)
	require.Empty(t, Compute("h2", s), "not bound to h2")

	// SNAT off: no subnet SNAT, floating IPs stay.
	rt := s.Routers["r1"]
	rt.ExternalGatewayInfo = &api.ExternalGatewayInfo{NetworkID: "ext", EnableSNAT: false}
	s.Routers["r1"] = rt
	r = Compute("h1", s)["r1"]
	require.Empty(t, r.NAT.Internal)
	require.Len(t, r.NAT.FIPs, 1)
	// Router down: not realised.
	rt.AdminStateUp = false
	s.Routers["r1"] = rt
	require.Empty(t, Compute("h1", s))
}

func TestRuleset(t *testing.T) {
	r := Compute("h1", snap())["r1"]
	got := ruleset(r.NAT)
	for _, want := range []string{
		"table ip vland {}\ndelete table ip vland\n",
		`iifname "qr-*" ip daddr 169.254.169.254 tcp dport 80 redirect to :9697`,
		`tcp dport 9697 iifname != "qr-*" drop`,
		"ip daddr 203.0.113.10 dnat to 10.0.1.7",
		"ip daddr 203.0.113.11 tcp dport 8080 dnat to 10.0.2.8:80",
		"ip daddr 203.0.113.11 udp dport 8000-8002 dnat to 10.0.2.8 : udp dport map { 8000 : 9000, 8001 : 9001, 8002 : 9002 }",
		`oifname "qg-qg-port-ccc" ip saddr 10.0.1.7 snat to 203.0.113.10`,
		`oifname "qg-qg-port-ccc" ip saddr { 10.0.1.0/24, 10.0.2.0/24 } snat to 203.0.113.5`,
	} {
		require.Contains(t, got, want)
	}
	// The floating IP's SNAT comes before the subnet's.
	require.Less(t, indexOf(got, "snat to 203.0.113.10"), indexOf(got, "snat to 203.0.113.5"))
	// A range mapped to a range of another length is dropped.
	_, ok := toForward(netip.MustParseAddr("203.0.113.11"), api.PortForwarding{Protocol: "tcp", InternalIPAddress: "10.0.2.8",
		InternalPortRange: "9000:9005", ExternalPortRange: "8000:8002"})
	require.False(t, ok)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestChangedFloating(t *testing.T) {
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	old := NAT{FIPs: []FIP{{a("203.0.113.10"), a("10.0.0.5")}, {a("203.0.113.11"), a("10.0.0.6")}},
		Forwards: []Forward{{Protocol: "tcp", Floating: a("203.0.113.12"), ExtLo: 80, ExtHi: 80, Internal: a("10.0.0.7"), IntLo: 80, IntHi: 80}}}
	cur := NAT{FIPs: []FIP{{a("203.0.113.10"), a("10.0.0.5")}, {a("203.0.113.11"), a("10.0.0.9")}, {a("203.0.113.13"), a("10.0.0.8")}}}
	require.Equal(t, []netip.Addr{a("203.0.113.11"), a("203.0.113.12"), a("203.0.113.13")}, changedFloating(old, cur),
		"moved, forwarding gone, new; the unchanged one stays")
	require.Empty(t, changedFloating(old, old))
}
