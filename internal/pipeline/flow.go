package pipeline

import (
	"fmt"
	"sort"
	"strings"
)

// Flow is one flow of the pipeline, independent of the flow round: the data
// plane turns Owner into a full cookie (owner + round) when it installs it.
// Match and Actions are in ovs-ofctl syntax.
type Flow struct {
	Table    uint8
	Priority uint16
	Owner    Owner
	Match    string // "" matches everything
	Actions  string
}

// String renders the flow as ovs-ofctl add-flow text, without the cookie.
func (f Flow) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "table=%d,priority=%d", f.Table, f.Priority)
	if f.Match != "" {
		b.WriteString("," + f.Match)
	}
	b.WriteString(" actions=" + f.Actions)
	return b.String()
}

// flowBuilder builds one flow fluently: on(table).prio(10).match(...).do(...).
type flowBuilder struct{ f Flow }

func on(t Table, owner Owner) *flowBuilder {
	return &flowBuilder{f: Flow{Table: t.ID, Owner: owner}}
}

func (b *flowBuilder) prio(p uint16) *flowBuilder { b.f.Priority = p; return b }

// match appends match fields, dropping empty ones.
func (b *flowBuilder) match(fields ...string) *flowBuilder {
	for _, m := range fields {
		if m == "" {
			continue
		}
		if b.f.Match != "" {
			b.f.Match += ","
		}
		b.f.Match += m
	}
	return b
}

// do sets the actions, comma separated in order.
func (b *flowBuilder) do(actions ...string) Flow {
	b.f.Actions = strings.Join(actions, ",")
	return b.f
}

// Actions and matches shared by several features.
func resubmit(t Table) string  { return fmt.Sprintf("resubmit(,%d)", t.ID) }
func inPort(ofport int) string { return fmt.Sprintf("in_port=%d", ofport) }
func output(ofport int) string { return fmt.Sprintf("output:%d", ofport) }
func dlVLAN(vlan int) string   { return fmt.Sprintf("dl_vlan=%d", vlan) }
func tunID(seg int) string     { return fmt.Sprintf("tun_id=%#x", seg) }
func modVLAN(vlan int) string  { return fmt.Sprintf("mod_vlan_vid:%d", vlan) }
func loadTunID(seg int) string { return fmt.Sprintf("load:%#x->NXM_NX_TUN_ID[]", seg) }

const (
	actDrop   = "drop"
	actNormal = "NORMAL"
)

// sortFlows orders flows as ovs-ofctl dump-flows --rsort roughly does: by
// table, then priority descending, then match text, so output is stable.
func sortFlows(fs []Flow) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Table != b.Table {
			return a.Table < b.Table
		}
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		return a.Match < b.Match
	})
}

// Text renders flows one per line, for golden tests and debugging.
func Text(fs []Flow) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	return b.String()
}
