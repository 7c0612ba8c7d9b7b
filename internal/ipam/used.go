package ipam

import "net/netip"

// Used is the allocated addresses of one subnet, with a scan hint: every
// pool address below the hint is known to be allocated or held by an
// in-flight request, so finding the lowest free address does not rescan
// the dense front of a big subnet (or the addresses a big request already
// holds) on every choice: n choices cost O(n), not O(n²). The zero value is
// an empty set.
//
// Used is not safe for concurrent use: its owner (the service's
// watch-fed cache) guards it with its own lock.
type Used struct {
	set  map[netip.Addr]struct{}
	hint netip.Addr // invalid: no hint
}

// Add records an allocated address.
func (u *Used) Add(a netip.Addr) {
	if u.set == nil {
		u.set = map[netip.Addr]struct{}{}
	}
	u.set[a] = struct{}{}
}

// Remove records a freed address.
func (u *Used) Remove(a netip.Addr) {
	delete(u.set, a)
	u.Release(a)
}

// Release records that an address LowestFree handed out (or saw refused
// by take) was given up without being allocated: it is free again.
func (u *Used) Release(a netip.Addr) {
	if u.hint.IsValid() && a.Less(u.hint) {
		u.hint = a
	}
}

// Has reports whether a is allocated.
func (u *Used) Has(a netip.Addr) bool {
	_, ok := u.set[a]
	return ok
}

// ResetHint forgets the hint; call it when the subnet's pools change.
func (u *Used) ResetHint() { u.hint = netip.Addr{} }

// LowestFree returns the lowest pool address that is not allocated and
// that take accepts. take sees the free addresses lowest first; it is
// where the caller reserves the address for its in-flight request, and it
// refuses one another request holds. Whoever holds an address and gives
// it up unallocated must call Release. The store's compare-and-create of
// the address key stays the arbiter between requests and servers.
func (u *Used) LowestFree(pools []Range, take func(netip.Addr) bool) (netip.Addr, bool) {
	for _, p := range pools {
		start := p.Start
		if u.hint.IsValid() && start.Less(u.hint) {
			start = u.hint
		}
		for ip := start; ip.IsValid() && ip.Compare(p.End) <= 0; ip = ip.Next() {
			// Everything scanned is allocated, held by another request or
			// now held by the caller: the hint moves past it.
			u.hint = ip.Next()
			if !u.Has(ip) && take(ip) {
				return ip, true
			}
		}
	}
	return netip.Addr{}, false
}

// Len is the number of allocated addresses.
func (u *Used) Len() int { return len(u.set) }
