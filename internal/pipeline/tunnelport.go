package pipeline

import (
	"crypto/sha1"
	"encoding/hex"
	"net/netip"
	"slices"
	"sort"

	"github.com/vland/vland/internal/hoststate"
)

// TunnelPort is a tunnel interface br-tun should have: one per (peer, tunnel
// type) when the peer shares a network of that type with this host; with
// flow-based tunnels, one per type (RemoteIP invalid: remote_ip=flow).
type TunnelPort struct {
	Name     string // Neutron style: vxlan-0a000002; flow-based: vxlan-flow
	Type     string // vxlan, gre, geneve
	RemoteIP netip.Addr
}

// FlowTunnelPortName names the one flow-based tunnel port of a type.
func FlowTunnelPortName(tunType string) string { return tunType + "-flow" }

// tunnelPortFor returns the ofport that reaches peer over tunnel type t
// and, with flow-based ports, the action that sets its address (the
// outputs of one flow to several peers each carry their own).
func tunnelPortFor(s hoststate.State, pm PortMap, t string, peer netip.Addr) (int, string) {
	if s.FlowTunnels() {
		return pm.Tunnels[FlowTunnelPortName(t)], setTunDst(peer)
	}
	return pm.Tunnels[TunnelPortName(t, peer)], ""
}

func setTunDst(ip netip.Addr) string {
	if ip.Is4() {
		return "set_field:" + ip.String() + "->tun_dst"
	}
	return "set_field:" + ip.String() + "->tun_ipv6_dst"
}

// IsTunnelType reports whether a network type is carried on br-tun.
func IsTunnelType(t string) bool {
	_, ok := tunnelTable(t)
	return ok
}

// TunnelPortName names a tunnel port as Neutron does: type, dash, the
// remote IPv4 address as 8 hex digits. IPv6 remotes use 8 hex digits of a
// hash, as Neutron does, to stay within 15 characters.
func TunnelPortName(tunType string, remote netip.Addr) string {
	var h string
	if remote.Is4() {
		b := remote.As4()
		h = hex.EncodeToString(b[:])
	} else {
		sum := sha1.Sum([]byte(remote.String()))
		h = hex.EncodeToString(sum[:])[:8]
	}
	return tunType + "-" + h
}

// TunnelPorts returns the tunnel ports the state needs, sorted by name. A
// peer gets a port of type T only if T is enabled on this host and the peer
// has a port on one of this host's networks of type T; with flow-based
// tunnels, type T gets its one port if any peer needs it.
func TunnelPorts(s hoststate.State) []TunnelPort {
	seen := map[string]bool{}
	var out []TunnelPort
	tunnelPeers(s, func(peer netip.Addr, tunType string) {
		tp := TunnelPort{Name: TunnelPortName(tunType, peer), Type: tunType, RemoteIP: peer}
		if s.FlowTunnels() {
			tp = TunnelPort{Name: FlowTunnelPortName(tunType), Type: tunType}
		}
		if !seen[tp.Name] {
			seen[tp.Name] = true
			out = append(out, tp)
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// TunnelPeers returns the underlay addresses this host tunnels to (with
// either port mode), sorted.
func TunnelPeers(s hoststate.State) []netip.Addr {
	var out []netip.Addr
	tunnelPeers(s, func(peer netip.Addr, _ string) { out = append(out, peer) })
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// tunnelPeers calls fn for every (peer, tunnel type) that needs a tunnel:
// the type is enabled here and the peer has a port on one of this host's
// networks of that type.
func tunnelPeers(s hoststate.State, fn func(peer netip.Addr, tunType string)) {
	for _, p := range s.Peers {
		if !p.IP.IsValid() || p.IP == s.LocalIP {
			continue
		}
		for _, netID := range p.Networks {
			n, ok := s.Networks[netID]
			if !ok || !IsTunnelType(n.Type) || !slices.Contains(s.TunnelTypes, n.Type) {
				continue
			}
			fn(p.IP, n.Type)
		}
	}
}
