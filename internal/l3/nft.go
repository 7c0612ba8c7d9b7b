package l3

import (
	"fmt"
	"strings"
)

// The router's NAT lives in one nftables table, "ip vland", in its
// namespace. Every change replaces the whole table in one `nft -f`
// transaction (create if missing, delete, add): atomic, so a packet sees
// either the old rules or the new ones. Replacing NAT rules does not touch
// conntrack, so established (already translated) connections keep going.
const nftTable = "vland"

// MetadataPort is where the metadata proxy listens in the router
// namespace; TCP from an interface to 169.254.169.254:80 goes there.
const MetadataPort = 9697

// ruleset renders the transaction that makes the table n's.
func ruleset(n NAT) string {
	var b strings.Builder
	fmt.Fprintf(&b, "table ip %s {}\ndelete table ip %s\n", nftTable, nftTable)
	fmt.Fprintf(&b, "table ip %s {\n", nftTable)
	// The proxy answers only what came in from the router's own networks:
	// nothing from the external side reaches it (as Neutron's haproxy rule).
	b.WriteString("\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n")
	fmt.Fprintf(&b, "\t\ttcp dport %d iifname != \"qr-*\" drop\n\t}\n", MetadataPort)
	b.WriteString("\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n")
	fmt.Fprintf(&b, "\t\tiifname \"qr-*\" ip daddr 169.254.169.254 tcp dport 80 redirect to :%d\n", MetadataPort)
	for _, f := range n.FIPs {
		fmt.Fprintf(&b, "\t\tip daddr %s dnat to %s\n", f.Floating, f.Fixed)
	}
	for _, f := range n.Forwards {
		b.WriteString("\t\t" + forwardRule(f) + "\n")
	}
	b.WriteString("\t}\n")
	b.WriteString("\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n")
	if n.QG != "" {
		// A floating IP's own address first: its VM's traffic leaves
		// from it, not from the gateway address.
		for _, f := range n.FIPs {
			fmt.Fprintf(&b, "\t\toifname %q ip saddr %s snat to %s\n", n.QG, f.Fixed, f.Floating)
		}
		if len(n.Internal) > 0 && n.GatewayIP.IsValid() {
			nets := make([]string, len(n.Internal))
			for i, p := range n.Internal {
				nets[i] = p.String()
			}
			fmt.Fprintf(&b, "\t\toifname %q ip saddr { %s } snat to %s\n", n.QG, strings.Join(nets, ", "), n.GatewayIP)
		}
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

// forwardRule is one port forwarding's DNAT: a single external port, a
// range to one internal port, or a range to a range of the same length
// (a map, as nftables has no port offset).
func forwardRule(f Forward) string {
	match := fmt.Sprintf("ip daddr %s %s dport %d", f.Floating, f.Protocol, f.ExtLo)
	if f.ExtHi != f.ExtLo {
		match = fmt.Sprintf("ip daddr %s %s dport %d-%d", f.Floating, f.Protocol, f.ExtLo, f.ExtHi)
	}
	if f.IntLo == f.IntHi {
		return fmt.Sprintf("%s dnat to %s:%d", match, f.Internal, f.IntLo)
	}
	pairs := make([]string, 0, f.ExtHi-f.ExtLo+1)
	for p := f.ExtLo; p <= f.ExtHi; p++ {
		pairs = append(pairs, fmt.Sprintf("%d : %d", p, f.IntLo+p-f.ExtLo))
	}
	return fmt.Sprintf("%s dnat to %s : %s dport map { %s }", match, f.Internal, f.Protocol, strings.Join(pairs, ", "))
}
