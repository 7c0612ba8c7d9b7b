// Package l3 is the agent's router service (role l3): for every router
// bound to this host (an L3 binding written by the scheduler), a namespace
// qrouter-<router id> with one qr- NIC per interface port and a qg- NIC for
// the gateway port, both plugged into br-int like VIFs (the data plane
// gives them their network's local VLAN; the external network reaches
// br-ex through the provider patch), routes, forwarding on, and the NAT
// (SNAT, floating IPs, port forwardings, the metadata redirect) in one
// nftables table per namespace, replaced atomically by one `nft -f`.
//
// As the DHCP service, it is its own reconciler: Compute derives the
// desired Routers from the store purely, Service.Set applies what changed.
package l3

import (
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/agent"
)

// Router is what realising one router on this host takes.
type Router struct {
	ID         string
	Interfaces []Port // qr- NICs, by port id
	Gateway    *Port  // qg- NIC (nil: no external gateway)
	// NextHop is the external subnet's gateway, the default route.
	NextHop netip.Addr
	SNAT    bool
	Routes  []Route // extra routes
	NAT     NAT
}

// Port is one router NIC: the port's MAC and fixed IPs with their subnet's
// prefix length.
type Port struct {
	ID        string
	NetworkID string
	MAC       string
	MTU       int
	Addrs     []netip.Prefix
}

// Route is one extra route.
type Route struct {
	Dst     netip.Prefix
	NextHop netip.Addr
}

// NAT is what goes into the router's nftables table.
type NAT struct {
	// GatewayIP is the SNAT address (the gateway port's first IPv4);
	// Internal the internal IPv4 subnets SNAT covers (empty: no SNAT).
	GatewayIP netip.Addr
	Internal  []netip.Prefix
	FIPs      []FIP     // by floating address
	Forwards  []Forward // by floating address, protocol, external port
	QG        string    // the qg- NIC's name ("" without gateway)
}

// FIP maps a floating address 1:1 to a fixed one.
type FIP struct {
	Floating, Fixed netip.Addr
}

// Forward is one port forwarding: Floating:ExtLo-ExtHi -> Internal:IntLo-IntHi
// (IntLo == IntHi: every external port goes to one internal port).
type Forward struct {
	Protocol     string
	Floating     netip.Addr
	ExtLo, ExtHi int
	Internal     netip.Addr
	IntLo, IntHi int
}

// Compute returns the routers host realises, by id: routers bound to it
// (not marked removed) with admin_state_up.
func Compute(host string, snap agent.Snapshot) map[string]Router {
	out := map[string]Router{}
	byRouter := map[string][]*api.Port{}
	for _, p := range snap.Ports {
		if p.DeviceOwner == api.OwnerRouterInterface || p.DeviceOwner == api.OwnerRouterGateway {
			byRouter[p.DeviceID] = append(byRouter[p.DeviceID], p)
		}
	}
	for id, r := range snap.Routers {
		if removed, ok := snap.L3Bindings[id][host]; !ok || removed || !r.AdminStateUp {
			continue
		}
		out[id] = compute(r, byRouter[id], snap)
	}
	return out
}

func compute(r api.Router, ports []*api.Port, snap agent.Snapshot) Router {
	out := Router{ID: r.ID}
	sort.Slice(ports, func(i, j int) bool { return ports[i].ID < ports[j].ID })
	for _, p := range ports {
		np := toPort(*p, snap)
		switch p.DeviceOwner {
		case api.OwnerRouterInterface:
			out.Interfaces = append(out.Interfaces, np)
			for _, a := range np.Addrs {
				if a.Addr().Is4() {
					out.NAT.Internal = append(out.NAT.Internal, a.Masked())
				}
			}
		case api.OwnerRouterGateway:
			if r.ExternalGatewayInfo == nil || p.NetworkID != r.ExternalGatewayInfo.NetworkID {
				continue
			}
			out.Gateway = &np
			out.NAT.QG = qgName(p.ID)
			for _, f := range p.FixedIPs {
				a, err := netip.ParseAddr(f.IPAddress)
				if err != nil || !a.Is4() || out.NAT.GatewayIP.IsValid() {
					continue
				}
				out.NAT.GatewayIP = a
				if s, ok := snap.Subnets[f.SubnetID]; ok && s.GatewayIP != nil {
					out.NextHop, _ = netip.ParseAddr(*s.GatewayIP)
				}
			}
		}
	}
	if out.Gateway == nil {
		out.NAT.Internal = nil
		return out
	}
	out.SNAT = r.ExternalGatewayInfo.EnableSNAT
	if !out.SNAT {
		out.NAT.Internal = nil
	}
	slices.SortFunc(out.NAT.Internal, func(a, b netip.Prefix) int { return strings.Compare(a.String(), b.String()) })
	out.NAT.Internal = slices.Compact(out.NAT.Internal)
	for _, rt := range r.Routes {
		d, err1 := netip.ParsePrefix(rt.Destination)
		nh, err2 := netip.ParseAddr(rt.Nexthop)
		if err1 == nil && err2 == nil && d.Addr().Is4() {
			out.Routes = append(out.Routes, Route{Dst: d.Masked(), NextHop: nh})
		}
	}
	slices.SortFunc(out.Routes, func(a, b Route) int { return strings.Compare(a.Dst.String(), b.Dst.String()) })
	for _, f := range snap.FloatingIPs {
		if f.RouterID == nil || *f.RouterID != r.ID {
			continue
		}
		fl, err := netip.ParseAddr(f.FloatingIPAddress)
		if err != nil || !fl.Is4() {
			continue
		}
		if f.PortID != nil && f.FixedIPAddress != nil {
			if fx, err := netip.ParseAddr(*f.FixedIPAddress); err == nil && fx.Is4() {
				out.NAT.FIPs = append(out.NAT.FIPs, FIP{Floating: fl, Fixed: fx})
			}
		}
		for _, pf := range f.PortForwardings {
			if fw, ok := toForward(fl, pf); ok {
				out.NAT.Forwards = append(out.NAT.Forwards, fw)
			}
		}
	}
	slices.SortFunc(out.NAT.FIPs, func(a, b FIP) int { return a.Floating.Compare(b.Floating) })
	slices.SortFunc(out.NAT.Forwards, func(a, b Forward) int {
		if c := a.Floating.Compare(b.Floating); c != 0 {
			return c
		}
		if c := strings.Compare(a.Protocol, b.Protocol); c != 0 {
			return c
		}
		return a.ExtLo - b.ExtLo
	})
	return out
}

func toPort(p api.Port, snap agent.Snapshot) Port {
	out := Port{ID: p.ID, NetworkID: p.NetworkID, MAC: strings.ToLower(p.MACAddress), MTU: snap.Networks[p.NetworkID].MTU}
	for _, f := range p.FixedIPs {
		a, err := netip.ParseAddr(f.IPAddress)
		if err != nil {
			continue
		}
		bits := a.BitLen()
		if s, ok := snap.Subnets[f.SubnetID]; ok {
			if c, err := netip.ParsePrefix(s.CIDR); err == nil {
				bits = c.Bits()
			}
		}
		out.Addrs = append(out.Addrs, netip.PrefixFrom(a, bits))
	}
	return out
}

func toForward(fl netip.Addr, pf api.PortForwarding) (Forward, bool) {
	in, err := netip.ParseAddr(pf.InternalIPAddress)
	if err != nil || !in.Is4() || (pf.Protocol != "tcp" && pf.Protocol != "udp") {
		return Forward{}, false
	}
	f := Forward{Protocol: pf.Protocol, Floating: fl, Internal: in}
	var ok1, ok2 bool
	if pf.ExternalPortRange != "" {
		f.ExtLo, f.ExtHi, ok1 = parseRange(pf.ExternalPortRange)
		f.IntLo, f.IntHi, ok2 = parseRange(pf.InternalPortRange)
	} else if pf.ExternalPort != nil && pf.InternalPort != nil {
		f.ExtLo, f.ExtHi, f.IntLo, f.IntHi = *pf.ExternalPort, *pf.ExternalPort, *pf.InternalPort, *pf.InternalPort
		ok1, ok2 = true, true
	}
	if !ok1 || !ok2 || (f.IntLo != f.IntHi && f.IntHi-f.IntLo != f.ExtHi-f.ExtLo) {
		return Forward{}, false
	}
	return f, true
}

// parseRange parses "N" or "N:M".
func parseRange(s string) (lo, hi int, ok bool) {
	a, b, found := strings.Cut(s, ":")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := lo, error(nil)
	if found {
		hi, err2 = strconv.Atoi(b)
	}
	return lo, hi, err1 == nil && err2 == nil && 0 < lo && lo <= hi && hi < 65536
}
