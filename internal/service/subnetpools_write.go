package service

import (
	"context"
	"errors"
	"net/netip"
	"slices"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/ipam"
	"github.com/vland/vland/internal/store"
)

// Subnet pool updates and deletes, and the write that every pool change
// goes through (poolWrite: the pool, its default-pool key and its address
// scope in one transaction).

// UpdateSubnetPool changes a pool: its prefixes may only grow, its
// prefix lengths and quota change freely (subnets already allocated keep
// theirs, as in Neutron). Only admins change is_default.
func (s *Service) UpdateSubnetPool(ctx context.Context, id string, r SubnetPoolRequest, ifMatch int64) (api.SubnetPool, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.SubnetPool{}, err
	}
	if r.IsDefault.Set && !who.IsAdmin() {
		return api.SubnetPool{}, forbidden("update_subnetpool:is_default")
	}
	return s.changePool(ctx, who, id, ifMatch, func(p *api.SubnetPool) error {
		if err := applyPoolRequest(p, &r, false); err != nil {
			return err
		}
		p.IsDefault = r.IsDefault.or(p.IsDefault)
		if r.AddressScopeID.Set {
			p.AddressScopeID = nil
			if r.AddressScopeID.has() {
				id := r.AddressScopeID.V
				p.AddressScopeID = &id
			}
		}
		return nil
	}, nil)
}

// AddPrefixes adds prefixes to a pool (subnetpool-prefix-ops) and
// returns the pool's prefixes.
func (s *Service) AddPrefixes(ctx context.Context, id string, prefixes []string) ([]string, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.changePool(ctx, who, id, -1, func(p *api.SubnetPool) error {
		return applyPoolRequest(p, &SubnetPoolRequest{Prefixes: Some(append(slices.Clone(p.Prefixes), prefixes...))}, false)
	}, nil)
	return p.Prefixes, err
}

// RemovePrefixes takes prefixes off a pool that no subnet of the pool
// uses (the write conditions on their allocation key ranges being empty).
func (s *Service) RemovePrefixes(ctx context.Context, id string, prefixes []string) ([]string, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	var removed []netip.Prefix
	p, err := s.changePool(ctx, who, id, -1, func(p *api.SubnetPool) error {
		drop, version, err := parsePrefixes(prefixes)
		if err != nil {
			return err
		}
		if version != p.IPVersion {
			return fault.New(ErrPoolPrefixes, "Illegal update to prefixes: the prefixes are not of IP version %d.", p.IPVersion)
		}
		left := prefixesOf(p)
		for _, d := range drop {
			left = ipam.Subtract(left, d)
		}
		if len(left) == 0 {
			return fault.New(ErrEmptyPrefixList, "Empty subnet pool prefix list.")
		}
		for _, sub := range s.cache.poolSubnets(p.ID) {
			if c := netip.MustParsePrefix(sub.CIDR); !ipam.Covers(left, c) {
				return fault.New(ErrPoolUpdate, "Illegal subnetpool update : prefix %s of subnet %s is in use.", c, sub.ID)
			}
		}
		removed = drop
		p.Prefixes = prefixStrings(ipam.Compact(left))
		return nil
	}, func(w *poolWrite, p *api.SubnetPool) {
		for _, d := range removed {
			w.conds = append(w.conds, freeRange(p.ID, d)...)
		}
	})
	return p.Prefixes, err
}

// changePool runs one pool update: edit changes a copy of the pool, more
// (optional) adds conditions to the write.
func (s *Service) changePool(ctx context.Context, who identity.Identity, id string, ifMatch int64,
	edit func(*api.SubnetPool) error, more func(*poolWrite, *api.SubnetPool)) (api.SubnetPool, error) {
	var out api.SubnetPool
	err := s.retry(ctx, func() error {
		v, err := s.writablePool(who, id, "update_subnetpool")
		if err != nil {
			return err
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		p := v.obj.SubnetPool
		p.Prefixes, p.Tags = slices.Clone(p.Prefixes), slices.Clone(p.Tags)
		if err := edit(&p); err != nil {
			return err
		}
		p.RevisionNumber++
		p.UpdatedAt = s.timestamp()
		w := s.newPoolWrite(ctx, who)
		if err := w.put(&p, &v); err != nil {
			return err
		}
		if more != nil {
			more(w, &p)
		}
		out = p
		return w.commit()
	})
	if err == nil {
		s.catchUp(ctx)
	}
	return out, err
}

// DeleteSubnetPool deletes a pool no subnet was allocated from (else 400
// SubnetPoolDeleteError, as Neutron).
func (s *Service) DeleteSubnetPool(ctx context.Context, id string, ifMatch int64) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	err = s.retry(ctx, func() error {
		v, err := s.writablePool(who, id, "delete_subnetpool")
		if err != nil {
			return err
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		if len(s.cache.poolSubnets(id)) > 0 {
			return fault.New(ErrPoolDelete, "Unable to delete subnet pool: Subnet pool has existing allocations.")
		}
		conds := []store.Cond{{Key: store.SubnetPoolKey(id), ModRevision: v.rev}, store.NoKeysUnder(store.PoolPrefixesOf(id))}
		ops := []store.Op{{Key: store.SubnetPoolKey(id), Delete: true}}
		if v.obj.IsDefault {
			ops = append(ops, store.Op{Key: store.DefaultPoolKey(v.obj.IPVersion), Delete: true})
		}
		_, err = s.txn(ctx, conds, ops)
		return err
	})
	if err == nil {
		s.catchUp(ctx)
	}
	return err
}

// poolWrite collects the conditions and writes of one pool transaction:
// the pools themselves, the default-pool keys and the address scopes
// they join.
type poolWrite struct {
	s      *Service
	ctx    context.Context
	who    identity.Identity
	conds  []store.Cond
	ops    []store.Op
	scopes map[string]*scopeCheck
}

func (s *Service) newPoolWrite(ctx context.Context, who identity.Identity) *poolWrite {
	return &poolWrite{s: s, ctx: ctx, who: who, scopes: map[string]*scopeCheck{}}
}

// put adds the write of pool p (old: its current version, nil on create).
func (w *poolWrite) put(p *api.SubnetPool, old *versioned[storedPool]) error {
	key := store.SubnetPoolKey(p.ID)
	var rev int64
	wasDefault := false
	if old != nil {
		rev, wasDefault = old.rev, old.obj.IsDefault
	}
	w.conds = append(w.conds, store.Cond{Key: key, ModRevision: rev})
	w.ops = append(w.ops, store.Op{Key: key, Value: mustJSON(storedPool{*p})})
	if err := w.defaultKey(p, wasDefault); err != nil {
		return err
	}
	if old != nil && old.obj.AddressScopeID != nil && !w.who.IsAdmin() {
		if sc, ok := w.s.cache.scope(*old.obj.AddressScopeID); ok && sc.obj.ProjectID != w.who.ProjectID {
			return fault.New(ErrPoolUpdate, "Illegal subnetpool update : subnetpool %s cannot be updated when associated with shared address scope %s.", p.ID, sc.obj.ID)
		}
	}
	if p.AddressScopeID == nil {
		return nil
	}
	return w.joinScope(p)
}

// defaultKey claims or frees the default-pool key of p's IP version.
func (w *poolWrite) defaultKey(p *api.SubnetPool, wasDefault bool) error {
	key := store.DefaultPoolKey(p.IPVersion)
	switch {
	case p.IsDefault && !wasDefault:
		kv, err := w.s.st.Get(w.ctx, key)
		if err == nil && string(kv.Value) != p.ID {
			return fault.InvalidInput("A default subnetpool for this IP family has already been set. Only one default may exist per IP family")
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		w.conds = append(w.conds, store.Cond{Key: key, ModRevision: kv.ModRevision})
		w.ops = append(w.ops, store.Op{Key: key, Value: []byte(p.ID)})
	case !p.IsDefault && wasDefault:
		w.ops = append(w.ops, store.Op{Key: key, Delete: true})
	}
	return nil
}

func (w *poolWrite) commit() error {
	for _, sc := range w.scopes {
		w.conds = append(w.conds, store.Cond{Key: store.AddressScopeKey(sc.scope.ID), ModRevision: sc.rev})
		sc.scope.Generation++
		w.ops = append(w.ops, store.Op{Key: store.AddressScopeKey(sc.scope.ID), Value: mustJSON(sc.scope)})
	}
	_, err := w.s.txn(w.ctx, w.conds, w.ops)
	return err
}
