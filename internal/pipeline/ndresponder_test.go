package pipeline

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vland/vland/internal/hoststate"
)

// Seed 001 with an IPv6 address on ServerB: a multicast solicitation from
// br-int goes to table 21, where the solicitation for ServerB's address
// becomes its advertisement (first pass, per address) and gets its target
// link-layer address and leaves (second pass, shared); solicitations
// without a source link-layer option (duplicate address detection) flood.
func TestNDResponderSeed001(t *testing.T) {
	s, pm := seed001()
	b := &s.Peers[0].Ports[0]
	b.IPs = append(b.IPs, netip.MustParseAddr("fd00:166::7d"))
	f := Build(s, pm)
	assert.Contains(t, tunTable(f, TunPatchLVToTun),
		"table=2,priority=1,icmp6,dl_dst=33:33:ff:00:00:00/ff:ff:ff:00:00:00,icmp_type=135 actions=resubmit(,21)")
	assert.Equal(t, []string{
		"table=21,priority=2,icmp6,icmp_type=135,nd_sll=00:00:00:00:00:00 actions=resubmit(,22)",
		"table=21,priority=1,arp,dl_vlan=1,arp_op=1,arp_tpa=172.16.166.125 actions=" + arpReply("fa:16:3e:29:99:6a", "172.16.166.125"),
		"table=21,priority=1,icmp6,dl_vlan=1,icmp_type=135,nd_target=fd00:166::7d actions=" +
			"move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:fa:16:3e:29:99:6a," +
			"move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],set_field:fd00:166::7d->ipv6_src," +
			"set_field:136->icmpv6_type,set_field:1610612736->nd_reserved,set_field:2->nd_options_type,resubmit(,21)",
		"table=21,priority=1,icmp6,icmp_type=136 actions=move:NXM_OF_ETH_SRC[]->NXM_NX_ND_TLL[],IN_PORT",
	}, tunTable(f, TunARPResponder))
}

// IPv6 entries follow the ARP responder's rules (allowed pairs with a
// single address answered with the pair's MAC; local, ambiguous and
// admin-down ones left to flooding); a router's interface answers with the
// R flag; link-local and multicast addresses are never answered.
func TestNDResponderEntries(t *testing.T) {
	ip := netip.MustParseAddr
	s, pm := seed001()
	local := s.Ports["port-a"]
	local.IPs = append(local.IPs, ip("fd00:166::a"))
	s.Ports["port-a"] = local
	s.Peers[0].Ports = []hoststate.Port{
		{ID: "b", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:0b", AdminStateUp: true,
			IPs: []netip.Addr{ip("172.16.166.11"), ip("fd00:166::b"), ip("fe80::f816:3eff:fe00:b")},
			AllowedAddressPairs: []hoststate.AddressPair{
				{Prefix: netip.MustParsePrefix("fd00:166::100/128"), MAC: "fa:16:3e:00:01:00"},
				{Prefix: netip.MustParsePrefix("fd00:167::/64"), MAC: "fa:16:3e:00:00:0b"},
			}},
		{ID: "gw", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:01", AdminStateUp: true, DeviceOwner: "network:router_interface",
			IPs:                 []netip.Addr{ip("fd00:166::1")}, // also as its own allowed pair: same MAC, still answered, still a router
			AllowedAddressPairs: []hoststate.AddressPair{{Prefix: netip.MustParsePrefix("fd00:166::1/128"), MAC: "fa:16:3e:00:00:01"}}},
		{ID: "dup1", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:d1", AdminStateUp: true, IPs: []netip.Addr{ip("fd00:166::d")}},
		{ID: "dup2", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:d2", AdminStateUp: true, IPs: []netip.Addr{ip("fd00:166::d")}},
		{ID: "also-local", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:0c", AdminStateUp: true, IPs: []netip.Addr{ip("fd00:166::a")}},
		{ID: "down", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:0e", IPs: []netip.Addr{ip("fd00:166::e")}},
		{ID: "mcast", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:0f", AdminStateUp: true, IPs: []netip.Addr{ip("ff02::1")}},
	}
	f := Build(s, pm)
	var got []string
	for _, fl := range f.Tun {
		if fl.Table == TunARPResponder.ID && fl.Owner == OwnerTunnel && strings.HasPrefix(fl.Match, "icmp6") {
			got = append(got, fl.Match+" "+fl.Actions)
		}
	}
	advert := func(ip, mac, flags string) string {
		return "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:" + mac + ",move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[]," +
			"set_field:" + ip + "->ipv6_src,set_field:136->icmpv6_type,set_field:" + flags + "->nd_reserved,set_field:2->nd_options_type,resubmit(,21)"
	}
	const so, rso = "1610612736", "3758096384" // S|O, R|S|O
	assert.Equal(t, []string{
		"icmp6,dl_vlan=1,icmp_type=135,nd_target=fd00:166::1 " + advert("fd00:166::1", "fa:16:3e:00:00:01", rso),
		"icmp6,dl_vlan=1,icmp_type=135,nd_target=fd00:166::100 " + advert("fd00:166::100", "fa:16:3e:00:01:00", so),
		"icmp6,dl_vlan=1,icmp_type=135,nd_target=fd00:166::b " + advert("fd00:166::b", "fa:16:3e:00:00:0b", so),
	}, got)
}
