package ipam

import (
	"math/bits"
	"net/netip"
	"slices"
	"strings"
)

// Prefix sets for subnet pools: a pool's address space is a list of
// disjoint prefixes, and a subnet allocated from it is a prefix of the
// free space that remains. Sets are kept compact (sorted, disjoint, with
// adjacent halves merged), as Neutron's netaddr.IPSet.compact().

// Compact returns the smallest sorted list of disjoint prefixes covering
// exactly the addresses of ps (all of one IP version).
func Compact(ps []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Masked())
	}
	slices.SortFunc(out, comparePrefix)
	// Drop prefixes inside an earlier one (sorted by address, then by
	// length: a container comes first).
	kept := out[:0]
	for _, p := range out {
		if n := len(kept); n > 0 && kept[n-1].Contains(p.Addr()) {
			continue
		}
		kept = append(kept, p)
	}
	// Merge sibling halves until nothing changes (a merge can make a new
	// sibling pair with the previous entry, hence the stack).
	var stack []netip.Prefix
	for _, p := range kept {
		stack = append(stack, p)
		for len(stack) >= 2 {
			a, b := stack[len(stack)-2], stack[len(stack)-1]
			parent, ok := siblings(a, b)
			if !ok {
				break
			}
			stack = append(stack[:len(stack)-2], parent)
		}
	}
	return stack
}

// siblings reports whether a and b are the two halves of one prefix, and
// returns it.
func siblings(a, b netip.Prefix) (netip.Prefix, bool) {
	if a.Bits() != b.Bits() || a.Bits() == 0 {
		return netip.Prefix{}, false
	}
	parent, _ := a.Addr().Prefix(a.Bits() - 1)
	if parent.Addr() != a.Addr() || !parent.Contains(b.Addr()) || a == b {
		return netip.Prefix{}, false
	}
	return parent, true
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// Subtract returns set without the addresses of p.
func Subtract(set []netip.Prefix, p netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range set {
		switch {
		case p.Bits() <= s.Bits() && p.Contains(s.Addr()):
			// s is gone entirely.
		case s.Bits() < p.Bits() && s.Contains(p.Addr()):
			out = append(out, splitOut(s, p)...)
		default:
			out = append(out, s)
		}
	}
	return out
}

// splitOut returns the pieces of s (which contains p) that are not in p:
// at each level, the half of s that does not hold p.
func splitOut(s, p netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for s.Bits() < p.Bits() {
		lo, hi := halves(s)
		if lo.Contains(p.Addr()) {
			out, s = append(out, hi), lo
		} else {
			out, s = append(out, lo), hi
		}
	}
	slices.SortFunc(out, comparePrefix)
	return out
}

// halves splits p into its two halves.
func halves(p netip.Prefix) (netip.Prefix, netip.Prefix) {
	lo := netip.PrefixFrom(p.Addr(), p.Bits()+1)
	hi := netip.PrefixFrom(lastAddr(lo).Next(), p.Bits()+1)
	return lo, hi
}

// Covers reports whether every address of p is in set.
func Covers(set []netip.Prefix, p netip.Prefix) bool {
	for _, s := range set {
		if s.Bits() <= p.Bits() && s.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// CoversAll reports whether every address of sub is in set.
func CoversAll(set, sub []netip.Prefix) bool {
	set = Compact(set)
	for _, p := range sub {
		if !Covers(set, p) {
			return false
		}
	}
	return true
}

// OverlapsAny reports whether some address is in both a and b.
func OverlapsAny(a, b []netip.Prefix) bool {
	for _, p := range a {
		for _, q := range b {
			if p.Overlaps(q) {
				return true
			}
		}
	}
	return false
}

// ChoosePrefix returns a free prefix of length bits taken from free (the
// pool's space minus what is allocated) the way Neutron's subnet
// allocator does: from the smallest free block that can hold it, the
// lowest address among blocks of equal size. That leaves big blocks whole
// for big requests.
func ChoosePrefix(free []netip.Prefix, length int) (netip.Prefix, bool) {
	best := -1
	for i, f := range free {
		if f.Bits() > length {
			continue
		}
		if best < 0 || f.Bits() > free[best].Bits() ||
			(f.Bits() == free[best].Bits() && f.Addr().Less(free[best].Addr())) {
			best = i
		}
	}
	if best < 0 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(free[best].Addr(), length), true
}

// PrefixBits is p's leading bits as a string of '0' and '1' (empty for
// /0). Prefix A contains prefix B exactly when A's string is a prefix of
// B's, which lets a store condition on a key range test containment.
func PrefixBits(p netip.Prefix) string {
	b := p.Masked().Addr().AsSlice()
	var sb strings.Builder
	for i := 0; i < p.Bits(); i++ {
		if b[i/8]&(0x80>>(i%8)) != 0 {
			sb.WriteByte('1')
		} else {
			sb.WriteByte('0')
		}
	}
	return sb.String()
}

// Units is the number of quota units in a prefix of length bits: 2^(unit
// - bits), unit being 32 for IPv4 (addresses) and 64 for IPv6 (/64s) as in
// Neutron's subnet pool quotas. It saturates at the largest uint64.
func Units(version, length int) uint64 {
	unit := 32
	if version == 6 {
		unit = 64
	}
	return pow2(unit - length)
}

// Size is the number of addresses in a prefix, saturated to 64 bits.
func Size(p netip.Prefix) uint64 { return pow2(p.Addr().BitLen() - p.Bits()) }

func pow2(n int) uint64 {
	switch {
	case n < 0:
		return 0
	case n >= 64:
		return ^uint64(0)
	}
	return 1 << n
}

// AddSat adds without overflowing (saturating at the largest uint64).
func AddSat(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return ^uint64(0)
	}
	return s
}

// Size is the number of addresses in r, saturated to 64 bits.
func (r Range) Size() uint64 {
	a, b := r.Start.As16(), r.End.As16()
	hi := func(x [16]byte) uint64 { return beUint64(x[:8]) }
	lo := func(x [16]byte) uint64 { return beUint64(x[8:]) }
	dlo, borrow := bits.Sub64(lo(b), lo(a), 0)
	dhi, _ := bits.Sub64(hi(b), hi(a), borrow)
	if dhi != 0 {
		return ^uint64(0)
	}
	return AddSat(dlo, 1)
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}
