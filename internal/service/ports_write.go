package service

import (
	"context"
	"slices"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// UpdatePort changes a port. New addresses in fixed_ips are allocated and
// removed ones freed in the same transaction as the port.
func (s *Service) UpdatePort(ctx context.Context, id string, r PortRequest, ifMatch int64) (api.Port, error) {
	who, err := caller(ctx)
	if err != nil {
		return api.Port{}, err
	}
	if r.ProjectID.Set {
		return api.Port{}, errorf(ErrBadRequest, "Cannot update read-only attribute project_id")
	}
	if err := s.cache.sync(ctx); err != nil {
		return api.Port{}, err
	}
	var out api.Port
	err = s.retry(ctx, func() error {
		a := &alloc{s: s}
		defer a.release()
		p, conds, ops, err := s.updatedPort(who, id, &r, a, ifMatch)
		if err != nil {
			return err
		}
		if _, err := s.txn(ctx, conds, ops); err != nil {
			return err
		}
		s.cache.claim(a.keys...)
		out = p
		return nil
	})
	if err != nil {
		return api.Port{}, err
	}
	return s.portView(out), nil
}

// updatedPort computes the updated port and the transaction that writes it.
func (s *Service) updatedPort(who identity.Identity, id string, r *PortRequest, a *alloc, ifMatch int64) (api.Port, []store.Cond, []store.Op, error) {
	v, ok := s.cache.port(id)
	if !ok || !s.portVisible(who, &v.obj) {
		return api.Port{}, nil, nil, portNotFound(id)
	}
	if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
		return api.Port{}, nil, nil, err
	}
	old := v.obj
	if r.NetworkID.Set && r.NetworkID.V != old.NetworkID {
		return api.Port{}, nil, nil, errorf(ErrBadRequest, "Cannot update read-only attribute network_id")
	}
	nv, ok := s.cache.network(old.NetworkID)
	if !ok || nv.obj.Deleting {
		return api.Port{}, nil, nil, networkNotFound(old.NetworkID)
	}
	if err := checkPortPolicy(who, &nv.obj.Network, r, "update_port"); err != nil {
		return api.Port{}, nil, nil, err
	}
	p := applyPortUpdate(old, r)
	a.owner = p.DeviceOwner
	conds := []store.Cond{{Key: store.PortKey(id), ModRevision: v.rev}}
	var ops []store.Op
	if r.MACAddress.has() {
		if norm, err := normalizeMAC(r.MACAddress.V); err == nil && norm == old.MACAddress {
			r.MACAddress = Opt[string]{} // unchanged
		}
	}
	if r.MACAddress.has() {
		if !who.IsAdmin() {
			return p, nil, nil, forbidden("update_port:mac_address")
		}
		mac, err := a.chooseMAC(r.MACAddress, old.NetworkID)
		if err != nil {
			return p, nil, nil, err
		}
		if mac != old.MACAddress {
			p.MACAddress = mac
			ops = append(ops, store.Op{Key: store.MACKey(old.MACAddress), Delete: true})
		}
	}
	if r.FixedIPs.Set {
		subs := s.networkSubnets(&nv.obj.Network)
		keep := map[api.FixedIP]bool{}
		for _, f := range old.FixedIPs {
			keep[f] = true
		}
		req := Some(keepBySubnet(r.FixedIPs.V, old.FixedIPs))
		ips, err := a.fixedIPs(req, &nv.obj.Network, subs, keep)
		if err != nil {
			return p, nil, nil, err
		}
		p.FixedIPs = ips
		for _, f := range old.FixedIPs {
			if !slices.Contains(ips, f) {
				ops = append(ops, store.Op{Key: store.IPKey(f.SubnetID, f.IPAddress), Delete: true})
			}
		}
		conds = append(conds, portConds(nv, subs, newIPs(ips, keep))...)
	}
	if err := setPairs(&p, r.AllowedAddressPairs); err != nil {
		return p, nil, nil, err
	}
	if p.BindingVNICType != vnicNormal {
		return p, nil, nil, badAttr("binding:vnic_type", "'%s' is not supported", p.BindingVNICType)
	}
	p.RevisionNumber++
	p.UpdatedAt = s.timestamp()
	for _, k := range a.keys {
		conds = append(conds, store.Cond{Key: k})
	}
	return p, conds, append(portOps(&p, a.keys), ops...), nil
}

func applyPortUpdate(old api.Port, r *PortRequest) api.Port {
	p := old
	p.Name = r.Name.or(p.Name)
	p.Description = r.Description.or(p.Description)
	p.DeviceID = r.DeviceID.or(p.DeviceID)
	p.DeviceOwner = r.DeviceOwner.or(p.DeviceOwner)
	p.AdminStateUp = r.AdminStateUp.or(p.AdminStateUp)
	p.PortSecurityEnabled = r.PortSecurityEnabled.or(p.PortSecurityEnabled)
	p.SecurityGroups = nonNil(r.SecurityGroups.or(p.SecurityGroups))
	p.BindingHostID = r.BindingHostID.or(p.BindingHostID)
	if r.BindingHostID.Set && r.BindingHostID.Null {
		p.BindingHostID = ""
	}
	p.BindingProfile = r.BindingProfile.or(p.BindingProfile)
	p.BindingVNICType = r.BindingVNICType.or(p.BindingVNICType)
	return p
}

// keepBySubnet turns subnet-only entries into the address the port already
// has on that subnet (Neutron keeps it rather than allocating anew).
func keepBySubnet(req, old []api.FixedIP) []api.FixedIP {
	out := slices.Clone(req)
	used := map[api.FixedIP]bool{}
	for _, f := range out {
		if f.IPAddress != "" {
			used[api.FixedIP{SubnetID: f.SubnetID, IPAddress: f.IPAddress}] = true
		}
	}
	for i, f := range out {
		if f.IPAddress != "" || f.SubnetID == "" {
			continue
		}
		for _, o := range old {
			if o.SubnetID == f.SubnetID && !used[o] {
				out[i], used[o] = o, true
				break
			}
		}
	}
	return out
}

// newIPs are the addresses in ips the port did not hold before.
func newIPs(ips []api.FixedIP, had map[api.FixedIP]bool) []api.FixedIP {
	var out []api.FixedIP
	for _, f := range ips {
		if !had[f] {
			out = append(out, f)
		}
	}
	return out
}

// DeletePort deletes a port and frees its addresses and MAC.
func (s *Service) DeletePort(ctx context.Context, id string, ifMatch int64) error {
	who, err := caller(ctx)
	if err != nil {
		return err
	}
	if err := s.cache.sync(ctx); err != nil {
		return err
	}
	return s.retry(ctx, func() error {
		v, ok := s.cache.port(id)
		if !ok || !s.portVisible(who, &v.obj) {
			return portNotFound(id)
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		_, err := s.txn(ctx, []store.Cond{{Key: store.PortKey(id), ModRevision: v.rev}}, portDeleteOps(&v.obj))
		return err
	})
}
