package service

import (
	"net/netip"
	"strings"

	"github.com/vland/vland/internal/ipam"
	"github.com/vland/vland/internal/store"
)

// The cache's allocated addresses, one ipam.Used per subnet: the input of
// the lowest-free-address choice. Fed by the watch (IP keys) and by claim
// (this server's own commits, before the watch delivers them).

// ipSetOf returns the subnet's set, creating it. Caller holds c.mu.
func (c *cache) ipSetOf(subnetID string) *ipam.Used {
	set := c.ips[subnetID]
	if set == nil {
		set = &ipam.Used{}
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
	if put {
		c.ipSetOf(subnetID).Add(a)
	} else if set := c.ips[subnetID]; set != nil {
		set.Remove(a)
	}
}

// resetHint forgets a subnet's scan hint (its pools may have changed).
// Caller holds c.mu.
func (c *cache) resetHint(subnetID string) {
	if set := c.ips[subnetID]; set != nil {
		set.ResetHint()
	}
}

// release lowers the scan hints below address and quota slot
// reservations given up without a commit (other keys are ignored).
func (c *cache) release(keys []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		if strings.HasPrefix(k, store.QuotaSlotsPrefix) {
			c.releaseSlot(k)
			continue
		}
		rest, ok := strings.CutPrefix(k, store.IPsPrefix)
		subnet, ip, _ := strings.Cut(rest, "/")
		if a, err := netip.ParseAddr(ip); ok && err == nil {
			if set := c.ips[subnet]; set != nil {
				set.Release(a)
			}
		}
	}
}

func (c *cache) hasIP(subnetID string, ip netip.Addr) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	set := c.ips[subnetID]
	return set != nil && set.Has(ip)
}

// lowestFree returns the lowest pool address that is neither allocated
// nor refused by take (which reserves it for the caller).
func (c *cache) lowestFree(subnetID string, pools []ipam.Range, take func(netip.Addr) bool) (netip.Addr, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ipSetOf(subnetID).LowestFree(pools, take)
}
