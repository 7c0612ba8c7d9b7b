package ipam

import (
	"net/netip"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
)

// Nameservers validates a subnet's dns_nameservers: addresses, no
// duplicates; they come back in canonical form.
func Nameservers(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := map[netip.Addr]bool{}
	for _, ns := range in {
		a, err := netip.ParseAddr(ns)
		if err != nil {
			return nil, fault.BadAttr("dns_nameservers", "'%s' is not a valid nameserver", ns)
		}
		if seen[a] {
			return nil, fault.BadAttr("dns_nameservers", "Duplicate nameserver '%s'", ns)
		}
		seen[a] = true
		out = append(out, a.String())
	}
	return out, nil
}

// HostRoutes validates a subnet's host_routes against its IP version; they
// come back in canonical form (destination masked).
func HostRoutes(in []api.HostRoute, version int) ([]api.HostRoute, error) {
	out := make([]api.HostRoute, 0, len(in))
	for _, hr := range in {
		dst, err := netip.ParsePrefix(hr.Destination)
		if err != nil || Version(dst.Addr()) != version {
			return nil, fault.BadAttr("host_routes", "'%s' is not a valid destination", hr.Destination)
		}
		hop, err := netip.ParseAddr(hr.NextHop)
		if err != nil || Version(hop) != version {
			return nil, fault.BadAttr("host_routes", "'%s' is not a valid nexthop", hr.NextHop)
		}
		out = append(out, api.HostRoute{Destination: dst.Masked().String(), NextHop: hop.String()})
	}
	return out, nil
}
