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
// A rule with a remote group uses conjunctive flows: one flow per address
// of the remote group's members (clause 1) and one per (port, rule)
// (clause 2), so flows grow with members + rules, not their product.
// Conjunction ids are per (group, remote group, direction, ethertype).

// Registers of the firewall.
const (
	regPort = "NXM_NX_REG5[]"      // ingress: the destination ofport
	regZone = "NXM_NX_REG6[]"      // the network's local VLAN = conntrack zone
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

// egressNext is where table 25 sends a port's accepted frames.
func egressNext(p hoststate.Port, lv int) string {
	if !filteredPort(p) {
		// reg6 still lets 60 steer its unicast to filtered ports.
		return fmt.Sprintf("load:%d->%s,%s", lv, regZone, resubmit(IntTransient))
	}
	return fmt.Sprintf("load:%d->%s,%s", lv, regZone, resubmit(IntBaseEgress))
}

// firewallBaseFlows are the port-independent flows of tables 71, 72, 81
// and 82.
func firewallBaseFlows() []Flow {
	o := OwnerFirewall
	var out []Flow
	pass := func(t Table, prio uint16, to string, match ...string) {
		out = append(out, on(t, o).prio(prio).match(match...).do(to))
	}
	toSwitch, toPort := resubmit(IntTransient), "output:"+regPort
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

// firewallPortFlows are a filtered port's steering flows in 60 and its
// rules in 72 and 82.
func firewallPortFlows(s hoststate.State, p hoststate.Port, of, lv int, fc *flowCollector, conj *conjIDs) {
	o := OwnerFirewall
	for _, mac := range portMACs(p) {
		fc.add(on(IntTransient, o).prio(90).match(sprintf("reg6=%d", lv), "dl_dst="+mac).
			do(sprintf("load:%d->%s", of, regPort), resubmit(IntBaseIngress)))
		fc.add(on(IntTransient, o).prio(90).match(dlVLAN(lv), "dl_dst="+mac).
			do(sprintf(learnRemote, LearnedCookie), "strip_vlan", sprintf("load:%d->%s", lv, regZone), sprintf("load:%d->%s", of, regPort), resubmit(IntBaseIngress)))
	}
	stateless := statelessPort(s, p)
	if stateless {
		// No conntrack: IP goes straight to the rules, which must then
		// allow replies too (Neutron's stateless groups).
		for _, proto := range []string{"ip", "ipv6"} {
			fc.add(on(IntBaseEgress, o).prio(91).match(proto, inPort(of)).do(resubmit(IntRulesEgress)))
			fc.add(on(IntBaseIngress, o).prio(91).match(proto, sprintf("reg5=%d", of)).do(resubmit(IntRulesIngress)))
		}
	}
	for _, gid := range p.SecurityGroups {
		g, ok := s.SecurityGroups[gid]
		if !ok {
			// A group the state does not know yet (or any more) is a
			// transient gap, not a decision to deny: revoking is for good,
			// so hold the port's established connections (no new ones)
			// until the group is known and its rules decide again.
			holdFlows(p, of, fc)
			continue
		}
		for _, r := range g.Rules {
			t, self := IntRulesEgress, inPort(of)
			accept := []string{sprintf("ct(commit,zone=%s)", zoneArg), resubmit(IntTransient)}
			if r.Ingress {
				t, self = IntRulesIngress, sprintf("reg5=%d", of)
				accept = []string{sprintf("ct(commit,zone=%s)", zoneArg), sprintf("output:%d", of)}
			}
			if stateless {
				accept = accept[1:]
			}
			for _, m := range ruleMatches(r) {
				if r.RemoteGroup == "" {
					fc.add(on(t, o).prio(prioRule).match(self, m).do(accept...))
					continue
				}
				if stateless {
					// Conjunction accepts commit; a stateless port expands
					// its remote group rules instead.
					for _, pfx := range s.GroupMembers[r.RemoteGroup] {
						if pfx.Addr().Is4() == r.IPv6 {
							continue
						}
						field := "nw_dst"
						if r.Ingress {
							field = "nw_src"
						}
						if r.IPv6 {
							field = "ipv6_" + strings.TrimPrefix(field, "nw_")
						}
						fc.add(on(t, o).prio(prioRule).match(self, m, field+"="+prefixText(pfx)).do(accept...))
					}
					continue
				}
				id := conj.id(gid, r)
				fc.add(on(t, o).prio(prioConj).match(self, m).do(sprintf("conjunction(%d,2/2)", id)))
			}
		}
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

// directFlows deliver unicast to an unfiltered port of this host
// straight from 60, like the steering of filtered ports: frames steered
// past NORMAL do not teach it the MACs of this host's ports, and NORMAL
// would flood what it does not know (to other hosts too).
func directFlows(p hoststate.Port, of, lv int, fc *flowCollector) {
	o := OwnerFirewall
	for _, mac := range portMACs(p) {
		fc.add(on(IntTransient, o).prio(90).match(sprintf("reg6=%d", lv), "dl_dst="+mac).do(output(of)))
		fc.add(on(IntTransient, o).prio(90).match(dlVLAN(lv), "dl_dst="+mac).do(sprintf(learnRemote, LearnedCookie), "strip_vlan", output(of)))
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

// firewallConjFlows are the remote group clauses and accept flows of every
// conjunction id used.
func firewallConjFlows(s hoststate.State, fc *flowCollector, conj *conjIDs) {
	o := OwnerFirewall
	for _, k := range conj.sorted() {
		id := conj.ids[k]
		t, field, accept := IntRulesEgress, "nw_dst", []string{sprintf("ct(commit,zone=%s)", zoneArg), resubmit(IntTransient)}
		if k.ingress {
			t, field, accept = IntRulesIngress, "nw_src", []string{sprintf("ct(commit,zone=%s)", zoneArg), "output:" + regPort}
		}
		proto := "ip"
		if k.ipv6 {
			proto, field = "ipv6", "ipv6_"+strings.TrimPrefix(field, "nw_")
		}
		fc.add(on(t, o).prio(prioConj).match(sprintf("conj_id=%d", id), proto).do(accept...))
		for _, pfx := range s.GroupMembers[k.remote] {
			if pfx.Addr().Is4() == k.ipv6 {
				continue
			}
			fc.add(on(t, o).prio(prioConj).match(proto, field+"="+prefixText(pfx)).
				do(sprintf("conjunction(%d,1/2)", id)))
		}
	}
}

// conjKey is what one conjunction id stands for.
type conjKey struct {
	group, remote string
	ingress, ipv6 bool
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
	return !k.ipv6 && o.ipv6
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

// newConjIDs numbers every (group, remote group, direction, ethertype) of
// the state's groups, used by a port of this host or not.
func newConjIDs(s hoststate.State) *conjIDs {
	c := &conjIDs{ids: map[conjKey]uint32{}, used: map[conjKey]bool{}}
	var keys []conjKey
	seen := map[conjKey]bool{}
	for gid, g := range s.SecurityGroups {
		for _, r := range g.Rules {
			if r.RemoteGroup == "" {
				continue
			}
			k := conjKey{group: gid, remote: r.RemoteGroup, ingress: r.Ingress, ipv6: r.IPv6}
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	taken := map[uint32]bool{}
	for _, k := range keys {
		id := conjHash(k)
		for taken[id] {
			id = id%conjIDMax + 1
		}
		taken[id] = true
		c.ids[k] = id
	}
	return c
}

// conjIDMax bounds ids to 31 bits (OpenFlow's conj_id is 32 bits; keep
// clear of the top bit for readability in dumps).
const conjIDMax = 1<<31 - 1

// conjHash is a key's preferred id, in 1..conjIDMax.
func conjHash(k conjKey) uint32 {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s\x00%s\x00%t\x00%t", k.group, k.remote, k.ingress, k.ipv6)
	return h.Sum32()%conjIDMax + 1
}

// id returns the conjunction id of a group's remote group rule and marks
// it used (its accept and clause 1 flows are then emitted).
func (c *conjIDs) id(group string, r hoststate.Rule) uint32 {
	k := conjKey{group: group, remote: r.RemoteGroup, ingress: r.Ingress, ipv6: r.IPv6}
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
