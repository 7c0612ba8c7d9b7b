package pipeline

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
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
	base := count(1)
	assert.Equal(t, base+99, count(100), "one flow per member")
	assert.Equal(t, base+999, count(1000))
	// No member of the family: the conjunction cannot match, and neither
	// its accept, rule clause nor group set clause is emitted.
	assert.Less(t, count(0), base-1)
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
// rule clause flow with both conjunctions, and the group set's flow
// (ports a and b) carries every conjunction of its groups.
func TestConjunctionActionsMerge(t *testing.T) {
	s, pm := secGroupState()
	g := s.SecurityGroups["web"]
	g.Rules = append(g.Rules, hoststate.Rule{Ingress: true, Protocol: -1, PortMin: -1, PortMax: -1, RemoteGroup: "other"},
		hoststate.Rule{Ingress: true, Protocol: -1, PortMin: -1, PortMax: -1, RemoteGroup: "third"})
	s.SecurityGroups["web"] = g
	s.GroupMembers["other"] = []netip.Prefix{netip.MustParsePrefix("10.7.0.1/32")}
	s.GroupMembers["third"] = []netip.Prefix{netip.MustParsePrefix("10.7.0.2/32")}
	conj := newConjIDs(s)
	var want, wantSet []string
	for _, remote := range []string{"admin", "other", "third"} {
		id := conj.ids[conjKey{group: "web", remote: remote, ingress: true}]
		want = append(want, fmt.Sprintf("conjunction(%d,1/3)", id))
		wantSet = append(wantSet, fmt.Sprintf("conjunction(%d,2/3)", id))
	}
	wantSet = append(wantSet, fmt.Sprintf("conjunction(%d,2/2)", conj.ids[conjKey{group: "web", ingress: true}]))
	sort.Strings(want)
	sort.Strings(wantSet)
	set := fmt.Sprintf("reg7=%#x", newGroupSets(s, pm).id(s.Ports["port-a"]))
	found := 0
	for _, f := range Build(s, pm).Int {
		if f.Table != IntRulesIngress.ID {
			continue
		}
		switch f.Match {
		case "ip":
			found++
			assert.Equal(t, strings.Join(want, ","), f.Actions)
		case set:
			found++
			assert.Equal(t, strings.Join(wantSet, ","), f.Actions)
		}
	}
	assert.Equal(t, 2, found)
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
// group), 1,000 remote members. Rules shared per group set keep it near
// rules + members + 2 per port, far from ports x rules (before) and from
// the product of rules and members.
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
	// Per port: 2 steering; per group: 100 rule flows, 2 group set
	// flows, 4 accepts (plain and remote, each direction); per remote
	// group: 100 member flows per direction; plus the static base. Before
	// group sets, every port had its own 100 rule flows (14,500 here).
	assert.Less(t, fw, 100*2+10*(100+2+4)+10*2*100+100)
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
	set := fmt.Sprintf("reg7=%#x", newGroupSets(s, pm).id(s.Ports["port-c"]))
	conj := newConjIDs(s)
	egress := conj.ids[conjKey{group: "admin", stateless: true}]
	remote := conj.ids[conjKey{group: "admin", remote: "admin", ingress: true, stateless: true}]
	for _, want := range []string{
		"table=71,priority=91,ip," + set + " actions=resubmit(,72)",
		"table=81,priority=91,ip," + set + " actions=resubmit(,82)",
		fmt.Sprintf("table=72,priority=71,%s actions=conjunction(%d,2/2)", set, egress),
		fmt.Sprintf("table=72,priority=71,conj_id=%d,ip actions=resubmit(,60)", egress),
		fmt.Sprintf("table=82,priority=71,%s actions=conjunction(%d,2/3)", set, remote),
		fmt.Sprintf("table=82,priority=71,conj_id=%d,ip actions=output:NXM_NX_REG5[]", remote),
		fmt.Sprintf("table=82,priority=71,tcp,tp_dst=22 actions=conjunction(%d,1/3)", remote),
	} {
		assert.Contains(t, text, want)
	}
	// The stateful ports (a, b: group web) still commit.
	assert.Contains(t, text, fmt.Sprintf("table=72,priority=71,conj_id=%d,ip actions=ct(commit", conj.ids[conjKey{group: "web"}]))
}

// flowChanges compares two flow sets as the data plane does (by table,
// priority and match): flows added, removed, and whose actions changed.
func flowChanges(before, after []Flow) (added, removed, changed []Flow) {
	key := func(f Flow) string { return fmt.Sprintf("%d/%d/%s", f.Table, f.Priority, f.Match) }
	old := map[string]Flow{}
	for _, f := range before {
		old[key(f)] = f
	}
	seen := map[string]bool{}
	for _, f := range after {
		seen[key(f)] = true
		o, ok := old[key(f)]
		switch {
		case !ok:
			added = append(added, f)
		case o.Actions != f.Actions:
			changed = append(changed, f)
		}
	}
	for _, f := range before {
		if !seen[key(f)] {
			removed = append(removed, f)
		}
	}
	return added, removed, changed
}

// onlyAppended reports whether a changed flow kept every action it had: a
// clause flow shared with a new conjunction gains its action, nothing else.
func onlyAppended(t *testing.T, before []Flow, changed []Flow) {
	t.Helper()
	old := map[string]string{}
	for _, f := range before {
		old[fmt.Sprintf("%d/%d/%s", f.Table, f.Priority, f.Match)] = f.Actions
	}
	for _, f := range changed {
		was := old[fmt.Sprintf("%d/%d/%s", f.Table, f.Priority, f.Match)]
		assert.True(t, strings.HasPrefix(f.Actions, "conjunction("), "changed flow %s", f)
		for _, a := range strings.SplitAfter(was, "),") {
			assert.Contains(t, f.Actions, strings.TrimSuffix(a, ","), "%s lost an action it had (%s)", f, was)
		}
	}
}

// Conjunction ids do not depend on which other groups, rules and ports
// exist: adding a group with a remote-group rule and a port in it (whose
// conjunction is met before the others) adds that port's and rule's flows
// and changes no existing flow but to append a conjunction to a shared
// clause flow. Renumbered ids used to rewrite every conjunction flow on
// each change, and established connections could be revoked meanwhile.
func TestConjunctionIDsStable(t *testing.T) {
	s, pm := secGroupState()
	before := Build(s, pm).Int
	s.SecurityGroups["aaa"] = hoststate.SecurityGroup{ID: "aaa", Rules: []hoststate.Rule{
		{Ingress: true, Protocol: 6, PortMin: 5201, PortMax: 5201, RemoteGroup: "admin"}}}
	s.Ports["port-0"] = hoststate.Port{ID: "port-0", NetworkID: "net-vx", MAC: "fa:16:3e:00:00:0d", IPs: []netip.Addr{netip.MustParseAddr("172.16.166.121")},
		PortSecurity: true, AdminStateUp: true, Filtered: true, SecurityGroups: []string{"aaa", "web"}}
	pm.Ports["port-0"] = 8
	added, removed, changed := flowChanges(before, Build(s, pm).Int)
	assert.Empty(t, removed, "no flow removed")
	onlyAppended(t, before, changed)
	assert.Len(t, changed, 2, "the two admin members' clause flows gain the new conjunction")
	set := fmt.Sprintf("reg7=%#x", newGroupSets(s, pm).id(s.Ports["port-0"]))
	for _, f := range added {
		assert.True(t, strings.Contains(f.Match, "in_port=8") || f.Match == set || f.Match == "tcp,tp_dst=5201" ||
			strings.Contains(f.Match, "fa:16:3e:00:00:0d") || strings.HasPrefix(f.Match, "conj_id="),
			"added flow of the new port, its group set, or the new conjunction: %s", f)
	}
}

// A rule change touches the flows of that rule only: a plain ingress rule
// in "web" (ports a and b) is one rule clause flow, whatever the number
// of ports, as is a remote-group rule of an existing conjunction; a new
// conjunction adds its accept, rule and member flows and appends itself
// to the group set's flow; removing them restores the former set exactly.
func TestRuleChangeTouchesOnlyItsFlows(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule hoststate.Rule
	}{
		{"plain", hoststate.Rule{Ingress: true, Protocol: 17, PortMin: 53, PortMax: 53}},
		{"remote group", hoststate.Rule{Ingress: true, Protocol: 6, PortMin: 443, PortMax: 443, RemoteGroup: "admin"}},
		{"egress remote group", hoststate.Rule{Protocol: 6, PortMin: 443, PortMax: 443, RemoteGroup: "admin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, pm := secGroupState()
			before := Build(s, pm).Int
			g := s.SecurityGroups["web"]
			g.Rules = append(slices.Clone(g.Rules), tc.rule)
			s.SecurityGroups["web"] = g
			after := Build(s, pm).Int
			added, removed, changed := flowChanges(before, after)
			assert.Empty(t, removed)
			if tc.name == "egress remote group" {
				// A new conjunction (web, admin, egress): its accept flow,
				// its rule flow and one flow per admin member; web's group
				// set flow gains the conjunction.
				assert.Len(t, added, 1+1+2, "%v", added)
				onlyAppended(t, before, changed)
				assert.Len(t, changed, 1, "%v", changed)
			} else {
				assert.Len(t, added, 1, "one rule flow, shared by the group's ports: %v", added)
				assert.Empty(t, changed)
			}
			g.Rules = g.Rules[:len(g.Rules)-1]
			s.SecurityGroups["web"] = g
			added, _, _ = flowChanges(after, Build(s, pm).Int)
			assert.Empty(t, added)
			assert.Equal(t, Text(before), Text(Build(s, pm).Int))
			_ = removed
		})
	}
}

// A port whose group the state does not know (a transient gap) keeps its
// established connections: hold flows above the revoke flow, and no rule
// admits new ones. Once the group is known, the hold flows go.
func TestUnknownGroupHoldsEstablished(t *testing.T) {
	s, pm := secGroupState()
	hold := func(fs []Flow) []string {
		var out []string
		for _, f := range fs {
			if f.Priority == prioHold {
				out = append(out, f.String())
			}
		}
		return out
	}
	assert.Empty(t, hold(Build(s, pm).Int))
	c := s.Ports["port-c"]
	c.SecurityGroups = []string{"admin", "unknown"}
	s.Ports["port-c"] = c
	assert.Equal(t, []string{
		"table=72,priority=50,ct_state=+est-rel-rpl-inv+trk,in_port=7 actions=resubmit(,60)",
		"table=82,priority=50,ct_state=+est-rel-rpl-inv+trk,reg5=7 actions=output:7",
	}, hold(Build(s, pm).Int))
	delete(s.SecurityGroups, "admin")
	for _, f := range Build(s, pm).Int {
		if strings.Contains(f.Match, "in_port=7") && f.Table == IntRulesEgress.ID {
			assert.Equal(t, prioHold, int(f.Priority), "only the hold flow: no rule of an unknown group: %s", f)
		}
	}
}

// A port joining a remote group (on another host: a new member address)
// adds one clause flow per conjunction naming the group, and nothing else.
func TestGroupMemberTouchesOnlyItsFlows(t *testing.T) {
	s, pm := secGroupState()
	before := Build(s, pm).Int
	s.GroupMembers["admin"] = append(slices.Clone(s.GroupMembers["admin"]), netip.MustParsePrefix("10.1.2.3/32"))
	added, removed, changed := flowChanges(before, Build(s, pm).Int)
	assert.Empty(t, removed)
	assert.Empty(t, changed)
	if assert.Len(t, added, 1, "one clause flow (web's ingress conjunction from admin)") {
		assert.Equal(t, "ip,nw_src=10.1.2.3", added[0].Match)
	}
}
