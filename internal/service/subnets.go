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

// CreateSubnets creates subnets atomically (bulk create).
func (s *Service) CreateSubnets(ctx context.Context, reqs []SubnetRequest) ([]api.Subnet, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	s.catchUp(ctx)
	subs := make([]api.Subnet, len(reqs))
	for i := range reqs {
		if subs[i], err = s.newSubnet(who, &reqs[i]); err != nil {
			return nil, err
		}
	}
	err = s.retry(ctx, func() error { return s.commitSubnets(ctx, who, subs, reqs) })
	if err != nil {
		return nil, err
	}
	return subs, nil
}

// newSubnet validates a create request into a subnet (network checks
// happen in commitSubnets, against the current network).
func (s *Service) newSubnet(who identity.Identity, r *SubnetRequest) (api.Subnet, error) {
	if err := canCreate(who, "create_subnet"); err != nil {
		return api.Subnet{}, err
	}
	if !r.NetworkID.has() {
		return api.Subnet{}, fault.New(fault.ErrBadRequest, "Failed to parse request. Required attribute 'network_id' not specified")
	}
	if err := checkPoolRequest(r); err != nil {
		return api.Subnet{}, err
	}
	if r.IPv6RAMode.has() || r.IPv6AddressMode.has() {
		return api.Subnet{}, fault.InvalidInput("ipv6_ra_mode and ipv6_address_mode are not supported")
	}
	version := r.IPVersion.or(0)
	if r.IPVersion.has() && version != 4 && version != 6 {
		return api.Subnet{}, fault.BadAttr("ip_version", "%d is not in [4, 6]", version)
	}
	var cidr string
	if !r.pooled() {
		prefix, err := ipam.ParseCIDR(r.CIDR.V, version)
		if err != nil {
			return api.Subnet{}, err
		}
		version, cidr = ipam.Version(prefix.Addr()), prefix.String()
	}
	project, err := projectFor(who, r.ProjectID)
	if err != nil {
		return api.Subnet{}, err
	}
	tags, err := createTags(r.Tags)
	if err != nil {
		return api.Subnet{}, err
	}
	now := s.timestamp()
	sub := api.Subnet{
		ID: newID(), Name: r.Name.or(""), Description: r.Description.or(""),
		ProjectID: project, TenantID: project, NetworkID: r.NetworkID.V,
		IPVersion: version, CIDR: cidr, EnableDHCP: r.EnableDHCP.or(true),
		Tags: tags, RevisionNumber: 1, CreatedAt: now, UpdatedAt: now,
	}
	if r.pooled() {
		return sub, nil // addressed when its prefix is allocated (allocSubnet)
	}
	if err := setAddressing(&sub, r, true); err != nil {
		return api.Subnet{}, err
	}
	return sub, nil
}

// setAddressing validates and sets gateway, pools, nameservers and routes
// from r (on create, unset ones get their defaults; on update, unset ones
// keep their value but are checked against the new ones).
func setAddressing(sub *api.Subnet, r *SubnetRequest, create bool) error {
	req := ipam.SubnetRequest{Prefix: netip.MustParsePrefix(sub.CIDR)}
	if !create {
		req.GatewayIP, req.NoGateway = sub.GatewayIP, sub.GatewayIP == nil
		req.Pools = nonNil(sub.AllocationPools)
	}
	if r.GatewayIP.Set {
		req.GatewayIP, req.NoGateway = &r.GatewayIP.V, r.GatewayIP.Null
	}
	if r.AllocationPools.has() {
		req.Pools = nonNil(r.AllocationPools.V)
	}
	addr, err := ipam.ValidateSubnet(req)
	if err != nil {
		return err
	}
	sub.GatewayIP, sub.AllocationPools = addr.APIGateway(), addr.APIPools()
	if r.DNSNameservers.Set || create {
		if sub.DNSNameservers, err = ipam.Nameservers(r.DNSNameservers.or(nil)); err != nil {
			return err
		}
	}
	if r.HostRoutes.Set || create {
		if sub.HostRoutes, err = ipam.HostRoutes(r.HostRoutes.or(nil), sub.IPVersion); err != nil {
			return err
		}
	}
	return nil
}

// commitSubnets writes the subnets and their networks' subnet lists in one
// txn conditioned on each network's revision, which also makes the CIDR
// overlap check exact.
func (s *Service) commitSubnets(ctx context.Context, who identity.Identity, subs []api.Subnet, reqs []SubnetRequest) error {
	nets := map[string]versioned[storedNetwork]{}
	var order []string
	pending := map[string]string{} // this batch's subnets: id -> cidr
	holds := &poolHolds{c: s.cache}
	defer holds.release()
	var conds []store.Cond
	var ops []store.Op
	for i := range subs {
		if reqs[i].pooled() {
			c, o, err := s.allocSubnet(who, &subs[i], &reqs[i], holds)
			if err != nil {
				return err
			}
			conds, ops = append(conds, c...), append(ops, o...)
		}
		v, ok := nets[subs[i].NetworkID]
		if !ok {
			var err error
			if v, err = s.subnetNetwork(ctx, who, subs[i].NetworkID); err != nil {
				return err
			}
			order = append(order, v.obj.ID)
		}
		if err := s.checkOverlap(&v.obj.Network, &subs[i], pending); err != nil {
			return err
		}
		if err := s.checkPoolAffinity(&v.obj.Network, &subs[i]); err != nil {
			return err
		}
		pending[subs[i].ID] = subs[i].CIDR
		v.obj.Subnets = append(append([]string(nil), v.obj.Subnets...), subs[i].ID)
		nets[subs[i].NetworkID] = v
	}
	a := &alloc{s: s}
	defer a.release()
	quota := newQuotaGuard(s)
	for _, id := range order {
		v := nets[id]
		v.obj.RevisionNumber++
		v.obj.UpdatedAt = s.timestamp()
		conds = append(conds, store.Cond{Key: store.NetworkKey(id), ModRevision: v.rev})
		ops = append(ops, store.Op{Key: store.NetworkKey(id), Value: mustJSON(v.obj)})
	}
	for i := range subs {
		slot, err := quota.slot(a, subs[i].ProjectID, quotaSubnet)
		if err != nil {
			return err
		}
		conds = append(conds, store.Cond{Key: slot})
		ops = append(ops, store.Op{Key: slot, Value: []byte(subs[i].ID)},
			store.Op{Key: store.SubnetKey(subs[i].ID), Value: mustJSON(storedSubnet{Subnet: subs[i], QuotaSlot: slot})})
	}
	rev, err := s.txn(ctx, append(conds, quota.condList()...), ops)
	if err != nil {
		return err
	}
	holds.rev = rev
	a.commit()
	return nil
}

// subnetNetwork returns the network a new subnet goes on, enforcing
// create_subnet's ADMIN_OR_NET_OWNER_MEMBER.
func (s *Service) subnetNetwork(ctx context.Context, who identity.Identity, id string) (versioned[storedNetwork], error) {
	v, ok := s.cache.network(id)
	if !ok {
		// Maybe created through another server a moment ago.
		if err := s.cache.sync(ctx); err != nil {
			return v, err
		}
		v, ok = s.cache.network(id)
	}
	if !ok || v.obj.Deleting || !canSeeNetwork(who, &v.obj) {
		return v, networkNotFound(id)
	}
	if !writesNetwork(who, &v.obj.Network) {
		return v, forbidden("create_subnet")
	}
	return v, nil
}

// checkOverlap rejects a CIDR that overlaps another subnet of the network
// (in the network's current subnet list, or earlier in the same batch).
func (s *Service) checkOverlap(n *api.Network, sub *api.Subnet, pending map[string]string) error {
	p := netip.MustParsePrefix(sub.CIDR)
	for _, id := range n.Subnets {
		cidr, ok := pending[id]
		if other, found := s.cache.subnet(id); !ok && found {
			cidr = other.obj.CIDR
		}
		if q, err := netip.ParsePrefix(cidr); err == nil && q.Overlaps(p) {
			return fault.InvalidInput("Requested subnet with cidr: %s for network: %s overlaps with another subnet", sub.CIDR, n.ID)
		}
	}
	return nil
}

// GetSubnet returns a subnet the caller may see.
func (s *Service) GetSubnet(ctx context.Context, id string) (api.Subnet, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.Subnet{}, err
	}
	v, ok := s.cache.subnet(id)
	if !ok || !s.subnetVisible(who, &v.obj.Subnet) {
		return api.Subnet{}, subnetNotFound(id)
	}
	return v.obj.Subnet, nil
}

func (s *Service) subnetVisible(who identity.Identity, sub *api.Subnet) bool {
	return canSeeSubnet(who, sub, s.storedNetworkOf(sub.NetworkID))
}

// ListSubnets returns every subnet the caller may see, by id.
func (s *Service) ListSubnets(ctx context.Context) ([]api.Subnet, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	var out []api.Subnet
	for _, v := range s.cache.allSubnets() {
		if s.subnetVisible(who, &v.obj.Subnet) {
			out = append(out, v.obj.Subnet)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
