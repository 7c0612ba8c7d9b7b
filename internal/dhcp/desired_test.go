package dhcp

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/agent"
)

func ptr[T any](v T) *T { return &v }

// snapshot: network n1 (two subnets, one without DHCP) with a DHCP port on
// host1, a VM port and a port with dns_name and extra options; network n2
// whose only subnet has DHCP off, with a DHCP port on host1; network n3
// served by host2.
func snapshot() agent.Snapshot {
	return agent.Snapshot{
		Networks: map[string]api.Network{
			"n1": {ID: "n1", MTU: 1450, DNSDomain: "corp.example."},
			"n2": {ID: "n2", MTU: 1450},
			"n3": {ID: "n3", MTU: 1500},
		},
		Subnets: map[string]api.Subnet{
			"s1": {ID: "s1", NetworkID: "n1", IPVersion: 4, CIDR: "10.1.0.0/24", EnableDHCP: true, GatewayIP: ptr("10.1.0.1"),
				DNSNameservers: []string{"192.0.2.53"},
				HostRoutes:     []api.HostRoute{{Destination: "172.16.0.0/12", NextHop: "10.1.0.254"}}},
			"s1off": {ID: "s1off", NetworkID: "n1", IPVersion: 4, CIDR: "10.2.0.0/24", EnableDHCP: false},
			"s2":    {ID: "s2", NetworkID: "n2", IPVersion: 4, CIDR: "10.3.0.0/24", EnableDHCP: false},
			"s3":    {ID: "s3", NetworkID: "n3", IPVersion: 4, CIDR: "10.4.0.0/24", EnableDHCP: true},
		},
		Ports: map[string]*api.Port{
			"d1": {ID: "d1", NetworkID: "n1", MACAddress: "FA:16:3E:00:00:02", DeviceOwner: DeviceOwner, BindingHostID: "host1",
				FixedIPs: []api.FixedIP{{SubnetID: "s1", IPAddress: "10.1.0.2"}, {SubnetID: "s1off", IPAddress: "10.2.0.2"}}},
			"vm": {ID: "vm", NetworkID: "n1", MACAddress: "fa:16:3e:00:00:0b", DeviceOwner: "compute:nova",
				FixedIPs: []api.FixedIP{{SubnetID: "s1", IPAddress: "10.1.0.11"}, {SubnetID: "s1off", IPAddress: "10.2.0.11"}}},
			"web": {ID: "web", NetworkID: "n1", MACAddress: "fa:16:3e:00:00:0c", DNSName: "Web1",
				FixedIPs: []api.FixedIP{{SubnetID: "s1", IPAddress: "10.1.0.9"}},
				ExtraDHCPOpts: []map[string]any{{"opt_name": "bootfile-name", "opt_value": "pxe.0"},
					{"opt_name": "66", "opt_value": "10.1.0.5", "ip_version": 4},
					{"opt_name": "bootfile-name", "opt_value": "v6", "ip_version": 6}}},
			"d2": {ID: "d2", NetworkID: "n2", MACAddress: "fa:16:3e:00:00:22", DeviceOwner: DeviceOwner, BindingHostID: "host1",
				FixedIPs: []api.FixedIP{{SubnetID: "s2", IPAddress: "10.3.0.2"}}},
			"d3": {ID: "d3", NetworkID: "n3", MACAddress: "fa:16:3e:00:00:33", DeviceOwner: DeviceOwner, BindingHostID: "host2",
				FixedIPs: []api.FixedIP{{SubnetID: "s3", IPAddress: "10.4.0.2"}}},
		},
	}
}

func TestComputeServesNetworksWithADHCPPortHere(t *testing.T) {
	got := Compute("host1", snapshot())
	// n2 has DHCP off on every subnet: no namespace; n3 is host2's.
	require.Equal(t, []string{"n1"}, keys(got))
	n := got["n1"]
	require.Equal(t, "corp.example", n.Domain)
	require.Equal(t, 1450, n.MTU)
	require.Equal(t, Port{ID: "d1", MAC: "fa:16:3e:00:00:02", Addrs: []netip.Prefix{netip.MustParsePrefix("10.1.0.2/24")}}, n.Port,
		"only addresses on DHCP-enabled subnets")
	require.Len(t, n.Subnets, 1)
	s := n.Subnets[0]
	require.Equal(t, "10.1.0.1", s.Gateway.String())
	require.Equal(t, "10.1.0.2", s.DNS.String())
	require.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.53")}, s.Upstream)
	var names []string
	for _, h := range n.Hosts {
		names = append(names, h.IP.String()+"="+h.Name)
	}
	require.Equal(t, []string{"10.1.0.2=host-10-1-0-2", "10.1.0.9=web1", "10.1.0.11=host-10-1-0-11"}, names)
	require.Equal(t, []Opt{{"bootfile-name", "pxe.0"}, {"66", "10.1.0.5"}}, n.Hosts[1].Opts, "IPv4 options only")

	require.Equal(t, []string{"n3"}, keys(Compute("host2", snapshot())))
	require.Empty(t, Compute("host3", snapshot()))
}

func TestComputeDefaultDomainAndNoGateway(t *testing.T) {
	snap := snapshot()
	net := snap.Networks["n1"]
	net.DNSDomain = ""
	snap.Networks["n1"] = net
	sub := snap.Subnets["s1"]
	sub.GatewayIP = nil
	snap.Subnets["s1"] = sub
	n := Compute("host1", snap)["n1"]
	require.Equal(t, DefaultDomain, n.Domain)
	require.False(t, n.Subnets[0].Gateway.IsValid())
	require.Contains(t, string(optsContent(n)), "tag:subnet-s1,option:router\n", "no router when gateway_ip is null")
}

func TestFiles(t *testing.T) {
	n := Compute("host1", snapshot())["n1"]
	require.Equal(t, "fa:16:3e:00:00:02,10.1.0.2,host-10-1-0-2\n"+
		"fa:16:3e:00:00:0c,set:port-web,10.1.0.9,web1\n"+
		"fa:16:3e:00:00:0b,10.1.0.11,host-10-1-0-11\n", string(hostsContent(n)))
	require.Equal(t, "10.1.0.2\thost-10-1-0-2.corp.example host-10-1-0-2\n"+
		"10.1.0.9\tweb1.corp.example web1\n"+
		"10.1.0.11\thost-10-1-0-11.corp.example host-10-1-0-11\n", string(addnContent(n)))
	require.Equal(t, "tag:port-web,option:bootfile-name,pxe.0\n"+
		"tag:port-web,66,10.1.0.5\n"+
		"tag:subnet-s1,option:router,10.1.0.1\n"+
		"tag:subnet-s1,option:dns-server,10.1.0.2\n"+
		"tag:subnet-s1,option:classless-static-route,172.16.0.0/12,10.1.0.254,0.0.0.0/0,10.1.0.1\n"+
		"tag:subnet-s1,249,172.16.0.0/12,10.1.0.254,0.0.0.0/0,10.1.0.1\n", string(optsContent(n)))
	a := strings.Join(argv("dnsmasq", "/d", "ns-d1", n, 2*time.Minute), " ")
	for _, want := range []string{"--dhcp-range=set:subnet-s1,10.1.0.0,static,255.255.255.0,120s",
		"--dhcp-option-force=option:mtu,1450", "--domain=corp.example", "--local=/corp.example/",
		"--server=192.0.2.53", "--interface=ns-d1", "--bind-interfaces", "--no-resolv", "--no-hosts"} {
		require.Contains(t, a, want)
	}
	require.NotContains(t, a, "10.2.0.0", "no range for a subnet with DHCP off")
}

func TestWriteIfChanged(t *testing.T) {
	dir := t.TempDir()
	n := Compute("host1", snapshot())["n1"]
	changed, err := writeFiles(dir, n)
	require.NoError(t, err)
	require.True(t, changed)
	changed, err = writeFiles(dir, n)
	require.NoError(t, err)
	require.False(t, changed, "same content: no reload")
	n.Hosts = n.Hosts[:1]
	changed, err = writeFiles(dir, n)
	require.NoError(t, err)
	require.True(t, changed)
}

func keys(m map[string]Network) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestIsolatedMetadata: a subnet without a router interface is isolated;
// with metadata on, DHCP hands out the route to 169.254.169.254 via the
// DHCP port with the default route (option 3 is ignored beside 121); a
// router interface on the subnet, or metadata off, takes the route away.
func TestIsolatedMetadata(t *testing.T) {
	snap := snapshot()
	n := Compute("host1", snap)["n1"]
	require.True(t, n.Subnets[0].Isolated)
	require.Contains(t, string(optsContent(n)), "172.16.0.0/12,10.1.0.254,0.0.0.0/0", "metadata off: no metadata route")
	require.NotContains(t, string(optsContent(n)), "169.254.169.254")

	n.Metadata = true
	require.Contains(t, string(optsContent(n)),
		"tag:subnet-s1,option:classless-static-route,172.16.0.0/12,10.1.0.254,169.254.169.254/32,10.1.0.2,0.0.0.0/0,10.1.0.1\n")
	require.Contains(t, string(optsContent(n)), "tag:subnet-s1,249,172.16.0.0/12,10.1.0.254,169.254.169.254/32,10.1.0.2,0.0.0.0/0,10.1.0.1\n")

	sub := snap.Subnets["s3"] // no host routes: the route alone, still with the default
	sub.GatewayIP = ptr("10.4.0.1")
	snap.Subnets["s3"] = sub
	n3 := Compute("host2", snap)["n3"]
	n3.Metadata = true
	require.Contains(t, string(optsContent(n3)),
		"tag:subnet-s3,option:classless-static-route,169.254.169.254/32,10.4.0.2,0.0.0.0/0,10.4.0.1\n")

	snap.Ports["r1"] = &api.Port{ID: "r1", NetworkID: "n1", DeviceOwner: "network:router_interface", DeviceID: "r",
		FixedIPs: []api.FixedIP{{SubnetID: "s1", IPAddress: "10.1.0.1"}}}
	n = Compute("host1", snap)["n1"]
	require.False(t, n.Subnets[0].Isolated, "a router serves its metadata")
	n.Metadata = true
	require.NotContains(t, string(optsContent(n)), "169.254.169.254")
}
