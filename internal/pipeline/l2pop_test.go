package pipeline

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vland/vland/internal/hoststate"
)

func tunTable(f Flows, t Table) []string {
	var out []string
	for _, fl := range f.Tun {
		if fl.Table == t.ID && fl.Priority > 0 {
			out = append(out, fl.String())
		}
	}
	return out
}

// tunEntries are a table's per-network flows (owner tunnel), without the
// static ones.
func tunEntries(f Flows, t Table) []string {
	var out []string
	for _, fl := range f.Tun {
		if fl.Table == t.ID && fl.Owner == OwnerTunnel {
			out = append(out, fl.String())
		}
	}
	return out
}

// Seed 001 with l2population: ServerB's MAC goes straight to the compute
// node's tunnel (above learned flows, priority 1) and its IP is answered
// in table 21 with Neutron's ARP responder actions.
func TestL2popSeed001(t *testing.T) {
	s, pm := seed001()
	f := Build(s, pm)
	assert.Equal(t, []string{
		"table=20,priority=2,dl_vlan=1,dl_dst=fa:16:3e:29:99:6a actions=strip_vlan,load:0x6f->NXM_NX_TUN_ID[],output:3",
	}, tunTable(f, TunUcast))
	assert.Equal(t, []string{
		"table=21,priority=1,arp,dl_vlan=1,arp_op=1,arp_tpa=172.16.166.125 actions=" +
			"move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:fa:16:3e:29:99:6a,load:0x2->NXM_OF_ARP_OP[]," +
			"move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]," +
			"load:0xfa163e29996a->NXM_NX_ARP_SHA[],load:0xac10a67d->NXM_OF_ARP_SPA[],IN_PORT",
	}, tunEntries(f, TunARPResponder))
	assert.Contains(t, tunTable(f, TunPatchLVToTun), "table=2,priority=1,arp,dl_dst=ff:ff:ff:ff:ff:ff actions=resubmit(,21)")
}

// Entries follow the network (VNI, local VLAN, tunnel type) of each remote
// port; allowed address pairs add their MAC and single IPs; ambiguous,
// local, admin-down and unreachable entries are left to learning/flooding.
func TestL2popEntries(t *testing.T) {
	ip := netip.MustParseAddr
	s, pm := seed001()
	s.Networks["net-gre"] = hoststate.Network{ID: "net-gre", Type: "gre", SegmentationID: 7}
	pm.LocalVLANs["net-gre"] = 2
	pm.Tunnels["gre-0a000002"] = 4
	pm.Tunnels["vxlan-0a000002"] = 6
	s.Ports["local"] = hoststate.Port{ID: "local", NetworkID: "net-gre", MAC: "fa:16:3e:00:00:01",
		IPs: []netip.Addr{ip("10.7.0.1")}, AdminStateUp: true}
	s.Peers = append(s.Peers, hoststate.Peer{Host: "c2", IP: ip("10.0.0.2"), Networks: []string{"net-gre", "net-vx"},
		Ports: []hoststate.Port{
			{ID: "g1", NetworkID: "net-gre", MAC: "fa:16:3e:00:00:11", IPs: []netip.Addr{ip("10.7.0.11"), ip("2001:db8::11")}, AdminStateUp: true,
				AllowedAddressPairs: []hoststate.AddressPair{
					{Prefix: netip.MustParsePrefix("10.7.0.100/32"), MAC: "fa:16:3e:00:00:aa"},
					{Prefix: netip.MustParsePrefix("10.7.1.0/24"), MAC: "fa:16:3e:00:00:11"},
				}},
			{ID: "g2", NetworkID: "net-gre", MAC: "fa:16:3e:00:00:12", IPs: []netip.Addr{ip("10.7.0.1")}, AdminStateUp: true},      // IP of a local port
			{ID: "g3", NetworkID: "net-gre", MAC: "fa:16:3e:00:00:01", AdminStateUp: true},                                         // MAC of a local port
			{ID: "g4", NetworkID: "net-gre", MAC: "fa:16:3e:00:00:14", IPs: []netip.Addr{ip("10.7.0.14")}},                         // admin down
			{ID: "v1", NetworkID: "net-vx", MAC: "fa:16:3e:29:99:6a", IPs: []netip.Addr{ip("172.16.166.126")}, AdminStateUp: true}, // ServerB's MAC on two hosts
			{ID: "v2", NetworkID: "net-vx", MAC: "bogus", IPs: []netip.Addr{ip("172.16.166.127")}, AdminStateUp: true},
		}})
	f := Build(s, pm)
	assert.Equal(t, []string{
		"table=20,priority=2,dl_vlan=2,dl_dst=fa:16:3e:00:00:11 actions=strip_vlan,load:0x7->NXM_NX_TUN_ID[],output:4",
		"table=20,priority=2,dl_vlan=2,dl_dst=fa:16:3e:00:00:12 actions=strip_vlan,load:0x7->NXM_NX_TUN_ID[],output:4",
		"table=20,priority=2,dl_vlan=2,dl_dst=fa:16:3e:00:00:aa actions=strip_vlan,load:0x7->NXM_NX_TUN_ID[],output:4",
	}, tunTable(f, TunUcast))
	var tpas []string
	for _, fl := range f.Tun {
		if fl.Table == TunARPResponder.ID && fl.Owner == OwnerTunnel {
			tpas = append(tpas, fl.Match)
		}
	}
	assert.Equal(t, []string{
		"arp,dl_vlan=1,arp_op=1,arp_tpa=172.16.166.125",
		"arp,dl_vlan=1,arp_op=1,arp_tpa=172.16.166.126", // its IP is unambiguous, only its MAC is not
		"arp,dl_vlan=2,arp_op=1,arp_tpa=10.7.0.100",
		"arp,dl_vlan=2,arp_op=1,arp_tpa=10.7.0.11",
		"icmp6,dl_vlan=2,icmp_type=135,nd_target=2001:db8::11", // its IPv6 address: the ND responder
	}, tpas)
}

// A host without a tunnel port towards the peer yet (no ofport) has no
// entries for it: never a flow to port 0.
func TestL2popNoTunnelYet(t *testing.T) {
	s, pm := seed001()
	pm.Tunnels = nil
	f := Build(s, pm)
	assert.Empty(t, tunTable(f, TunUcast))
	assert.Empty(t, tunEntries(f, TunARPResponder))
}

// With flow-based tunnel ports, seed 001 has one vxlan port (remote_ip=
// flow): table 0 accepts only the peer's address on it, and every flow to
// the peer sets tun_dst before output; learned flows do too.
func TestFlowTunnels(t *testing.T) {
	s, pm := seed001()
	s.TunnelPorts = hoststate.TunnelPortsFlow
	s.Peers = append(s.Peers, hoststate.Peer{Host: "c3", IP: netip.MustParseAddr("10.0.0.3"), Networks: []string{"net-vx"}})
	pm.Tunnels = map[string]int{"vxlan-flow": 7}
	var names []string
	for _, tp := range TunnelPorts(s) {
		names = append(names, tp.Name)
		assert.False(t, tp.RemoteIP.IsValid())
	}
	assert.Equal(t, []string{"vxlan-flow"}, names)
	f := Build(s, pm)
	var t0 []string
	for _, fl := range f.Tun {
		if fl.Table == TunClassifier.ID && fl.Priority > 0 {
			t0 = append(t0, fl.String())
		}
	}
	assert.Equal(t, []string{
		"table=0,priority=1,in_port=1 actions=resubmit(,2)",
		"table=0,priority=1,in_port=7,tun_src=10.0.0.3 actions=resubmit(,4)",
		"table=0,priority=1,in_port=7,tun_src=192.168.150.11 actions=resubmit(,4)",
	}, t0)
	assert.Equal(t, []string{
		"table=20,priority=2,dl_vlan=1,dl_dst=fa:16:3e:29:99:6a actions=strip_vlan,load:0x6f->NXM_NX_TUN_ID[],set_field:192.168.150.11->tun_dst,output:7",
	}, tunTable(f, TunUcast))
	assert.Equal(t, []string{
		"table=22,priority=1,dl_vlan=1 actions=strip_vlan,load:0x6f->NXM_NX_TUN_ID[],set_field:10.0.0.3->tun_dst,output:7,set_field:192.168.150.11->tun_dst,output:7",
	}, tunTable(f, TunFlood))
	learn := tunTable(f, TunLearn)
	assert.Len(t, learn, 1)
	assert.Contains(t, learn[0], "load:NXM_NX_TUN_IPV4_SRC[]->NXM_NX_TUN_IPV4_DST[],output:OXM_OF_IN_PORT[]")
}
