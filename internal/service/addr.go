package service

import (
	"net/netip"
	"slices"

	"github.com/vland/vland/api"
)

// pool is an inclusive address range.
type pool struct{ start, end netip.Addr }

func (p pool) contains(a netip.Addr) bool {
	return p.start.Compare(a) <= 0 && a.Compare(p.end) <= 0
}

func (p pool) String() string { return p.start.String() + "-" + p.end.String() }

func (p pool) api() api.AllocationPool {
	return api.AllocationPool{Start: p.start.String(), End: p.end.String()}
}

// hostRange is the first and last address of prefix that may be given to
// a host: IPv4 loses the network and broadcast addresses, IPv6 the
// subnet-router anycast address. ok is false when nothing is left.
func hostRange(p netip.Prefix) (first, last netip.Addr, ok bool) {
	first = p.Masked().Addr().Next()
	last = lastAddr(p)
	if p.Addr().Is4() {
		last = last.Prev()
	}
	if !first.IsValid() || !last.IsValid() || last.Less(first) {
		return first, last, false
	}
	return first, last, true
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// defaultPools is the whole host range minus the gateway.
func defaultPools(p netip.Prefix, gw netip.Addr) []pool {
	first, last, ok := hostRange(p)
	if !ok {
		return nil
	}
	whole := pool{first, last}
	if !gw.IsValid() || !whole.contains(gw) {
		return []pool{whole}
	}
	var out []pool
	if first.Less(gw) {
		out = append(out, pool{first, gw.Prev()})
	}
	if gw.Less(last) {
		out = append(out, pool{gw.Next(), last})
	}
	return out
}

// parsePools validates explicit allocation pools against the subnet, as
// Neutron's _validate_allocation_pools does, and sorts them.
func parsePools(p netip.Prefix, in []api.AllocationPool) ([]pool, error) {
	first, last, _ := hostRange(p)
	out := make([]pool, 0, len(in))
	for _, ap := range in {
		start, err1 := netip.ParseAddr(ap.Start)
		end, err2 := netip.ParseAddr(ap.End)
		if err1 != nil || err2 != nil || start.Is4() != p.Addr().Is4() || start.Is4() != end.Is4() {
			return nil, errorf(ErrInvalidPool, "The allocation pool %s-%s is not valid.", ap.Start, ap.End)
		}
		start, end = start.Unmap(), end.Unmap()
		if !p.Contains(start) || !p.Contains(end) || start.Less(first) || last.Less(end) {
			return nil, errorf(ErrInvalidPool, "The allocation pool %s-%s spans beyond the subnet cidr %s.", ap.Start, ap.End, p)
		}
		if end.Less(start) {
			return nil, errorf(ErrInvalidPool, "The allocation pool %s-%s is not valid.", ap.Start, ap.End)
		}
		out = append(out, pool{start, end})
	}
	slices.SortFunc(out, func(a, b pool) int { return a.start.Compare(b.start) })
	for i := 1; i < len(out); i++ {
		if !out[i-1].end.Less(out[i].start) {
			return nil, errorf(ErrOverlappingPools, "Found overlapping allocation pools: %s %s for subnet %s.", out[i-1], out[i], p)
		}
	}
	return out, nil
}

// poolsOf reads a stored subnet's pools (already validated on write).
func poolsOf(s *api.Subnet) []pool {
	out := make([]pool, 0, len(s.AllocationPools))
	for _, ap := range s.AllocationPools {
		a, err1 := netip.ParseAddr(ap.Start)
		b, err2 := netip.ParseAddr(ap.End)
		if err1 == nil && err2 == nil {
			out = append(out, pool{a, b})
		}
	}
	return out
}

func apiPools(ps []pool) []api.AllocationPool {
	out := make([]api.AllocationPool, len(ps))
	for i, p := range ps {
		out[i] = p.api()
	}
	return out
}

// parseCIDR parses a subnet cidr the way Neutron's "type:subnet" validator
// does: a network address (host bits zero) of the requested version.
func parseCIDR(s string, version int) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, badAttr("cidr", "'%s' is not a valid IP subnet", s)
	}
	if p.Masked() != p {
		return p, badAttr("cidr", "'%s' isn't a recognized IP subnet cidr, '%s' is recommended", s, p.Masked())
	}
	if v := ipVersion(p.Addr()); version != 0 && v != version {
		return p, invalidInput("Cidr %s does not match ip_version %d", s, version)
	}
	return p, nil
}

func ipVersion(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

// parseIP parses one address of the given version for attribute attr.
func parseIP(attr, s string, version int) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return a, badAttr(attr, "'%s' is not a valid IP address", s)
	}
	if ipVersion(a) != version {
		return a, invalidInput("%s '%s' does not match the subnet's ip_version %d", attr, s, version)
	}
	return a, nil
}
