package pipeline

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/vland/vland/internal/hoststate"
)

// secGroupState: two filtered ports in group "web" (TCP 80 and 8000-8080
// from anywhere, SSH from 10.0.0.0/8, ping and everything from members of
// "admin"), one in "admin", and the default-style egress rules.
func secGroupState() (hoststate.State, PortMap) {
	s, pm := seed001()
	ip := netip.MustParseAddr
	egress := []hoststate.Rule{{Protocol: -1, PortMin: -1, PortMax: -1}, {IPv6: true, Protocol: -1, PortMin: -1, PortMax: -1}}
	s.SecurityGroups = map[string]hoststate.SecurityGroup{
		"web": {ID: "web", Rules: append([]hoststate.Rule{
			{Ingress: true, Protocol: 6, PortMin: 80, PortMax: 80},
			{Ingress: true, Protocol: 6, PortMin: 8000, PortMax: 8080},
			{Ingress: true, Protocol: 6, PortMin: 22, PortMax: 22, RemotePrefix: netip.MustParsePrefix("10.0.0.0/8")},
			{Ingress: true, Protocol: 1, PortMin: 8, PortMax: -1, RemoteGroup: "admin"},
			{Ingress: true, Protocol: -1, PortMin: -1, PortMax: -1, RemoteGroup: "admin"},
		}, egress...)},
		"admin": {ID: "admin", Rules: egress},
	}
	s.GroupMembers = map[string][]netip.Prefix{"admin": {netip.MustParsePrefix("172.16.166.120/32"), netip.MustParsePrefix("172.16.166.200/32")}}
	a := s.Ports["port-a"]
	a.SecurityGroups, a.Filtered = []string{"web"}, true
	s.Ports["port-a"] = a
	s.Ports["port-b"] = hoststate.Port{ID: "port-b", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:0b", IPs: []netip.Addr{ip("172.16.166.118")},
		PortSecurity: true, AdminStateUp: true, Filtered: true, SecurityGroups: []string{"web"}}
	s.Ports["port-c"] = hoststate.Port{ID: "port-c", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:0c", IPs: []netip.Addr{ip("172.16.166.120")},
		PortSecurity: true, AdminStateUp: true, Filtered: true, SecurityGroups: []string{"admin"}}
	pm.Ports["port-b"], pm.Ports["port-c"] = 6, 7
	return s, pm
}

func TestBuildSecurityGroups(t *testing.T) {
	s, pm := secGroupState()
	golden(t, "secgroups", Build(s, pm))
}

// Remote groups use conjunctions: adding members adds one flow each,
// adding ports adds flows per rule, never members x rules.
func TestConjunctionFlowsGrowLinearly(t *testing.T) {
	count := func(members int) int {
		s, pm := secGroupState()
		var m []netip.Prefix
		for i := 0; i < members; i++ {
			m = append(m, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 9, byte(i / 250), byte(i%250 + 1)}), 32))
		}
		s.GroupMembers["admin"] = m
		n := 0
		for _, f := range Build(s, pm).Int {
			if f.Table == IntRulesIngress.ID {
				n++
			}
		}
		return n
	}
	base := count(0)
	assert.Equal(t, base+100, count(100), "one flow per member")
	assert.Equal(t, base+1000, count(1000))
}

func TestRangeMasks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi int
		want   string
	}{
		{80, 80, "80"},
		{8000, 8080, "0x1f40/0xffe0 0x1f60/0xfff0 8064 0x1f80/0xfffe ... "},
		{0, 65535, ""},
		{1, 65535, ""},
		{1024, 2047, "0x400/0xfc00"},
	} {
		got := strings.Join(rangeMasks(tc.lo, tc.hi), " ")
		if tc.lo == 8000 {
			// Every port of the range is covered, none outside.
			assert.True(t, covers(rangeMasks(tc.lo, tc.hi), 8000, 8080), got)
			continue
		}
		if tc.lo == 1 {
			assert.True(t, covers(rangeMasks(tc.lo, tc.hi), 1, 65535), got)
			continue
		}
		assert.Equal(t, tc.want, got, fmt.Sprint(tc.lo, "-", tc.hi))
	}
}

// covers checks that value/mask pairs match exactly the ports lo..hi.
func covers(masks []string, lo, hi int) bool {
	for p := 0; p <= 0xffff; p++ {
		in := false
		for _, m := range masks {
			var v, mask int
			if _, err := fmt.Sscanf(m, "%v/%v", &v, &mask); err != nil {
				fmt.Sscanf(m, "%d", &v)
				mask = 0xffff
			}
			if p&mask == v {
				in = true
			}
		}
		if in != (p >= lo && p <= hi) {
			return false
		}
	}
	return true
}

// Two rules with the same match and different remote groups share one
// clause flow with both conjunctions.
func TestConjunctionActionsMerge(t *testing.T) {
	s, pm := secGroupState()
	g := s.SecurityGroups["web"]
	g.Rules = append(g.Rules, hoststate.Rule{Ingress: true, Protocol: -1, PortMin: -1, PortMax: -1, RemoteGroup: "other"},
		hoststate.Rule{Ingress: true, Protocol: -1, PortMin: -1, PortMax: -1, RemoteGroup: "third"})
	s.SecurityGroups["web"] = g
	found := false
	for _, f := range Build(s, pm).Int {
		if f.Match == "reg5=5,ip" {
			found = true
			assert.Equal(t, "conjunction(1,2/2),conjunction(2,2/2),conjunction(3,2/2)", f.Actions)
		}
	}
	assert.True(t, found)
}

// OVS refuses "drop" beside other actions (a whole bundle fails).
func TestDropAlone(t *testing.T) {
	s, pm := secGroupState()
	for _, f := range Build(s, pm).Int {
		if strings.Contains(f.Actions, actDrop) {
			assert.Equal(t, actDrop, f.Actions, f.String())
		}
	}
}

// OVS refuses ct() on a flow that does not match IPv4 or IPv6.
func TestConntrackNeedsIP(t *testing.T) {
	s, pm := secGroupState()
	for _, f := range Build(s, pm).Int {
		if strings.Contains(f.Actions, "ct(") {
			ip := false
			for _, m := range strings.Split(f.Match, ",") {
				switch m {
				case "ip", "ipv6", "tcp", "tcp6", "udp", "udp6", "icmp", "icmp6", "sctp", "sctp6":
					ip = true
				}
			}
			assert.True(t, ip, f.String())
		}
	}
}

// TestFirewallScale is the flow count of the benchmark host: 100
// ports in 10 groups of 100 rules each (every tenth rule naming a remote
// group), 1,000 remote members. Conjunctions keep it near ports x rules
// per port + members, far from the product of rules and members.
func TestFirewallScale(t *testing.T) {
	s, pm := seed001()
	s.Ports, pm.Ports = map[string]hoststate.Port{}, map[string]int{}
	s.SecurityGroups, s.GroupMembers = map[string]hoststate.SecurityGroup{}, map[string][]netip.Prefix{}
	for g := 0; g < 10; g++ {
		id := fmt.Sprintf("g%d", g)
		var rules []hoststate.Rule
		for r := 0; r < 100; r++ {
			rule := hoststate.Rule{Ingress: r%2 == 0, Protocol: 6, PortMin: 1000 + r, PortMax: 1000 + r}
			if r%10 == 0 {
				rule.RemoteGroup = fmt.Sprintf("g%d", (g+1)%10)
			}
			rules = append(rules, rule)
		}
		s.SecurityGroups[id] = hoststate.SecurityGroup{ID: id, Rules: rules}
		for m := 0; m < 100; m++ {
			s.GroupMembers[id] = append(s.GroupMembers[id], netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(g), byte(m), 1}), 32))
		}
	}
	for i := 0; i < 100; i++ {
		id := fmt.Sprintf("p%03d", i)
		s.Ports[id] = hoststate.Port{ID: id, NetworkID: "net-vx", MAC: fmt.Sprintf("fa:16:3e:00:01:%02x", i),
			IPs: []netip.Addr{netip.AddrFrom4([4]byte{172, 16, 1, byte(i + 1)})}, PortSecurity: true, AdminStateUp: true,
			Filtered: true, SecurityGroups: []string{fmt.Sprintf("g%d", i%10)}}
		pm.Ports[id] = 10 + i
	}
	start := time.Now()
	f := Build(s, pm)
	took := time.Since(start)
	fw := 0
	for _, fl := range f.Int {
		if fl.Owner == OwnerFirewall {
			fw++
		}
	}
	t.Logf("FIGURE: 100 ports, 10 groups x 100 rules (10 with remote groups of 100 members): %d br-int flows, %d of them firewall, built in %v",
		len(f.Int), fw, took.Round(time.Millisecond))
	// Per port: 100 rule flows + 4 steering; per (group, remote, direction):
	// 1 accept + 100 member flows; plus the static base.
	assert.Less(t, fw, 100*104+10*2*101+100)
}

// A port in a stateless group skips conntrack: IP goes straight to its
// rules, which accept without committing.
func TestStatelessGroup(t *testing.T) {
	s, pm := secGroupState()
	g := s.SecurityGroups["admin"]
	g.Stateless = true
	g.Rules = append(g.Rules, hoststate.Rule{Ingress: true, Protocol: 6, PortMin: 22, PortMax: 22, RemoteGroup: "admin"})
	s.SecurityGroups["admin"] = g
	text := Text(Build(s, pm).Int)
	for _, want := range []string{
		"table=71,priority=91,ip,in_port=7 actions=resubmit(,72)",
		"table=81,priority=91,ip,reg5=7 actions=resubmit(,82)",
		"table=72,priority=70,in_port=7,ip actions=resubmit(,60)",
		"table=82,priority=70,reg5=7,tcp,tp_dst=22,nw_src=172.16.166.120 actions=output:7",
	} {
		assert.Contains(t, text, want)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "in_port=7") || strings.Contains(line, "reg5=7") {
			assert.NotContains(t, line, "ct(", line)
		}
	}
}
