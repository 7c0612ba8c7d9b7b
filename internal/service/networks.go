package service

import (
	"context"
	"sort"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// CreateNetworks creates one or more networks atomically (Neutron bulk
// create): either all are created or none.
func (s *Service) CreateNetworks(ctx context.Context, reqs []NetworkRequest) ([]api.Network, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	s.catchUp(ctx)
	nets := make([]storedNetwork, len(reqs))
	for i := range reqs {
		if nets[i], err = s.newNetwork(who, &reqs[i]); err != nil {
			return nil, err
		}
	}
	err = s.retry(ctx, func() error { return s.commitNetworks(ctx, reqs, nets) })
	if err != nil {
		return nil, err
	}
	out := make([]api.Network, len(nets))
	for i := range nets {
		out[i] = networkView(who, &nets[i])
	}
	return out, nil
}

// newNetwork checks policy and attributes and builds the network without
// its segment.
func (s *Service) newNetwork(who identity.Identity, r *NetworkRequest) (storedNetwork, error) {
	if err := canCreate(who, "create_network"); err != nil {
		return storedNetwork{}, err
	}
	provider := r.isProvider()
	switch {
	case provider && !who.IsAdmin():
		return storedNetwork{}, forbidden("create_network:provider:network_type")
	case r.External.or(false) && !who.IsAdmin():
		return storedNetwork{}, forbidden("create_network:router:external")
	case r.Shared.or(false) && !who.IsAdmin():
		return storedNetwork{}, forbidden("create_network:shared")
	}
	project, err := projectFor(who, r.ProjectID)
	if err != nil {
		return storedNetwork{}, err
	}
	if provider {
		if _, err := s.providerSegment(r); err != nil {
			return storedNetwork{}, err
		}
	}
	tags, err := createTags(r.Tags)
	if err != nil {
		return storedNetwork{}, err
	}
	now := s.timestamp()
	n := api.Network{
		ID: newID(), Name: r.Name.or(""), Description: r.Description.or(""),
		ProjectID: project, TenantID: project,
		AdminStateUp: r.AdminStateUp.or(true), Status: api.StatusActive,
		Shared: r.Shared.or(false), External: r.External.or(false),
		PortSecurityEnabled: r.PortSecurityEnabled.or(true),
		Subnets:             []string{}, AvailabilityZoneHints: nonNil(r.AvailabilityZoneHints.or(nil)),
		AvailabilityZones: []string{}, Tags: tags,
		RevisionNumber: 1, CreatedAt: now, UpdatedAt: now,
	}
	if err := setDNSDomain(&n, r); err != nil {
		return storedNetwork{}, err
	}
	sn := storedNetwork{Network: n}
	flagPolicies(&sn)
	return sn, nil
}

// commitNetworks allocates segments and quota slots and writes every
// network in one txn.
func (s *Service) commitNetworks(ctx context.Context, reqs []NetworkRequest, nets []storedNetwork) error {
	var conds []store.Cond
	var ops []store.Op
	a := &alloc{s: s}
	defer a.release()
	quota := newQuotaGuard(s)
	written := 0 // a.keys already in ops
	for i := range nets {
		seg, err := s.chooseSegment(&reqs[i])
		if err != nil {
			return err
		}
		n := &nets[i]
		if k := seg.Key(); k != "" {
			// chooseSegment reserved it.
			a.reserved = append(a.reserved, k)
			a.keys = append(a.keys, k)
		}
		applySegment(&n.Network, seg)
		if n.MTU, err = s.networkMTU(seg.NetworkType, reqs[i].MTU); err != nil {
			return err
		}
		if n.QuotaSlot, err = quota.slot(a, n.ProjectID, quotaNetwork); err != nil {
			return err
		}
		for _, k := range a.keys[written:] {
			conds = append(conds, store.Cond{Key: k})
			ops = append(ops, store.Op{Key: k, Value: []byte(n.ID)})
		}
		written = len(a.keys)
		conds = append(conds, store.Cond{Key: store.NetworkKey(n.ID)})
		ops = append(ops, store.Op{Key: store.NetworkKey(n.ID), Value: mustJSON(nets[i])})
	}
	if _, err := s.txn(ctx, append(conds, quota.condList()...), ops); err != nil {
		return err
	}
	a.commit()
	return nil
}

// networkMTU is the requested MTU if it fits the segment type, else the
// largest that does.
func (s *Service) networkMTU(t string, want Opt[int]) (int, error) {
	max := s.segs.NetworkMTU(t)
	if !want.has() || want.V == 0 {
		return max, nil
	}
	if want.V > max {
		return 0, fault.InvalidInput("Requested MTU is too big, maximum is %d", max)
	}
	if want.V < 68 {
		return 0, fault.BadAttr("mtu", "%d is too small, minimum is 68", want.V)
	}
	return want.V, nil
}

// GetNetwork returns a network the caller may see.
func (s *Service) GetNetwork(ctx context.Context, id string) (api.Network, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.Network{}, err
	}
	v, ok := s.cache.network(id)
	if !ok || !canSeeNetwork(who, &v.obj) {
		return api.Network{}, networkNotFound(id)
	}
	return networkView(who, &v.obj), nil
}

// ListNetworks returns every network the caller may see, by id.
func (s *Service) ListNetworks(ctx context.Context) ([]api.Network, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	var out []api.Network
	for _, v := range s.cache.allNetworks() {
		if canSeeNetwork(who, &v.obj) {
			out = append(out, networkView(who, &v.obj))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
