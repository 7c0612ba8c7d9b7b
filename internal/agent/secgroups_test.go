package agent

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/hoststate"
)

// TestComputeSecurityGroups: a local port's groups become rules, and a
// remote group's members on any host become addresses; a port without
// port security is not filtered.
func TestComputeSecurityGroups(t *testing.T) {
	local := vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.1.0.5", "")
	local.SecurityGroups = []string{"web"}
	far := vmPort("p2", "n1", "fa:16:3e:00:00:02", "10.1.0.6", "hostB")
	far.SecurityGroups = []string{"clients"}
	far.AllowedAddressPairs = []api.AddressPair{{IPAddress: "10.9.0.0/24"}}
	open := vmPort("p3", "n1", "fa:16:3e:00:00:03", "10.1.0.7", "")
	open.SecurityGroups, open.PortSecurityEnabled = []string{"web"}, false
	snap := snapOf([]api.Network{vxlanNet("n1", 111)}, []api.Port{local, far, open}, nil, nil)
	p80, tcp, prefix, clients := 80, "tcp", "10.0.0.0/8", "clients"
	snap.SecurityGroups = map[string]api.SecurityGroup{
		"web": {ID: "web", Stateful: true, SecurityGroupRules: []api.SecurityGroupRule{
			{Direction: "ingress", Ethertype: "IPv4", Protocol: &tcp, PortRangeMin: &p80, PortRangeMax: &p80, RemoteIPPrefix: &prefix},
			{Direction: "ingress", Ethertype: "IPv4", RemoteGroupID: &clients},
			{Direction: "egress", Ethertype: "IPv6"},
		}},
		"clients": {ID: "clients"},
	}
	got := Compute(hostA, []hoststate.Interface{iface("p1"), iface("p3")}, snap)
	require.Equal(t, []string{"web"}, got.Ports["p1"].SecurityGroups)
	require.True(t, got.Ports["p1"].Filtered)
	require.False(t, got.Ports["p3"].Filtered)
	require.Empty(t, got.Ports["p3"].SecurityGroups, "no port security: not filtered")
	require.Equal(t, map[string]hoststate.SecurityGroup{"web": {ID: "web", Rules: []hoststate.Rule{
		{Ingress: true, Protocol: 6, PortMin: 80, PortMax: 80, RemotePrefix: netip.MustParsePrefix("10.0.0.0/8")},
		{Ingress: true, Protocol: -1, PortMin: -1, PortMax: -1, RemoteGroup: "clients"},
		{IPv6: true, Protocol: -1, PortMin: -1, PortMax: -1},
	}}}, got.SecurityGroups)
	require.Equal(t, map[string][]netip.Prefix{"clients": {netip.MustParsePrefix("10.1.0.6/32"), netip.MustParsePrefix("10.9.0.0/24")}},
		got.GroupMembers)
}
