package pipeline

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/hoststate"
)

var update = flag.Bool("update", false, "rewrite golden files")

// seed001 is the controller of seed 001: one VM (ServerA) on the VXLAN
// network 111, a peer (the compute node) with a port on it too.
func seed001() (hoststate.State, PortMap) {
	s := hoststate.State{
		Host:        "controller",
		LocalIP:     netip.MustParseAddr("192.168.150.10"),
		TunnelTypes: []string{"vxlan", "gre"},
		Networks: map[string]hoststate.Network{
			"net-vx": {ID: "net-vx", Type: "vxlan", SegmentationID: 111, MTU: 1450},
		},
		Ports: map[string]hoststate.Port{
			"port-a": {ID: "port-a", NetworkID: "net-vx", MAC: "fa:16:3e:7a:f5:1d",
				IPs: []netip.Addr{netip.MustParseAddr("172.16.166.117")}, PortSecurity: true, AdminStateUp: true,
				DeviceOwner: "compute:nova"},
		},
		// ServerB on the compute node: l2population's entries.
		Peers: []hoststate.Peer{{Host: "compute", IP: netip.MustParseAddr("192.168.150.11"), Networks: []string{"net-vx"},
			Ports: []hoststate.Port{{ID: "port-b", NetworkID: "net-vx", MAC: "fa:16:3e:29:99:6a",
				IPs: []netip.Addr{netip.MustParseAddr("172.16.166.125")}, PortSecurity: true, AdminStateUp: true}}}},
	}
	pm := PortMap{
		Ports:      map[string]int{"port-a": 5},
		LocalVLANs: map[string]int{"net-vx": 1},
		PatchTun:   1, PatchInt: 1,
		Tunnels: map[string]int{"vxlan-c0a8960b": 3},
	}
	return s, pm
}

// seed000 is server_1 of seed 000: tenants A and B with the same CIDR on
// two GRE networks, two VMs each, one peer with ports on both.
func seed000() (hoststate.State, PortMap) {
	ip := netip.MustParseAddr
	port := func(id, net, mac, addr string) hoststate.Port {
		return hoststate.Port{ID: id, NetworkID: net, MAC: mac, IPs: []netip.Addr{ip(addr)}, PortSecurity: true, AdminStateUp: true}
	}
	s := hoststate.State{
		Host: "server_1", LocalIP: ip("10.180.66.4"), TunnelTypes: []string{"gre"},
		Networks: map[string]hoststate.Network{
			"net-a": {ID: "net-a", Type: "gre", SegmentationID: 0x101},
			"net-b": {ID: "net-b", Type: "gre", SegmentationID: 0x102},
		},
		Ports: map[string]hoststate.Port{
			"a1": port("a1", "net-a", "fa:16:3e:00:00:a1", "10.1.0.11"),
			"a2": port("a2", "net-a", "fa:16:3e:00:00:a2", "10.1.0.12"),
			"b1": port("b1", "net-b", "fa:16:3e:00:00:b1", "10.1.0.11"),
			"b2": port("b2", "net-b", "fa:16:3e:00:00:b2", "10.1.0.12"),
		},
		Peers: []hoststate.Peer{{Host: "server_2", IP: ip("10.180.64.184"), Networks: []string{"net-a", "net-b"}}},
	}
	pm := PortMap{
		Ports:      map[string]int{"a1": 3, "a2": 4, "b1": 5, "b2": 6},
		LocalVLANs: map[string]int{"net-a": 1, "net-b": 2},
		PatchTun:   1, PatchInt: 1,
		Tunnels: map[string]int{"gre-0ab440b8": 2},
	}
	return s, pm
}

func golden(t *testing.T, name string, f Flows) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# br-int\n" + Text(f.Int) + "# br-tun\n" + Text(f.Tun))
	for _, br := range sortedKeys(f.Provider) {
		b.WriteString("# " + br + "\n" + Text(f.Provider[br]))
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), b.String())
}

func TestBuildSeed001(t *testing.T) {
	s, pm := seed001()
	golden(t, "seed001", Build(s, pm))
}

func TestBuildSeed000(t *testing.T) {
	s, pm := seed000()
	golden(t, "seed000", Build(s, pm))
}

func TestBuildAllowedPairsAndTrusted(t *testing.T) {
	s, pm := seed001()
	p := s.Ports["port-a"]
	p.IPs = append(p.IPs, netip.MustParseAddr("2001:db8::5"))
	p.AllowedAddressPairs = []hoststate.AddressPair{
		{Prefix: netip.MustParsePrefix("172.16.166.0/28"), MAC: "fa:16:3e:7a:f5:1d"},
		{Prefix: netip.MustParsePrefix("10.9.9.9/32"), MAC: "FA:16:3E:00:00:99"},
	}
	s.Ports["port-a"] = p
	s.Ports["dhcp"] = hoststate.Port{ID: "dhcp", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:02",
		PortSecurity: true, AdminStateUp: true, DeviceOwner: "network:dhcp"}
	s.Ports["nosec"] = hoststate.Port{ID: "nosec", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:03", AdminStateUp: true}
	s.Ports["down"] = hoststate.Port{ID: "down", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:04", PortSecurity: true}
	s.Ports["unplugged"] = hoststate.Port{ID: "unplugged", NetworkID: "net-vx", PortSecurity: true, AdminStateUp: true}
	pm.Ports["dhcp"], pm.Ports["nosec"], pm.Ports["down"] = 6, 7, 8
	golden(t, "pairs", Build(s, pm))
	assert.Equal(t, map[string]bool{"port-a": true, "dhcp": true, "nosec": true}, BoundPorts(s, pm))
}

func TestBuildProvider(t *testing.T) {
	s, pm := seed001()
	s.BridgeMappings = map[string]string{"physnet1": "br-ex"}
	s.Networks["net-flat"] = hoststate.Network{ID: "net-flat", Type: "flat", PhysicalNetwork: "physnet1"}
	s.Networks["net-vlan"] = hoststate.Network{ID: "net-vlan", Type: "vlan", PhysicalNetwork: "physnet1", SegmentationID: 100}
	s.Networks["net-other"] = hoststate.Network{ID: "net-other", Type: "vlan", PhysicalNetwork: "physnet2", SegmentationID: 7}
	pm.LocalVLANs["net-flat"], pm.LocalVLANs["net-vlan"], pm.LocalVLANs["net-other"] = 2, 3, 4
	pm.Providers = map[string]ProviderPorts{"physnet1": {Bridge: "br-ex", IntPort: 9, PhyPort: 1}}
	golden(t, "provider", Build(s, pm))
}

// A missing ofport must never produce a flow pointing at port 0.
func TestBuildMissingPorts(t *testing.T) {
	s, _ := seed001()
	f := Build(s, PortMap{})
	for _, fl := range append(f.Int, f.Tun...) {
		assert.NotContains(t, fl.String(), "in_port=0")
		assert.NotContains(t, fl.String(), "output:0")
	}
	assert.Empty(t, BoundPorts(s, PortMap{}))
}

func TestTunnelPorts(t *testing.T) {
	s, _ := seed001()
	s.Networks["net-gre"] = hoststate.Network{ID: "net-gre", Type: "gre", SegmentationID: 5}
	s.Networks["net-gnv"] = hoststate.Network{ID: "net-gnv", Type: "geneve", SegmentationID: 6} // type not enabled
	s.Peers = append(s.Peers,
		hoststate.Peer{Host: "c2", IP: netip.MustParseAddr("10.0.0.2"), Networks: []string{"net-gre", "net-gnv"}},
		hoststate.Peer{Host: "c3", IP: netip.MustParseAddr("10.0.0.3"), Networks: []string{"unknown"}},
		hoststate.Peer{Host: "self", IP: s.LocalIP, Networks: []string{"net-vx"}},
	)
	got := TunnelPorts(s)
	var names []string
	for _, tp := range got {
		names = append(names, tp.Name+"/"+tp.Type+"/"+tp.RemoteIP.String())
	}
	assert.Equal(t, []string{"gre-0a000002/gre/10.0.0.2", "vxlan-c0a8960b/vxlan/192.168.150.11"}, names)
	// The same peers whichever the port mode, each once.
	s.Peers = append(s.Peers, hoststate.Peer{Host: "c2", IP: netip.MustParseAddr("10.0.0.2"), Networks: []string{"net-vx", "net-gre"}})
	want := []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("192.168.150.11")}
	assert.Equal(t, want, TunnelPeers(s))
	s.TunnelPorts = hoststate.TunnelPortsFlow
	assert.Equal(t, want, TunnelPeers(s))
}

func TestAllocateVLANs(t *testing.T) {
	got, err := AllocateVLANs(map[string]int{"b": 1, "gone": 2, "bad": 5000}, []string{"c", "a", "b", "bad"})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"b": 1, "a": 2, "bad": 3, "c": 4}, got)

	cur := map[string]int{}
	var want []string
	for i := range MaxLocalVLAN {
		id := "n" + strconv.Itoa(i)
		want = append(want, id)
	}
	got, err = AllocateVLANs(cur, append(want, "zzz-overflow"))
	assert.ErrorIs(t, err, ErrVLANsExhausted)
	assert.Len(t, got, MaxLocalVLAN)
}

// Every wired port, trusted or not, drops 802.1Q-tagged frames in table 0:
// each of its classification flows matches untagged frames only, and no
// flow of the table without an in_port (but the dead-VLAN drop) could
// take them, so they fall to the miss (drop). A VM must not reach another
// network's local VLAN even if its port lost its access tag.
func TestBuildDropsTaggedFromPorts(t *testing.T) {
	s, pm := seed001()
	s.Ports["dhcp"] = hoststate.Port{ID: "dhcp", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:02",
		PortSecurity: true, AdminStateUp: true, DeviceOwner: "network:dhcp"}
	s.Ports["nosec"] = hoststate.Port{ID: "nosec", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:03", AdminStateUp: true}
	pm.Ports["dhcp"], pm.Ports["nosec"] = 6, 7
	f := Build(s, pm)
	for id := range BoundPorts(s, pm) {
		in := "in_port=" + strconv.Itoa(pm.Ports[id])
		n := 0
		for _, fl := range f.Int {
			if fl.Table != IntClassifier.ID || fl.Priority == 0 {
				continue
			}
			if !strings.Contains(fl.Match, "in_port=") {
				assert.Equal(t, "drop", fl.Actions, "a table-0 flow for any port: %s", fl)
				continue
			}
			if strings.Contains(fl.Match+",", in+",") {
				n++
				assert.Contains(t, fl.Match, vlanUntagged, "port %s: tagged frames must drop: %s", id, fl)
			}
		}
		assert.Positive(t, n, "port %s is classified", id)
		assert.Equal(t, "drop", missFlows(RoleInt)[0].Actions)
	}
}

// With port security, table 0 takes frames only from the port's MACs,
// and table 25 passes IP only from the port's own addresses (each with its
// MAC), or the few that need none; nothing but ARP, IPv4 and IPv6.
func TestBuildIPSourceChecks(t *testing.T) {
	s, pm := seed001()
	p := s.Ports["port-a"]
	p.AllowedAddressPairs = []hoststate.AddressPair{{Prefix: netip.MustParsePrefix("10.9.0.0/16"), MAC: "fa:16:3e:00:00:99"}}
	s.Ports["port-a"] = p
	var got, classify []string
	for _, fl := range Build(s, pm).Int {
		if fl.Table == IntMACSpoof.ID && fl.Priority > 0 {
			got = append(got, fl.Match)
		}
		if fl.Table == IntClassifier.ID && strings.Contains(fl.Match, "in_port=5,") {
			classify = append(classify, fl.Match)
		}
	}
	assert.Equal(t, []string{"in_port=5,dl_src=fa:16:3e:00:00:99," + vlanUntagged, "in_port=5,dl_src=fa:16:3e:7a:f5:1d," + vlanUntagged}, classify,
		"one classification flow per MAC of the port")
	for _, m := range got {
		ok := strings.Contains(m, "nw_src=") || strings.Contains(m, "ipv6_src=")
		assert.True(t, ok, "table 25 flow without a source address check: %s", m)
	}
	assert.Contains(t, got, "ip,in_port=5,dl_src=fa:16:3e:7a:f5:1d,nw_src=172.16.166.117")
	assert.Contains(t, got, "ip,in_port=5,dl_src=fa:16:3e:00:00:99,nw_src=10.9.0.0/16")
	assert.NotContains(t, got, "ip,in_port=5,dl_src=fa:16:3e:7a:f5:1d,nw_src=10.9.0.0/16", "a pair's prefix goes with its own MAC")
	assert.Contains(t, got, "udp,nw_src=0.0.0.0,tp_src=68,tp_dst=67")
	assert.Contains(t, got, "ipv6,ipv6_src=fe80::/64")
}
