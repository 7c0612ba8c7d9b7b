package agent

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/hoststate"
)

// filtered reports whether a port's traffic goes through its security
// groups: port security on and not a network-owned port (Neutron's
// trusted ports skip the firewall).
func filtered(p api.Port) bool {
	return p.PortSecurityEnabled && !strings.HasPrefix(p.DeviceOwner, "network:")
}

// securityGroups fills the groups of st's ports and, for each remote
// group their rules name, the addresses of that group's ports on every
// host.
func securityGroups(st *hoststate.State, snap Snapshot) {
	// Maps stay nil without groups (states compare equal to ones built
	// before security groups).
	for _, p := range st.Ports {
		for _, id := range p.SecurityGroups {
			if g, ok := snap.SecurityGroups[id]; ok {
				if st.SecurityGroups == nil {
					st.SecurityGroups = map[string]hoststate.SecurityGroup{}
				}
				st.SecurityGroups[id] = toGroup(g)
			}
		}
	}
	remote := map[string]bool{}
	for _, g := range st.SecurityGroups {
		for _, r := range g.Rules {
			if r.RemoteGroup != "" {
				remote[r.RemoteGroup] = true
			}
		}
	}
	if len(remote) == 0 {
		return
	}
	st.GroupMembers = map[string][]netip.Prefix{}
	for _, p := range snap.Ports {
		if !filtered(*p) {
			continue
		}
		for _, g := range p.SecurityGroups {
			if !remote[g] {
				continue
			}
			for _, a := range portAddrs(*p) {
				if !slices.Contains(st.GroupMembers[g], a) {
					st.GroupMembers[g] = append(st.GroupMembers[g], a)
				}
			}
		}
	}
	for g := range st.GroupMembers {
		slices.SortFunc(st.GroupMembers[g], func(a, b netip.Prefix) int {
			if c := a.Addr().Compare(b.Addr()); c != 0 {
				return c
			}
			return a.Bits() - b.Bits()
		})
	}
}

// portAddrs are a port's fixed IPs and allowed address pairs.
func portAddrs(p api.Port) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range p.FixedIPs {
		if a, err := netip.ParseAddr(f.IPAddress); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	for _, ap := range p.AllowedAddressPairs {
		if pfx, ok := parsePrefix(ap.IPAddress); ok {
			out = append(out, pfx)
		}
	}
	return out
}

func toGroup(g api.SecurityGroup) hoststate.SecurityGroup {
	out := hoststate.SecurityGroup{ID: g.ID, Stateless: !g.Stateful}
	for _, r := range g.SecurityGroupRules {
		hr := hoststate.Rule{
			Ingress: r.Direction == api.DirectionIngress, IPv6: r.Ethertype == api.EtherTypeIPv6,
			Protocol: api.ProtocolNumber(r.Protocol), PortMin: -1, PortMax: -1,
		}
		if r.PortRangeMin != nil {
			hr.PortMin = *r.PortRangeMin
		}
		if r.PortRangeMax != nil {
			hr.PortMax = *r.PortRangeMax
		}
		if r.RemoteIPPrefix != nil {
			pfx, ok := parsePrefix(*r.RemoteIPPrefix)
			if !ok {
				continue // the server validates prefixes; skip rather than widen
			}
			hr.RemotePrefix = pfx
		}
		if r.RemoteGroupID != nil {
			hr.RemoteGroup = *r.RemoteGroupID
		}
		out.Rules = append(out.Rules, hr)
	}
	return out
}
