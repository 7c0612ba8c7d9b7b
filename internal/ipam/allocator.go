package ipam

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/vland/vland/internal/store"
)

// KeyLister is the part of store.Store the allocator reads.
type KeyLister interface {
	ListKeys(ctx context.Context, prefix string) ([]string, int64, error)
}

// Release ends a reservation. committed tells whether the store
// transaction holding the address's IPKey succeeded: the address then stays
// in the used cache; otherwise it becomes free again in this process.
// Calling it more than once is harmless.
type Release func(committed bool)

// Allocator hands out the lowest free address of a subnet's pools without
// collisions between concurrent requests of this process, and without a
// store round trip per attempt: it caches, per subnet, the addresses whose
// allocation keys (store.IPKey, ip in netip.Addr.String form) exist, and
// the ones reserved in flight. The store transaction stays the arbiter
// across processes: the caller puts
//
//	store.Cond{Key: store.IPKey(subnetID, ip.String())} // must not exist
//	store.Op{Key: store.IPKey(subnetID, ip.String()), Value: []byte(portID)}
//
// into its port transaction, then calls release(err == nil). On
// store.ErrConflict (another server took the address, or the cache is
// stale) it calls MarkStale(subnetID) and retries. After deleting a port's
// allocation keys it calls Free.
type Allocator struct {
	st      KeyLister
	mu      sync.Mutex
	subnets map[string]*subnetCache
}

// subnetCache is one subnet's view. Its own mutex is held while loading,
// so one slow List does not block other subnets.
type subnetCache struct {
	mu       sync.Mutex
	loaded   bool
	used     map[netip.Addr]struct{}
	inflight map[netip.Addr]struct{}
}

// NewAllocator returns an allocator reading allocation keys from st.
func NewAllocator(st KeyLister) *Allocator {
	return &Allocator{st: st, subnets: map[string]*subnetCache{}}
}

// Reserve picks the lowest address of pools that is neither allocated nor
// reserved in flight, and reserves it until release is called. When every
// address is taken it returns an Error of kind IpAddressGenerationFailure.
func (a *Allocator) Reserve(ctx context.Context, subnetID string, pools []Range) (netip.Addr, Release, error) {
	c, err := a.cache(ctx, subnetID)
	if err != nil {
		return netip.Addr{}, nil, err
	}
	defer c.mu.Unlock()
	for _, r := range pools {
		for ip := r.Start; ip.IsValid() && ip.Compare(r.End) <= 0; ip = ip.Next() {
			if !c.taken(ip) {
				c.inflight[ip] = struct{}{}
				return ip, release(c, ip), nil
			}
		}
	}
	return netip.Addr{}, nil, newError(KindIPAddressGenerationFailure, 409,
		"No more IP addresses available on subnet %s.", subnetID)
}

// ReserveExplicit reserves a requested address. It fails fast with
// IpAddressAlreadyAllocated when the address is known to be taken; the
// store condition still decides in the end.
func (a *Allocator) ReserveExplicit(ctx context.Context, subnetID string, ip netip.Addr) (Release, error) {
	c, err := a.cache(ctx, subnetID)
	if err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	if c.taken(ip) {
		return nil, AlreadyAllocated(ip.String(), subnetID)
	}
	c.inflight[ip] = struct{}{}
	return release(c, ip), nil
}

// MarkStale makes the next reservation on the subnet reload its allocated
// addresses from the store.
func (a *Allocator) MarkStale(subnetID string) {
	if c := a.peek(subnetID); c != nil {
		c.mu.Lock()
		c.loaded = false
		c.mu.Unlock()
	}
}

// Free records that ip's allocation key was deleted (its port is gone).
func (a *Allocator) Free(subnetID string, ip netip.Addr) {
	if c := a.peek(subnetID); c != nil {
		c.mu.Lock()
		delete(c.used, ip)
		c.mu.Unlock()
	}
}

// Forget drops the cache of a deleted subnet.
func (a *Allocator) Forget(subnetID string) {
	a.mu.Lock()
	delete(a.subnets, subnetID)
	a.mu.Unlock()
}

func (c *subnetCache) taken(ip netip.Addr) bool {
	_, used := c.used[ip]
	_, busy := c.inflight[ip]
	return used || busy
}

// release builds the Release of one reservation.
func release(c *subnetCache, ip netip.Addr) Release {
	var once sync.Once
	return func(committed bool) {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			delete(c.inflight, ip)
			if committed {
				c.used[ip] = struct{}{}
			}
		})
	}
}

// peek returns the subnet's cache if it exists.
func (a *Allocator) peek(subnetID string) *subnetCache {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.subnets[subnetID]
}

// cache returns the subnet's cache, loaded and locked.
func (a *Allocator) cache(ctx context.Context, subnetID string) (*subnetCache, error) {
	a.mu.Lock()
	c := a.subnets[subnetID]
	if c == nil {
		c = &subnetCache{inflight: map[netip.Addr]struct{}{}}
		a.subnets[subnetID] = c
	}
	a.mu.Unlock()
	c.mu.Lock()
	if c.loaded {
		return c, nil
	}
	used, err := a.load(ctx, subnetID)
	if err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.used, c.loaded = used, true
	return c, nil
}

// load reads the subnet's allocation keys from the store.
func (a *Allocator) load(ctx context.Context, subnetID string) (map[netip.Addr]struct{}, error) {
	prefix := store.IPKey(subnetID, "")
	keys, _, err := a.st.ListKeys(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("ipam: load allocations of subnet %s: %w", subnetID, err)
	}
	used := make(map[netip.Addr]struct{}, len(keys))
	for _, k := range keys {
		// Keys that do not parse are not addresses; skip rather than fail.
		if ip, err := netip.ParseAddr(strings.TrimPrefix(k, prefix)); err == nil {
			used[ip] = struct{}{}
		}
	}
	return used, nil
}
