package service

import (
	"net/netip"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/ipam"
	"github.com/vland/vland/internal/store"
)

// Subnets allocated from a pool. The prefix is chosen from the cache (the
// pool's subnets and the prefixes other requests of this server hold) and
// made exact by the subnet's transaction: it creates the prefix's
// allocation key on the conditions that neither the key, nor a key under
// it (a smaller prefix inside), nor a key of an enclosing prefix exists,
// and that the pool is unchanged. With a default_quota it also requires
// that the project created no subnet in the pool since the usage it
// counted (a quota of 0, as in Neutron, is no limit).

// pooled reports whether a subnet create allocates from a pool.
func (r *SubnetRequest) pooled() bool {
	return r.SubnetPoolID.has() || r.UseDefaultSubnetPool.or(false)
}

// checkPoolRequest validates the pool attributes of a subnet create.
func checkPoolRequest(r *SubnetRequest) error {
	switch {
	case r.SubnetPoolID.has() && r.UseDefaultSubnetPool.or(false):
		return fault.New(fault.ErrBadRequest, "Bad subnets request: subnetpool_id and use_default_subnetpool cannot both be specified.")
	case r.Prefixlen.Set && !r.pooled():
		return fault.New(fault.ErrBadRequest, "Bad subnets request: prefixlen needs a subnet pool.")
	case r.Prefixlen.Set && r.CIDR.has():
		return fault.New(fault.ErrBadRequest, "Bad subnets request: cidr and prefixlen must not be supplied together.")
	case !r.CIDR.has() && !r.pooled():
		return fault.New(fault.ErrBadRequest, "Bad subnets request: a subnetpool must be specified in the absence of a cidr.")
	}
	return nil
}

// poolHolds are the prefixes one subnet write attempt holds.
type poolHolds struct {
	c    *cache
	held []poolHold
	rev  int64 // the commit's revision, 0 if it did not commit
	// units are the quota units this attempt took so far, by
	// "<pool>/<project>" (a bulk create's earlier subnets count).
	units map[string]uint64
}

type poolHold struct {
	pool   string
	prefix netip.Prefix
}

func (h *poolHolds) release() {
	for _, x := range h.held {
		h.c.releaseHold(x.pool, x.prefix, h.rev)
	}
}

// requestPool resolves the pool a subnet create names (or the default
// one of its IP version).
func (s *Service) requestPool(who identity.Identity, r *SubnetRequest) (versioned[storedPool], error) {
	if r.SubnetPoolID.has() {
		return s.visiblePool(who, r.SubnetPoolID.V)
	}
	version := r.IPVersion.or(4)
	v, ok := s.cache.defaultPool(version)
	if !ok || !canSeePool(who, &v.obj.SubnetPool) {
		return v, fault.New(fault.ErrBadRequest, "Bad subnets request: No default subnetpool found for IPv%d.", version)
	}
	return v, nil
}

// allocSubnet gives sub its prefix from the pool r names, holding it in h,
// and returns the conditions and writes of the allocation.
func (s *Service) allocSubnet(who identity.Identity, sub *api.Subnet, r *SubnetRequest, h *poolHolds) ([]store.Cond, []store.Op, error) {
	v, err := s.requestPool(who, r)
	if err != nil {
		return nil, nil, err
	}
	pool := v.obj.SubnetPool
	if r.IPVersion.has() && r.IPVersion.V != pool.IPVersion {
		return nil, nil, fault.New(fault.ErrBadRequest, "Bad subnets request: Cannot allocate IPv%d subnet from IPv%d subnet pool.", r.IPVersion.V, pool.IPVersion)
	}
	var want netip.Prefix
	length := r.Prefixlen.or(pool.DefaultPrefixLen)
	if r.CIDR.has() {
		if want, err = ipam.ParseCIDR(r.CIDR.V, pool.IPVersion); err != nil {
			return nil, nil, err
		}
		length = want.Bits()
	}
	if length < pool.MinPrefixLen {
		return nil, nil, fault.New(ErrMinPrefixAllocation, "Unable to allocate subnet with prefix length %d, minimum allowed prefix is %d.", length, pool.MinPrefixLen)
	}
	if length > pool.MaxPrefixLen {
		return nil, nil, fault.New(ErrMaxPrefixAllocation, "Unable to allocate subnet with prefix length %d, maximum allowed prefix is %d.", length, pool.MaxPrefixLen)
	}
	var usedAt int64
	quotaKey, units := pool.ID+"/"+sub.ProjectID, ipam.Units(pool.IPVersion, length)
	p, err := s.cache.holdPoolPrefix(pool.ID, sub.ProjectID, func(u poolUsage) (netip.Prefix, error) {
		usedAt = u.rev
		used := ipam.AddSat(u.units, h.units[quotaKey])
		if q := pool.DefaultQuota; q != nil && *q > 0 && ipam.AddSat(used, units) > uint64(*q) {
			return netip.Prefix{}, fault.New(ErrPoolQuotaExceeded, "Per-tenant subnet pool prefix quota exceeded.")
		}
		free := prefixesOf(&pool)
		for _, t := range u.taken {
			free = ipam.Subtract(free, t)
		}
		if want.IsValid() {
			if !ipam.Covers(free, want) {
				return want, fault.New(ErrSubnetAllocation, "Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.")
			}
			return want, nil
		}
		got, ok := ipam.ChoosePrefix(free, length)
		if !ok {
			return got, fault.New(ErrPoolExhausted, "Failed to allocate subnet: Insufficient prefix space to allocate subnet size /%d.", length)
		}
		return got, nil
	})
	if err != nil {
		return nil, nil, err
	}
	h.held = append(h.held, poolHold{pool.ID, p})
	if h.units == nil {
		h.units = map[string]uint64{}
	}
	h.units[quotaKey] = ipam.AddSat(h.units[quotaKey], units)
	sub.CIDR, sub.IPVersion, sub.SubnetPoolID = p.String(), pool.IPVersion, &pool.ID
	if err := setAddressing(sub, r, true); err != nil {
		return nil, nil, err
	}
	conds := append([]store.Cond{{Key: store.SubnetPoolKey(pool.ID), ModRevision: v.rev}}, freeRange(pool.ID, p)...)
	if pool.DefaultQuota != nil && *pool.DefaultQuota > 0 {
		conds = append(conds, store.NoKeysCreatedUnder(store.PoolUsageOf(pool.ID, sub.ProjectID), usedAt))
	}
	ops := []store.Op{{Key: store.PoolPrefixKey(pool.ID, ipam.PrefixBits(p)), Value: []byte(sub.ID)}}
	for _, k := range poolKeys(sub)[1:] {
		ops = append(ops, store.Op{Key: k, Value: []byte(sub.CIDR)})
	}
	return conds, ops, nil
}

// freeRange is the conditions that no subnet of the pool overlaps p: no
// allocation key at or under p's, nor at any enclosing prefix.
func freeRange(poolID string, p netip.Prefix) []store.Cond {
	bits := ipam.PrefixBits(p)
	conds := []store.Cond{store.NoKeysUnder(store.PoolPrefixKey(poolID, bits))}
	for i := 0; i < len(bits); i++ {
		conds = append(conds, store.Cond{Key: store.PoolPrefixKey(poolID, bits[:i])})
	}
	return conds
}

// poolKeys are the keys a subnet allocated from a pool holds (none for
// other subnets): its prefix's allocation key and its usage key. Deleting
// the subnet deletes them.
func poolKeys(sub *api.Subnet) []string {
	if sub.SubnetPoolID == nil {
		return nil
	}
	p, err := netip.ParsePrefix(sub.CIDR)
	if err != nil {
		return nil
	}
	return []string{store.PoolPrefixKey(*sub.SubnetPoolID, ipam.PrefixBits(p)),
		store.PoolUsageOf(*sub.SubnetPoolID, sub.ProjectID) + sub.ID}
}

func deleteOps(keys []string) []store.Op {
	ops := make([]store.Op, len(keys))
	for i, k := range keys {
		ops[i] = store.Op{Key: k, Delete: true}
	}
	return ops
}

// checkPoolAffinity refuses a subnet whose network has subnets of its IP
// version from another pool (or from none when it has one), as Neutron.
func (s *Service) checkPoolAffinity(n *api.Network, sub *api.Subnet) error {
	for _, id := range n.Subnets {
		other, ok := s.cache.subnet(id)
		if !ok || other.obj.IPVersion != sub.IPVersion {
			continue
		}
		a, b := other.obj.SubnetPoolID, sub.SubnetPoolID
		if (a == nil) != (b == nil) || (a != nil && *a != *b) {
			return fault.New(ErrPoolAffinity, "Subnets hosted on the same network must be allocated from the same subnet pool.")
		}
	}
	return nil
}

func addUnits(u uint64, p netip.Prefix) uint64 {
	return ipam.AddSat(u, ipam.Units(ipam.Version(p.Addr()), p.Bits()))
}
