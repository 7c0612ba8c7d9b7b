package pipeline

import (
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"

	"github.com/vland/vland/internal/hoststate"
)

// The stateful firewall of security groups, in the shape of Neutron's
// openvswitch firewall driver (conntrack in br-int, no hybrid bridges).
// A filtered port (port security on, not network:*) leaves table 25 with
// reg6 = its network's local VLAN, which is also the conntrack zone (one
// per network on the host), into 71 (base egress: ARP, DHCP client and
// neighbour discovery pass; DHCP and RA servers drop; IP goes through
// ct) and 72 (egress rules: established and related pass, invalid drops,
// new connections must match one of the port's egress rules and are
// committed). Accepted traffic continues to 60, where unicast to a
// filtered port of this host (from a local port, reg6 set, or from a
// tunnel or provider patch, dl_vlan set) is steered to 81/82, the ingress
// side of the same design with reg5 = the destination ofport, and output
// there; everything else is switched by NORMAL. Trusted ports load reg6
// in table 0 so their unicast to filtered ports is steered too.
//
// Rules are shared, not per port: a filtered port's frames carry its
// group set in reg7 (loaded in table 0 for egress, in 60 for ingress), and
// every rule is a conjunction of the set's membership (one flow per group
// set), the group's rule matches (one flow each) and, for a remote group,
// its members' addresses (one flow each), so flows grow with group sets +
// rules + members, not with ports or any product. Conjunction ids are per
// (group, remote group or none, direction, ethertype).

// Registers of the firewall.
const (
	regPort = "NXM_NX_REG5[]"      // ingress: the destination ofport
	regZone = "NXM_NX_REG6[]"      // the network's local VLAN = conntrack zone
	regSet  = "NXM_NX_REG7[]"      // the group set of the port whose rules apply
	zoneArg = "NXM_NX_REG6[0..15]" // as a ct() zone
)

// Priorities in the rule tables. Replies, related packets, invalid and
// revoked connections are decided above the rules; what reaches the rules
// is a new connection or a packet of an established one in its original
// direction, so that a rule's removal also ends the connections it
// allowed: their next packet falls to prioRevoke, which marks the
// connection (ct_mark=1) and drops it, and prioInvalid then drops every
// later packet of it, both ways (Neutron does the same).
const (
	prioInvalid = 90
	prioTracked = 80
	prioConj    = 71
	prioRule    = 70
	prioHold    = 50
	prioRevoke  = 40
)

// ctMarkRevoked marks a connection no rule allows any more.
const ctMarkRevoked = "ct_mark=0x1"

// filteredPort reports whether a port goes through the firewall.
func filteredPort(p hoststate.Port) bool { return p.Filtered && !Trusted(p) }

// firewallBaseFlows are the port-independent flows of tables 71, 72, 81
// and 82.
func firewallBaseFlows() []Flow {
	o := OwnerFirewall
	var out []Flow
	pass := func(t Table, prio uint16, to string, match ...string) {
		out = append(out, on(t, o).prio(prio).match(match...).do(to))
	}
	toSwitch, toPort := resubmit(IntTransient), "output:"+regPort
	// A port with port security but no firewall (reg7 = 0: no group set)
	// leaves the anti-spoofing tables here too.
	pass(IntBaseEgress, 110, toSwitch, "reg7=0")
	// Base egress (71): what a host needs before or besides its rules.
	pass(IntBaseEgress, 100, toSwitch, "arp")
	pass(IntBaseEgress, 100, toSwitch, "udp", "tp_src=68", "tp_dst=67")
	pass(IntBaseEgress, 100, toSwitch, "udp6", "tp_src=546", "tp_dst=547")
	for _, typ := range []int{130, 131, 132, 133, 135, 136, 143} {
		pass(IntBaseEgress, 100, toSwitch, "icmp6", sprintf("icmp_type=%d", typ))
	}
	pass(IntBaseEgress, 95, actDrop, "udp", "tp_src=67", "tp_dst=68")    // no DHCP server
	pass(IntBaseEgress, 95, actDrop, "udp6", "tp_src=547", "tp_dst=546") // nor DHCPv6
	pass(IntBaseEgress, 95, actDrop, "icmp6", "icmp_type=134")           // nor router advertisements
	for _, proto := range []string{"ip", "ipv6"} {
		pass(IntBaseEgress, 90, sprintf("ct(table=%d,zone=%s)", IntRulesEgress.ID, zoneArg), proto)
		pass(IntBaseIngress, 90, sprintf("ct(table=%d,zone=%s)", IntRulesIngress.ID, zoneArg), proto)
	}
	// Base ingress (81).
	pass(IntBaseIngress, 100, toPort, "arp")
	pass(IntBaseIngress, 100, toPort, "udp", "tp_src=67", "tp_dst=68")
	pass(IntBaseIngress, 100, toPort, "udp6", "tp_src=547", "tp_dst=546")
	for _, typ := range []int{130, 131, 132, 134, 135, 136, 143} {
		pass(IntBaseIngress, 100, toPort, "icmp6", sprintf("icmp_type=%d", typ))
	}
	// Rules tables: invalid and revoked drop, replies and related pass,
	// established packets no rule allows any more revoke their connection.
	for _, t := range []struct {
		table Table
		to    string
	}{{IntRulesEgress, toSwitch}, {IntRulesIngress, toPort}} {
		pass(t.table, prioInvalid, actDrop, "ct_state=+inv+trk")
		pass(t.table, prioInvalid, actDrop, ctMarkRevoked, "ct_state=+trk")
		pass(t.table, prioTracked, t.to, "ct_state=+est+rpl-inv+trk")
		pass(t.table, prioTracked, t.to, "ct_state=+rel-inv+trk")
		// ct(commit) without a table ends the packet's pipeline: dropped.
		// ct() needs an IP match.
		for _, proto := range []string{"ip", "ipv6"} {
			pass(t.table, prioRevoke, sprintf("ct(commit,zone=%s,exec(load:0x1->NXM_NX_CT_MARK[]))", zoneArg),
				"ct_state=+est-rel-rpl-inv+trk", proto)
		}
	}
	return out
}

// firewallPortFlows are a filtered port's own flows: its steering in 60,
// which loads the destination (reg5) and its group set (reg7) for the
// ingress tables, and hold flows while one of its groups is unknown. Its
// rules are its group set's (firewallSetFlows).
func firewallPortFlows(s hoststate.State, p hoststate.Port, of, lv int, set uint32, fc *flowCollector) {
	deliverFlows(p, of, lv, set, fc)
	for _, gid := range p.SecurityGroups {
		if _, ok := s.SecurityGroups[gid]; !ok {
			// A group the state does not know yet (or any more) is a
			// transient gap, not a decision to deny: revoking is for good,
			// so hold the port's established connections (no new ones)
			// until the group is known and its rules decide again.
			holdFlows(p, of, fc)
			return
		}
	}
}

// firewallSetFlows are the rules of every group set of this host's
// filtered ports, as conjunctions, one per (group, remote group,
// direction, ethertype): clause 1 is one flow per match of the group's
// rules of that kind, clause 2 one flow per group set holding the group
// (reg7), and for a remote group clause 3 one flow per member address. A
// port's rules therefore cost no flow of its own: its group set's flows
// and the groups' rule flows are shared by every port with those groups.
func firewallSetFlows(s hoststate.State, sets *groupSets, fc *flowCollector, conj *conjIDs) {
	o := OwnerFirewall
	for _, set := range sets.sorted() {
		id := sets.ids[set.key]
		if set.stateless {
			// No conntrack: IP goes straight to the rules, which must then
			// allow replies too (Neutron's stateless groups).
			for _, proto := range []string{"ip", "ipv6"} {
				fc.add(on(IntBaseEgress, o).prio(91).match(proto, sprintf("reg7=%#x", id)).do(resubmit(IntRulesEgress)))
				fc.add(on(IntBaseIngress, o).prio(91).match(proto, sprintf("reg7=%#x", id)).do(resubmit(IntRulesIngress)))
			}
		}
		for _, gid := range set.groups {
			g, ok := s.SecurityGroups[gid]
			if !ok {
				continue
			}
			for _, k := range groupConjKeys(gid, g, set.stateless) {
				rules, members := conjClauses(s, g, k)
				if len(rules) == 0 || (k.remote != "" && len(members) == 0) {
					continue // a clause without flows: the conjunction never matches
				}
				cid := conj.id(k)
				n := 2
				if k.remote != "" {
					n = 3
				}
				t := IntRulesEgress
				if k.ingress {
					t = IntRulesIngress
				}
				for _, m := range rules {
					fc.add(on(t, o).prio(prioConj).match(m).do(sprintf("conjunction(%d,1/%d)", cid, n)))
				}
				fc.add(on(t, o).prio(prioConj).match(sprintf("reg7=%#x", id)).do(sprintf("conjunction(%d,2/%d)", cid, n)))
				for _, m := range members {
					fc.add(on(t, o).prio(prioConj).match(m).do(sprintf("conjunction(%d,3/3)", cid)))
				}
			}
		}
	}
	firewallAcceptFlows(fc, conj)
}

// groupConjKeys are the conjunctions of a group's rules, sorted.
func groupConjKeys(gid string, g hoststate.SecurityGroup, stateless bool) []conjKey {
	var out []conjKey
	for _, r := range g.Rules {
		k := conjKey{group: gid, remote: r.RemoteGroup, ingress: r.Ingress, ipv6: r.IPv6, stateless: stateless}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].less(out[j]) })
	return out
}

// conjClauses are the matches of a conjunction's rule clause (the
// group's rules of that kind) and, for a remote group, of its member
// clause (the remote group's addresses of that family).
func conjClauses(s hoststate.State, g hoststate.SecurityGroup, k conjKey) (rules, members []string) {
	for _, r := range g.Rules {
		if r.RemoteGroup == k.remote && r.Ingress == k.ingress && r.IPv6 == k.ipv6 {
			for _, m := range ruleMatches(r) {
				if !slices.Contains(rules, m) {
					rules = append(rules, m)
				}
			}
		}
	}
	if k.remote == "" {
		return rules, nil
	}
	proto, field := "ip", "nw_dst"
	if k.ingress {
		field = "nw_src"
	}
	if k.ipv6 {
		proto, field = "ipv6", "ipv6_"+strings.TrimPrefix(field, "nw_")
	}
	for _, pfx := range s.GroupMembers[k.remote] {
		if pfx.Addr().Is4() != k.ipv6 {
			members = append(members, proto+","+field+"="+prefixText(pfx))
		}
	}
	return rules, members
}

// firewallAcceptFlows accept what a conjunction matched: commit (unless
// stateless) and pass on, to switching (72) or to the port in reg5 (82).
func firewallAcceptFlows(fc *flowCollector, conj *conjIDs) {
	for _, k := range conj.sorted() {
		t, accept := IntRulesEgress, []string{sprintf("ct(commit,zone=%s)", zoneArg), resubmit(IntTransient)}
		if k.ingress {
			t, accept = IntRulesIngress, []string{sprintf("ct(commit,zone=%s)", zoneArg), "output:" + regPort}
		}
		if k.stateless {
			accept = accept[1:]
		}
		proto := "ip"
		if k.ipv6 {
			proto = "ipv6"
		}
		fc.add(on(t, OwnerFirewall).prio(prioConj).match(sprintf("conj_id=%d", conj.ids[k]), proto).do(accept...))
	}
}

// holdFlows let a port's established connections go on, in their
// original direction, above prioRevoke (a stateless port's packets are
// untracked and never match them).
func holdFlows(p hoststate.Port, of int, fc *flowCollector) {
	est := "ct_state=+est-rel-rpl-inv+trk"
	fc.add(on(IntRulesEgress, OwnerFirewall).prio(prioHold).match(est, inPort(of)).do(resubmit(IntTransient)))
	fc.add(on(IntRulesIngress, OwnerFirewall).prio(prioHold).match(est, sprintf("reg5=%d", of)).do(output(of)))
}

// learnRemote is what frames from a tunnel or provider patch steered to a
// local port teach table 60: their source MAC lives behind the port they
// came in on (with their local VLAN tag). NORMAL would have learned it; the
// steering bypasses NORMAL, so without this, local unicast to remote VMs
// would flood. Learned flows carry LearnedCookie: reconciling never
// touches them, they time out.
const learnRemote = "learn(table=60,hard_timeout=300,priority=50,cookie=%#x," +
	"NXM_NX_REG6[0..11]=NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[]," +
	"load:NXM_OF_VLAN_TCI[]->NXM_OF_VLAN_TCI[],output:OXM_OF_IN_PORT[])"

// deliverFlows steer unicast to a port of this host from 60, past
// NORMAL, one flow per MAC of the port: from a local port (reg6 = the
// local VLAN, loaded in table 0) or from a patch (reg6 = its tag, with
// the patch bit). Table 61 then learns and strips what came from a patch
// and hands the frame to the port's ingress firewall, or, for an
// unfiltered port (group set 0), outputs it. Frames steered past NORMAL
// do not teach it the MACs of this host's ports, and NORMAL would flood
// what it does not know (to other hosts too), so every local port needs
// these flows.
func deliverFlows(p hoststate.Port, of, lv int, set uint32, fc *flowCollector) {
	for _, mac := range portMACs(p) {
		fc.add(on(IntTransient, OwnerFirewall).prio(90).match(sprintf("reg6=%d/0xfff", lv), "dl_dst="+mac).
			do(sprintf("load:%d->%s", of, regPort), sprintf("load:%#x->%s", set, regSet), resubmit(IntDeliver)))
	}
}

// directFlows deliver to an unfiltered port (group set 0: no firewall).
func directFlows(p hoststate.Port, of, lv int, fc *flowCollector) { deliverFlows(p, of, lv, 0, fc) }

// loadFromPatch marks a frame from br-tun or a provider bridge (reg6 bit
// 16, above the conntrack zone's 16 bits) for table 61.
const loadFromPatch = "load:1->NXM_NX_REG6[16]"

// deliverBaseFlows are table 61: frames from a patch learn where their
// source lives and lose their tag; then unfiltered ports get them
// directly, filtered ones through 81 (the table's miss).
func deliverBaseFlows() []Flow {
	// Frames from a patch are tagged; OpenFlow 1.5 needs the match to say
	// so for strip_vlan and for learning from the tag.
	o, patch := OwnerFirewall, "reg6=0x10000/0x10000,vlan_tci=0x1000/0x1000"
	learn := sprintf(learnRemote, LearnedCookie)
	return []Flow{
		on(IntDeliver, o).prio(20).match(patch, "reg7=0").do(learn, "strip_vlan", "output:"+regPort),
		on(IntDeliver, o).prio(10).match(patch).do(learn, "strip_vlan", resubmit(IntBaseIngress)),
		on(IntDeliver, o).prio(5).match("reg7=0").do("output:" + regPort),
	}
}

// statelessPort reports whether a port's groups are all stateless (Neutron
// refuses ports in both kinds).
func statelessPort(s hoststate.State, p hoststate.Port) bool {
	n := 0
	for _, id := range p.SecurityGroups {
		g, ok := s.SecurityGroups[id]
		if !ok {
			continue
		}
		if !g.Stateless {
			return false
		}
		n++
	}
	return n > 0
}

// conjKey is what one conjunction id stands for: a group's rules of one
// direction and ethertype, with one remote group or none, in ports whose
// groups are all stateless (accepted without commit) or not.
type conjKey struct {
	group, remote string
	ingress, ipv6 bool
	stateless     bool
}

func (k conjKey) less(o conjKey) bool {
	if k.group != o.group {
		return k.group < o.group
	}
	if k.remote != o.remote {
		return k.remote < o.remote
	}
	if k.ingress != o.ingress {
		return !k.ingress
	}
	if k.ipv6 != o.ipv6 {
		return !k.ipv6
	}
	return !k.stateless && o.stateless
}

// conjIDs are the conjunction ids of a state. An id must not change when
// other rules, groups or ports come and go: a renumbered conjunction
// rewrites the flows of every rule using it, on every host, at each
// change, so a change meant for one rule touches established connections'
// flows too (only OVS's atomic bundles keep that from revoking them).
// So an id is a hash of its key, the same on every host and in every
// state; the rare collisions are settled by probing in sorted key order,
// which only moves the ids of colliding keys (Neutron keeps its conj ids
// stable too).
type conjIDs struct {
	ids  map[conjKey]uint32
	used map[conjKey]bool
}

// newConjIDs numbers every conjunction of the state's groups, in either
// kind (stateful or stateless ports), used by a port of this host or not.
func newConjIDs(s hoststate.State) *conjIDs {
	var keys []conjKey
	for gid, g := range s.SecurityGroups {
		for _, stateless := range []bool{false, true} {
			keys = append(keys, groupConjKeys(gid, g, stateless)...)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	hashes := make([]uint32, len(keys))
	for i, k := range keys {
		hashes[i] = conjHash(k)
	}
	c := &conjIDs{ids: map[conjKey]uint32{}, used: map[conjKey]bool{}}
	for i, id := range probeIDs(hashes) {
		c.ids[keys[i]] = id
	}
	return c
}

// probeIDs settles collisions of preferred ids (1..conjIDMax) by taking
// the next free one, in the given order.
func probeIDs(preferred []uint32) []uint32 {
	taken := map[uint32]bool{}
	out := make([]uint32, len(preferred))
	for i, id := range preferred {
		for taken[id] {
			id = id%conjIDMax + 1
		}
		taken[id] = true
		out[i] = id
	}
	return out
}

// conjIDMax bounds ids to 31 bits (OpenFlow's conj_id is 32 bits; keep
// clear of the top bit for readability in dumps).
const conjIDMax = 1<<31 - 1

// conjHash is a key's preferred id, in 1..conjIDMax.
func conjHash(k conjKey) uint32 {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s\x00%s\x00%t\x00%t", k.group, k.remote, k.ingress, k.ipv6)
	if k.stateless {
		h.Write([]byte("\x00stateless"))
	}
	return h.Sum32()%conjIDMax + 1
}

// id returns the id of a conjunction and marks it used (its accept flows
// are then emitted).
func (c *conjIDs) id(k conjKey) uint32 {
	c.used[k] = true
	return c.ids[k]
}

// sorted returns the used keys in key order.
func (c *conjIDs) sorted() []conjKey {
	ks := make([]conjKey, 0, len(c.used))
	for k := range c.used {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].less(ks[j]) })
	return ks
}

// flowCollector merges flows of equal table, priority and match: two rules
// may give the same match (their conjunction actions then add up), and
// identical plain flows are kept once.
type flowCollector struct {
	order []string
	flows map[string]*Flow
}

func newFlowCollector() *flowCollector { return &flowCollector{flows: map[string]*Flow{}} }

func (fc *flowCollector) add(f Flow) {
	k := sprintf("%d/%d/%s", f.Table, f.Priority, f.Match)
	have, ok := fc.flows[k]
	if !ok {
		fc.flows[k] = &f
		fc.order = append(fc.order, k)
		return
	}
	if strings.HasPrefix(f.Actions, "conjunction(") {
		// Conjunction actions have commas inside: split after each ")".
		acts := strings.SplitAfter(have.Actions, "),")
		for i := range acts {
			acts[i] = strings.TrimSuffix(acts[i], ",")
		}
		if !slices.Contains(acts, f.Actions) {
			acts = append(acts, f.Actions)
			sort.Strings(acts)
			have.Actions = strings.Join(acts, ",")
		}
	}
}

func (fc *flowCollector) list() []Flow {
	out := make([]Flow, 0, len(fc.order))
	for _, k := range fc.order {
		out = append(out, *fc.flows[k])
	}
	return out
}

// ruleMatches are the OpenFlow matches of a rule's protocol, ports and
// remote prefix (several when a port range needs several masks).
func ruleMatches(r hoststate.Rule) []string {
	proto := "ip"
	if r.IPv6 {
		proto = "ipv6"
	}
	var ports []string
	switch r.Protocol {
	case -1:
	case 6, 17, 132:
		proto = map[int]string{6: "tcp", 17: "udp", 132: "sctp"}[r.Protocol]
		if r.IPv6 {
			proto += "6"
		}
		if r.PortMin >= 0 && r.PortMax >= 0 {
			for _, m := range rangeMasks(r.PortMin, r.PortMax) {
				ports = append(ports, "tp_dst="+m)
			}
		}
	case 1, 58:
		proto = "icmp"
		if r.IPv6 {
			proto = "icmp6"
		}
		var tc []string
		if r.PortMin >= 0 {
			tc = append(tc, sprintf("icmp_type=%d", r.PortMin))
		}
		if r.PortMax >= 0 {
			tc = append(tc, sprintf("icmp_code=%d", r.PortMax))
		}
		if len(tc) > 0 {
			ports = []string{strings.Join(tc, ",")}
		}
	default:
		proto += sprintf(",nw_proto=%d", r.Protocol)
	}
	if r.RemotePrefix.IsValid() {
		if r.RemotePrefix.Addr().Is4() == r.IPv6 {
			return nil // a prefix of the other family matches nothing
		}
		if r.RemotePrefix.Bits() > 0 {
			field := "nw_dst"
			if r.Ingress {
				field = "nw_src"
			}
			if r.IPv6 {
				field = "ipv6_" + strings.TrimPrefix(field, "nw_")
			}
			proto += "," + field + "=" + prefixText(r.RemotePrefix.Masked())
		}
	}
	if len(ports) == 0 {
		return []string{proto}
	}
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = proto + "," + p
	}
	return out
}

// rangeMasks covers [lo, hi] of 16-bit ports with value/mask pairs.
func rangeMasks(lo, hi int) []string {
	if lo <= 0 && hi >= 0xffff {
		return nil
	}
	var out []string
	for lo <= hi {
		size := 1
		for lo%(size*2) == 0 && lo+size*2-1 <= hi && size < 0x10000 {
			size *= 2
		}
		if size == 1 {
			out = append(out, sprintf("%d", lo))
		} else {
			out = append(out, sprintf("%#x/%#x", lo, 0xffff&^(size-1)))
		}
		lo += size
	}
	return out
}
