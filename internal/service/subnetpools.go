package service

import (
	"context"
	"net/netip"
	"sort"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/ipam"
	"github.com/vland/vland/internal/store"
)

// Subnet pools (Neutron's subnet_allocation and default-subnetpools).
// A pool is a stored object; what it has handed out is its subnets, each
// holding an allocation key of its prefix (see store.PoolPrefixKey), so
// allocation is exact across servers without serializing creates on the
// pool. Pool writes condition on the pool's revision, and allocations on
// it too (without writing it), so an allocation never uses a pool that
// changed or went away meanwhile. Pools in an address scope are checked
// for overlap against the store, under the scope's revision (every pool
// write that joins a scope rewrites the scope, see addressscopes.go).

// SubnetPoolRequest is the body of a subnet pool create or update.
type SubnetPoolRequest struct {
	Name             Opt[string]
	Description      Opt[string]
	ProjectID        Opt[string]
	Prefixes         Opt[[]string]
	DefaultPrefixLen Opt[int]
	MinPrefixLen     Opt[int]
	MaxPrefixLen     Opt[int]
	Shared           Opt[bool]
	IsDefault        Opt[bool]
	DefaultQuota     Opt[int]    // null: unlimited
	AddressScopeID   Opt[string] // null: none
	Tags             Opt[[]string]
}

// storedPool is a pool as the store keeps it.
type storedPool struct {
	api.SubnetPool
}

func canSeePool(who identity.Identity, p *api.SubnetPool) bool {
	return readsProject(who, p.ProjectID) || p.Shared
}

// prefixesOf parses a stored pool's prefixes.
func prefixesOf(p *api.SubnetPool) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(p.Prefixes))
	for _, s := range p.Prefixes {
		if q, err := netip.ParsePrefix(s); err == nil {
			out = append(out, q)
		}
	}
	return out
}

// parsePrefixes validates a prefixes attribute into a compact list of one
// IP version.
func parsePrefixes(in []string) ([]netip.Prefix, int, error) {
	if len(in) == 0 {
		return nil, 0, fault.New(ErrEmptyPrefixList, "Empty subnet pool prefix list.")
	}
	var ps []netip.Prefix
	version := 0
	for _, s := range in {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, 0, fault.BadAttr("prefixes", "'%s' is not a valid IP subnet", s)
		}
		if p.Masked() != p {
			return nil, 0, fault.BadAttr("prefixes", "'%s' isn't a recognized IP subnet cidr, '%s' is recommended", s, p.Masked())
		}
		if v := ipam.Version(p.Addr()); version == 0 {
			version = v
		} else if v != version {
			return nil, 0, fault.New(ErrPrefixVersionMismatch, "Cannot mix IPv4 and IPv6 prefixes in a subnet pool.")
		}
		ps = append(ps, p)
	}
	return ipam.Compact(ps), version, nil
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// applyPoolRequest merges r into p (a new pool's zero value on create)
// and validates the result as Neutron's SubnetPoolReader: prefixes of one
// version, compacted; min_prefixlen defaulting to 8 (IPv4) or 64 (IPv6),
// max_prefixlen to the address length, default_prefixlen to the minimum.
func applyPoolRequest(p *api.SubnetPool, r *SubnetPoolRequest, create bool) error {
	p.Name = r.Name.or(p.Name)
	p.Description = r.Description.or(p.Description)
	if r.Prefixes.Set {
		ps, version, err := parsePrefixes(r.Prefixes.or(nil))
		if err != nil {
			return err
		}
		if !create {
			if version != p.IPVersion || !ipam.CoversAll(ps, prefixesOf(p)) {
				return fault.New(ErrPoolPrefixes, "Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.")
			}
		}
		p.Prefixes, p.IPVersion = prefixStrings(ps), version
	}
	if create {
		if !r.Prefixes.Set {
			return fault.New(fault.ErrBadRequest, "Failed to parse request. Required attribute 'prefixes' not specified")
		}
		p.MaxPrefixLen = 32
		p.MinPrefixLen = 8
		if p.IPVersion == 6 {
			p.MaxPrefixLen, p.MinPrefixLen = 128, 64
		}
		p.MinPrefixLen = r.MinPrefixLen.or(p.MinPrefixLen)
		p.DefaultPrefixLen = p.MinPrefixLen
	}
	for name, o := range map[string]Opt[int]{"min_prefixlen": r.MinPrefixLen, "max_prefixlen": r.MaxPrefixLen,
		"default_prefixlen": r.DefaultPrefixLen} {
		if o.Set && (o.Null || o.V < 0) {
			return fault.BadAttr(name, "'%d' should be non-negative", o.V)
		}
	}
	p.MinPrefixLen = r.MinPrefixLen.or(p.MinPrefixLen)
	p.MaxPrefixLen = r.MaxPrefixLen.or(p.MaxPrefixLen)
	p.DefaultPrefixLen = r.DefaultPrefixLen.or(p.DefaultPrefixLen)
	if r.DefaultQuota.Set {
		if r.DefaultQuota.Null {
			p.DefaultQuota = nil
		} else if q := r.DefaultQuota.V; q < 0 {
			return fault.BadAttr("default_quota", "'%d' should be non-negative", q)
		} else {
			p.DefaultQuota = &q
		}
	}
	return checkPoolBounds(p)
}

func checkPoolBounds(p *api.SubnetPool) error {
	bits := 32
	if p.IPVersion == 6 {
		bits = 128
	}
	switch {
	case p.MinPrefixLen > p.MaxPrefixLen:
		return prefixBounds("min_prefixlen", p.MinPrefixLen, "max_prefixlen", p.MaxPrefixLen)
	case p.MaxPrefixLen > bits:
		return prefixBounds("max_prefixlen", p.MaxPrefixLen, "ip_version_max", bits)
	case p.DefaultPrefixLen < p.MinPrefixLen:
		return prefixBounds("default_prefixlen", p.DefaultPrefixLen, "min_prefixlen", p.MinPrefixLen)
	case p.DefaultPrefixLen > p.MaxPrefixLen:
		return prefixBounds("default_prefixlen", p.DefaultPrefixLen, "max_prefixlen", p.MaxPrefixLen)
	}
	return nil
}

// CreateSubnetPools creates subnet pools (bulk: all or none). Only admins
// create shared or default pools.
func (s *Service) CreateSubnetPools(ctx context.Context, reqs []SubnetPoolRequest) ([]api.SubnetPool, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	pools := make([]api.SubnetPool, len(reqs))
	for i := range reqs {
		if pools[i], err = s.newPool(who, &reqs[i]); err != nil {
			return nil, err
		}
	}
	err = s.retry(ctx, func() error {
		w := s.newPoolWrite(ctx, who)
		for i := range pools {
			if err := w.put(&pools[i], nil); err != nil {
				return err
			}
		}
		return w.commit()
	})
	if err != nil {
		return nil, err
	}
	s.catchUp(ctx)
	return pools, nil
}

func (s *Service) newPool(who identity.Identity, r *SubnetPoolRequest) (api.SubnetPool, error) {
	if err := canCreate(who, "create_subnetpool"); err != nil {
		return api.SubnetPool{}, err
	}
	if r.Shared.or(false) && !who.IsAdmin() {
		return api.SubnetPool{}, forbidden("create_subnetpool:shared")
	}
	if r.IsDefault.or(false) && !who.IsAdmin() {
		return api.SubnetPool{}, forbidden("create_subnetpool:is_default")
	}
	project, err := projectFor(who, r.ProjectID)
	if err != nil {
		return api.SubnetPool{}, err
	}
	tags, err := createTags(r.Tags)
	if err != nil {
		return api.SubnetPool{}, err
	}
	now := s.timestamp()
	p := api.SubnetPool{ID: newID(), ProjectID: project, TenantID: project, Shared: r.Shared.or(false),
		IsDefault: r.IsDefault.or(false), Tags: tags, RevisionNumber: 1, CreatedAt: now, UpdatedAt: now}
	if err := applyPoolRequest(&p, r, true); err != nil {
		return api.SubnetPool{}, err
	}
	if r.AddressScopeID.has() {
		id := r.AddressScopeID.V
		p.AddressScopeID = &id
	}
	return p, nil
}

// GetSubnetPool returns a pool the caller may see.
func (s *Service) GetSubnetPool(ctx context.Context, id string) (api.SubnetPool, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.SubnetPool{}, err
	}
	v, err := s.visiblePool(who, id)
	return v.obj.SubnetPool, err
}

func (s *Service) visiblePool(who identity.Identity, id string) (versioned[storedPool], error) {
	v, ok := s.cache.pool(id)
	if !ok || !canSeePool(who, &v.obj.SubnetPool) {
		return v, subnetPoolNotFound(id)
	}
	return v, nil
}

func (s *Service) writablePool(who identity.Identity, id, action string) (versioned[storedPool], error) {
	v, err := s.visiblePool(who, id)
	if err == nil && !writesProject(who, v.obj.ProjectID) {
		err = forbidden(action)
	}
	return v, err
}

// ListSubnetPools returns the pools the caller may see, by id.
func (s *Service) ListSubnetPools(ctx context.Context) ([]api.SubnetPool, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	var out []api.SubnetPool
	for _, v := range s.cache.allPools() {
		if canSeePool(who, &v.obj.SubnetPool) {
			out = append(out, v.obj.SubnetPool)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Subnet pools are taggable (tag-ext's subnetpools).
func init() {
	taggables["subnetpools"] = taggable[storedPool]{
		key: store.SubnetPoolKey,
		find: func(s *Service, who identity.Identity, id string, write bool) (versioned[storedPool], error) {
			if write {
				return s.writablePool(who, id, "update_subnetpool")
			}
			return s.visiblePool(who, id)
		},
		std: func(p *storedPool) (*[]string, *int64, *string) { return &p.Tags, &p.RevisionNumber, &p.UpdatedAt },
	}
}
