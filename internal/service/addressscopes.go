package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/ipam"
	"github.com/vland/vland/internal/store"
)

// Address scopes (Neutron's address-scope): the subnet pools of one scope
// never overlap. Every pool write that puts a pool in a scope rewrites
// the scope (its private generation) under the scope's revision, and
// reads the scope's pools from the store after reading the scope: two
// concurrent writes into one scope cannot both pass the overlap check,
// and a scope delete cannot miss a pool that joined meanwhile.

// AddressScopeRequest is the body of an address scope create or update.
type AddressScopeRequest struct {
	Name      Opt[string]
	ProjectID Opt[string]
	IPVersion Opt[int]
	Shared    Opt[bool]
}

// storedScope is a scope as the store keeps it.
type storedScope struct {
	api.AddressScope
	Generation int64 `json:"vland:generation,omitempty"`
}

func canSeeScope(who identity.Identity, sc *api.AddressScope) bool {
	return readsProject(who, sc.ProjectID) || sc.Shared
}

// scopeCheck is one scope a pool write joins: the scope as read from the
// store and the prefixes of its pools.
type scopeCheck struct {
	scope storedScope
	rev   int64
	pools map[string][]netip.Prefix
}

// joinScope checks that pool p may be in its address scope and does not
// overlap the scope's other pools; commit then rewrites the scope.
func (w *poolWrite) joinScope(p *api.SubnetPool) error {
	id := *p.AddressScopeID
	sc, ok := w.scopes[id]
	if !ok {
		var err error
		if sc, err = w.readScope(id); err != nil {
			return err
		}
		w.scopes[id] = sc
	}
	if sc.scope.IPVersion != p.IPVersion {
		return fault.New(ErrScopeVersionAssociation, "Illegal subnetpool association: subnetpool %s cannot associate with address scope %s because subnetpool ip_version is not %d.",
			p.ID, id, sc.scope.IPVersion)
	}
	mine := prefixesOf(p)
	for other, ps := range sc.pools {
		if other != p.ID && ipam.OverlapsAny(ps, mine) {
			return fault.New(ErrScopePrefixConflict, "Failed to associate address scope: subnetpools within an address scope must have unique prefixes.")
		}
	}
	sc.pools[p.ID] = mine
	return nil
}

// readScope reads a scope the caller may use and its pools from the store.
func (w *poolWrite) readScope(id string) (*scopeCheck, error) {
	kv, err := w.s.st.Get(w.ctx, store.AddressScopeKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, addressScopeNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	sc := &scopeCheck{rev: kv.ModRevision}
	if err := json.Unmarshal(kv.Value, &sc.scope); err != nil {
		return nil, fmt.Errorf("service: decode %s: %w", kv.Key, err)
	}
	if !canSeeScope(w.who, &sc.scope.AddressScope) {
		return nil, addressScopeNotFound(id)
	}
	pools, err := scopePools(w.ctx, w.s.st, id)
	if err != nil {
		return nil, err
	}
	sc.pools = map[string][]netip.Prefix{}
	for _, p := range pools {
		sc.pools[p.ID] = prefixesOf(&p.SubnetPool)
	}
	return sc, nil
}

// scopePools lists the pools of a scope from the store.
func scopePools(ctx context.Context, st store.Store, scopeID string) ([]storedPool, error) {
	kvs, _, err := st.List(ctx, store.SubnetPoolsPrefix)
	if err != nil {
		return nil, err
	}
	var out []storedPool
	for _, kv := range kvs {
		var p storedPool
		if json.Unmarshal(kv.Value, &p) == nil && p.AddressScopeID != nil && *p.AddressScopeID == scopeID {
			out = append(out, p)
		}
	}
	return out, nil
}

// CreateAddressScopes creates address scopes (bulk: all or none). Only
// admins create shared ones.
func (s *Service) CreateAddressScopes(ctx context.Context, reqs []AddressScopeRequest) ([]api.AddressScope, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.AddressScope, len(reqs))
	var ops []store.Op
	for i, r := range reqs {
		if err := canCreate(who, "create_address_scope"); err != nil {
			return nil, err
		}
		if r.Shared.or(false) && !who.IsAdmin() {
			return nil, forbidden("create_address_scope:shared")
		}
		if !r.IPVersion.Set {
			return nil, fault.New(fault.ErrBadRequest, "Failed to parse request. Required attribute 'ip_version' not specified")
		}
		if v := r.IPVersion.V; v != 4 && v != 6 {
			return nil, fault.BadAttr("ip_version", "%d is not in [4, 6]", v)
		}
		project, err := projectFor(who, r.ProjectID)
		if err != nil {
			return nil, err
		}
		out[i] = api.AddressScope{ID: newID(), Name: r.Name.or(""), ProjectID: project, TenantID: project,
			IPVersion: r.IPVersion.V, Shared: r.Shared.or(false)}
		ops = append(ops, store.Op{Key: store.AddressScopeKey(out[i].ID), Value: mustJSON(storedScope{AddressScope: out[i]})})
	}
	if _, err := s.txn(ctx, nil, ops); err != nil {
		return nil, err
	}
	s.catchUp(ctx)
	return out, nil
}

// GetAddressScope returns a scope the caller may see.
func (s *Service) GetAddressScope(ctx context.Context, id string) (api.AddressScope, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.AddressScope{}, err
	}
	v, ok := s.cache.scope(id)
	if !ok || !canSeeScope(who, &v.obj.AddressScope) {
		return api.AddressScope{}, addressScopeNotFound(id)
	}
	return v.obj.AddressScope, nil
}

// ListAddressScopes returns the scopes the caller may see, by id.
func (s *Service) ListAddressScopes(ctx context.Context) ([]api.AddressScope, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	var out []api.AddressScope
	for _, v := range s.cache.allScopes() {
		if canSeeScope(who, &v.obj.AddressScope) {
			out = append(out, v.obj.AddressScope)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s *Service) writableScope(who identity.Identity, id, action string) (versioned[storedScope], error) {
	v, ok := s.cache.scope(id)
	if !ok || !canSeeScope(who, &v.obj.AddressScope) {
		return v, addressScopeNotFound(id)
	}
	if !writesProject(who, v.obj.ProjectID) {
		return v, forbidden(action)
	}
	return v, nil
}

// UpdateAddressScope renames a scope or shares it (admins only); a shared
// scope cannot be unshared, as in Neutron.
func (s *Service) UpdateAddressScope(ctx context.Context, id string, r AddressScopeRequest, _ int64) (api.AddressScope, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.AddressScope{}, err
	}
	if r.Shared.Set && !who.IsAdmin() {
		return api.AddressScope{}, forbidden("update_address_scope:shared")
	}
	var out api.AddressScope
	err = s.retry(ctx, func() error {
		v, err := s.writableScope(who, id, "update_address_scope")
		if err != nil {
			return err
		}
		sc := v.obj
		if sc.Shared && !r.Shared.or(true) {
			return fault.New(ErrScopeUpdate, "Unable to update address scope %s : Shared address scope can't be unshared.", id)
		}
		sc.Name = r.Name.or(sc.Name)
		sc.Shared = r.Shared.or(sc.Shared)
		out = sc.AddressScope
		_, err = s.txn(ctx, []store.Cond{{Key: store.AddressScopeKey(id), ModRevision: v.rev}},
			[]store.Op{{Key: store.AddressScopeKey(id), Value: mustJSON(sc)}})
		return err
	})
	if err == nil {
		s.catchUp(ctx)
	}
	return out, err
}

// DeleteAddressScope deletes a scope no pool is in (else 409
// AddressScopeInUse).
func (s *Service) DeleteAddressScope(ctx context.Context, id string, ifMatch int64) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	err = s.retry(ctx, func() error {
		if _, err := s.writableScope(who, id, "delete_address_scope"); err != nil {
			return err
		}
		// The revision read first: a pool joining later rewrites the scope
		// and fails this delete's condition.
		kv, err := s.st.Get(ctx, store.AddressScopeKey(id))
		if errors.Is(err, store.ErrNotFound) {
			return addressScopeNotFound(id)
		}
		if err != nil {
			return err
		}
		pools, err := scopePools(ctx, s.st, id)
		if err != nil {
			return err
		}
		if len(pools) > 0 {
			return fault.New(ErrScopeInUse, "Unable to complete operation on address scope %s. There are one or more subnet pools in use on the address scope.", id)
		}
		_, err = s.txn(ctx, []store.Cond{{Key: store.AddressScopeKey(id), ModRevision: kv.ModRevision}},
			[]store.Op{{Key: store.AddressScopeKey(id), Delete: true}})
		return err
	})
	if err == nil {
		s.catchUp(ctx)
	}
	return err
}
