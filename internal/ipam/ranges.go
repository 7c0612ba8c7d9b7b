package ipam

import (
	"net/netip"
	"slices"
)

// Range is an inclusive address range (an allocation pool).
type Range struct {
	Start, End netip.Addr
}

// String formats the range as Neutron does: "10.0.0.2-10.0.0.254".
func (r Range) String() string { return r.Start.String() + "-" + r.End.String() }

// Contains reports whether a is inside the range.
func (r Range) Contains(a netip.Addr) bool {
	return a.BitLen() == r.Start.BitLen() && r.Start.Compare(a) <= 0 && a.Compare(r.End) <= 0
}

// Overlaps reports whether two ranges share an address.
func (r Range) Overlaps(o Range) bool {
	return r.Start.BitLen() == o.Start.BitLen() && r.Start.Compare(o.End) <= 0 && o.Start.Compare(r.End) <= 0
}

// hostRange is every address of p a pool may contain: for IPv4 all but the
// network and broadcast addresses, for IPv6 all but the network (subnet
// router anycast) address. ok is false when there is none (/31, /32, /128).
func hostRange(p netip.Prefix) (Range, bool) {
	p = p.Masked()
	first := p.Addr().Next()
	last := lastAddr(p)
	if p.Addr().Is4() {
		last = last.Prev()
	}
	if !first.IsValid() || !last.IsValid() || first.Compare(last) > 0 || !p.Contains(first) {
		return Range{}, false
	}
	return Range{Start: first, End: last}, true
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

// splitAround removes a from r, giving zero, one or two ranges.
func splitAround(r Range, a netip.Addr) []Range {
	if !r.Contains(a) {
		return []Range{r}
	}
	var out []Range
	if r.Start != a {
		out = append(out, Range{Start: r.Start, End: a.Prev()})
	}
	if r.End != a {
		out = append(out, Range{Start: a.Next(), End: r.End})
	}
	return out
}

// sortRanges orders ranges by start address.
func sortRanges(rs []Range) {
	slices.SortFunc(rs, func(a, b Range) int { return a.Start.Compare(b.Start) })
}
