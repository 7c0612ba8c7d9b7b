package openflow

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ActionsBuilder accumulates actions in ovs-ofctl syntax. An empty list
// renders as "drop".
type ActionsBuilder struct{ acts []string }

// Actions starts an action list.
func Actions() *ActionsBuilder { return &ActionsBuilder{} }

// String renders the action list.
func (a *ActionsBuilder) String() string {
	if len(a.acts) == 0 {
		return "drop"
	}
	return strings.Join(a.acts, ",")
}

func (a *ActionsBuilder) add(f string, args ...any) *ActionsBuilder {
	a.acts = append(a.acts, fmt.Sprintf(f, args...))
	return a
}

// Raw appends ovs-ofctl action text as is (escape hatch, e.g. ct(...)).
func (a *ActionsBuilder) Raw(s string) *ActionsBuilder { return a.add("%s", s) }

// Drop is explicit: it leaves the list empty, which renders as "drop".
// Combined with other actions it has no effect (OpenFlow has no drop
// action; an action list that ends without output drops).
func (a *ActionsBuilder) Drop() *ActionsBuilder { return a }

// Output sends to an OpenFlow port.
func (a *ActionsBuilder) Output(port int) *ActionsBuilder { return a.add("output:%d", port) }

// OutputInPort sends back out of the ingress port.
func (a *ActionsBuilder) OutputInPort() *ActionsBuilder { return a.add("in_port") }

// Normal hands the packet to the normal L2 switch.
func (a *ActionsBuilder) Normal() *ActionsBuilder { return a.add("NORMAL") }

// Flood sends to all ports but the ingress one.
func (a *ActionsBuilder) Flood() *ActionsBuilder { return a.add("FLOOD") }

// Resubmit continues lookup in table (and returns afterwards).
func (a *ActionsBuilder) Resubmit(table uint8) *ActionsBuilder {
	return a.add("resubmit(,%d)", table)
}

// GotoTable continues in a later table (must be > current table).
func (a *ActionsBuilder) GotoTable(table uint8) *ActionsBuilder {
	return a.add("goto_table:%d", table)
}

// ModVlanVid sets (or pushes) the VLAN id.
func (a *ActionsBuilder) ModVlanVid(vid int) *ActionsBuilder { return a.add("mod_vlan_vid:%d", vid) }

// StripVlan pops the VLAN header.
func (a *ActionsBuilder) StripVlan() *ActionsBuilder { return a.add("strip_vlan") }

// SetTunnel sets the tunnel key (VNI) for output to a tunnel port.
func (a *ActionsBuilder) SetTunnel(id uint64) *ActionsBuilder { return a.add("set_tunnel:%#x", id) }

// ModDlSrc / ModDlDst rewrite Ethernet addresses.
func (a *ActionsBuilder) ModDlSrc(mac net.HardwareAddr) *ActionsBuilder {
	return a.add("mod_dl_src:%s", mac)
}
func (a *ActionsBuilder) ModDlDst(mac net.HardwareAddr) *ActionsBuilder {
	return a.add("mod_dl_dst:%s", mac)
}

// ModNwSrc / ModNwDst rewrite IPv4 addresses.
func (a *ActionsBuilder) ModNwSrc(ip netip.Addr) *ActionsBuilder { return a.add("mod_nw_src:%s", ip) }
func (a *ActionsBuilder) ModNwDst(ip netip.Addr) *ActionsBuilder { return a.add("mod_nw_dst:%s", ip) }

// SetField loads value into field, e.g. SetField("0x2", "arp_op") or a
// masked register SetField("0x5/0xffff", "reg6") (OF1.5 has no load).
func (a *ActionsBuilder) SetField(value, field string) *ActionsBuilder {
	return a.add("set_field:%s->%s", value, field)
}

// Move copies bits between fields, e.g. Move("NXM_OF_ETH_SRC[]", "NXM_OF_ETH_DST[]").
func (a *ActionsBuilder) Move(src, dst string) *ActionsBuilder { return a.add("move:%s->%s", src, dst) }

// DecTTL decrements the IP TTL.
func (a *ActionsBuilder) DecTTL() *ActionsBuilder { return a.add("dec_ttl") }

// Learn adds a learn action; spec is the text inside learn(...). Give
// learned flows a cookie with an owner other than the Bridge's, so Sync
// never deletes them.
func (a *ActionsBuilder) Learn(spec string) *ActionsBuilder { return a.add("learn(%s)", spec) }

// Ct adds a conntrack action; spec is the text inside ct(...).
func (a *ActionsBuilder) Ct(spec string) *ActionsBuilder { return a.add("ct(%s)", spec) }

// Controller sends the packet to the controller.
func (a *ActionsBuilder) Controller() *ActionsBuilder { return a.add("CONTROLLER") }
