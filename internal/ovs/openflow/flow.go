package openflow

import (
	"fmt"
	"slices"
	"strings"
)

// Flow is one OpenFlow flow as data. Match and Actions are ovs-ofctl text,
// normally produced by the Match and Actions builders.
type Flow struct {
	Table    uint8
	Priority uint16
	// Cookie: a Bridge keeps the low 32 bits (Cookie.Feature) and sets the
	// owner and round bits itself; the high bits given here must be zero.
	Cookie      uint64
	Match       string // e.g. "in_port=3,dl_vlan=1"; "" matches everything
	Actions     string // e.g. "strip_vlan,output:3"; "" means drop
	IdleTimeout uint16
	HardTimeout uint16
}

// String renders the flow as an ovs-ofctl flow line (add-flow syntax).
func (f Flow) String() string { return f.render("") }

// addLine renders the flow as a bundle's "add" line, in one allocation.
func (f Flow) addLine() string { return f.render("add ") }

func (f Flow) render(prefix string) string {
	var b strings.Builder
	b.Grow(len(prefix) + 64 + len(f.Match) + len(f.Actions))
	b.WriteString(prefix)
	fmt.Fprintf(&b, "table=%d,priority=%d,cookie=%#x", f.Table, f.Priority, f.Cookie)
	if f.IdleTimeout != 0 {
		fmt.Fprintf(&b, ",idle_timeout=%d", f.IdleTimeout)
	}
	if f.HardTimeout != 0 {
		fmt.Fprintf(&b, ",hard_timeout=%d", f.HardTimeout)
	}
	if f.Match != "" {
		b.WriteString(",")
		b.WriteString(f.Match)
	}
	act := f.Actions
	if act == "" {
		act = "drop"
	}
	b.WriteString(",actions=")
	b.WriteString(act)
	return b.String()
}

// flowKey identifies a flow the way OpenFlow does for strict operations:
// table, priority and match. Match fields are sorted so that the same match
// written in another order is the same key (ovs-ofctl accepts fields in any
// order).
type flowKey struct {
	table    uint8
	priority uint16
	match    string
}

// canonical reports whether a match's fields are already sorted and
// distinct, as key would make them.
func canonical(match string) bool {
	prev, rest, more := "", match, true
	for i := 0; more; i++ {
		var field string
		field, rest, more = strings.Cut(rest, ",")
		if i > 0 && field <= prev {
			return false
		}
		prev = field
	}
	return true
}

func (f Flow) key() flowKey {
	if canonical(f.Match) {
		// The usual case (vland's pipeline writes matches sorted): no copy.
		return flowKey{f.Table, f.Priority, f.Match}
	}
	fields := strings.Split(f.Match, ",")
	slices.Sort(fields)
	return flowKey{f.Table, f.Priority, strings.Join(slices.Compact(fields), ",")}
}

// strictSpec renders the match part of a delete_strict line, restricted to
// flows carrying cookie exactly in its owner and round bits.
func (k flowKey) strictSpec(cookie uint64) string {
	s := fmt.Sprintf("table=%d,priority=%d,cookie=%#x/%#x", k.table, k.priority, cookie&^FeatureMask, OwnerMask|RoundMask)
	if k.match != "" {
		s += "," + k.match
	}
	return s
}
