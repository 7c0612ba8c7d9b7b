package service

import "net/netip"

// ipSet is the allocated addresses of one subnet, with a scan hint: every
// pool address below hint is known to be allocated, so finding the lowest
// free address does not rescan the dense front of the subnet each time.
type ipSet struct {
	used map[netip.Addr]struct{}
	hint netip.Addr // invalid: no hint
}

// ipSetOf returns the subnet's set, creating it. Caller holds c.mu.
func (c *cache) ipSetOf(subnetID string) *ipSet {
	set := c.ips[subnetID]
	if set == nil {
		set = &ipSet{used: map[netip.Addr]struct{}{}}
		c.ips[subnetID] = set
	}
	return set
}

// applyIP records an allocation key event. Caller holds c.mu.
func (c *cache) applyIP(subnetID, ip string, put bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return
	}
	set := c.ipSetOf(subnetID)
	if put {
		set.used[a] = struct{}{}
		return
	}
	delete(set.used, a)
	if set.hint.IsValid() && a.Less(set.hint) {
		set.hint = a
	}
}

// resetHint forgets a subnet's hint (its pools changed). Caller holds c.mu.
func (c *cache) resetHint(subnetID string) {
	if set := c.ips[subnetID]; set != nil {
		set.hint = netip.Addr{}
	}
}

func (c *cache) hasIP(subnetID, ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	set := c.ips[subnetID]
	if set == nil {
		return false
	}
	_, ok := set.used[a]
	return ok
}

// lowestFree returns the lowest pool address that is neither allocated
// nor refused by take (which reserves it for the caller).
func (c *cache) lowestFree(subnetID string, pools []pool, take func(netip.Addr) bool) (netip.Addr, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := c.ipSetOf(subnetID)
	dense := true // every address scanned so far is allocated
	for _, p := range pools {
		start := p.start
		if set.hint.IsValid() && start.Less(set.hint) {
			start = set.hint
		}
		for ip := start; ip.IsValid() && ip.Compare(p.end) <= 0; ip = ip.Next() {
			if _, used := set.used[ip]; used {
				if dense {
					set.hint = ip.Next()
				}
				continue
			}
			dense = false
			if take(ip) {
				return ip, true
			}
		}
	}
	return netip.Addr{}, false
}
