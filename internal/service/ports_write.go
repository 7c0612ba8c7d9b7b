package service

import (
	"context"
	"slices"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/ipam"
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
		return api.Port{}, fault.New(fault.ErrBadRequest, "Cannot update read-only attribute project_id")
	}
	if err := s.cache.sync(ctx); err != nil {
		return api.Port{}, err
	}
	var out api.Port
	err = s.retry(ctx, func() error {
		a := &alloc{s: s, who: who}
		defer a.release()
		p, conds, ops, err := s.updatedPort(who, id, &r, a, ifMatch)
		if err != nil {
			return err
		}
		if _, err := s.txn(ctx, conds, ops); err != nil {
			return err
		}
		a.commit()
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
	if !ok || !s.portVisible(who, &v.obj.Port) {
		return api.Port{}, nil, nil, portNotFound(id)
	}
	if !canUpdatePort(who, &v.obj.Port) {
		return api.Port{}, nil, nil, forbidden("update_port")
	}
	if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
		return api.Port{}, nil, nil, err
	}
	old := v.obj
	if r.NetworkID.Set && r.NetworkID.V != old.NetworkID {
		return api.Port{}, nil, nil, fault.New(fault.ErrBadRequest, "Cannot update read-only attribute network_id")
	}
	nv, ok := s.cache.network(old.NetworkID)
	if !ok || nv.obj.Deleting {
		return api.Port{}, nil, nil, networkNotFound(old.NetworkID)
	}
	if err := checkPortPolicy(who, &nv.obj.Network, r, "update_port"); err != nil {
		return api.Port{}, nil, nil, err
	}
	p := old
	p.Port = applyPortUpdate(old.Port, r)
	a.owner = p.DeviceOwner
	ops, err := a.updateMAC(who, &p.Port, r.MACAddress)
	if err != nil {
		return p.Port, nil, nil, err
	}
	conds := []store.Cond{{Key: store.PortKey(id), ModRevision: v.rev}}
	if r.FixedIPs.Set {
		c, o, err := a.updateFixedIPs(&p.Port, r.FixedIPs.V, nv)
		if err != nil {
			return p.Port, nil, nil, err
		}
		conds, ops = append(conds, c...), append(ops, o...)
	}
	if err := setPairs(&p.Port, r.AllowedAddressPairs); err != nil {
		return p.Port, nil, nil, err
	}
	if err := applyPortDNSDHCP(&p.Port, r); err != nil {
		return p.Port, nil, nil, err
	}
	sgConds, err := s.updatePortSecGroups(who, r, &old.Port, &p.Port)
	if err != nil {
		return p.Port, nil, nil, err
	}
	conds = append(conds, sgConds...)
	if p.BindingVNICType != vnicNormal {
		return p.Port, nil, nil, fault.BadAttr("binding:vnic_type", "'%s' is not supported", p.BindingVNICType)
	}
	p.RevisionNumber++
	p.UpdatedAt = s.timestamp()
	for _, k := range a.keys {
		conds = append(conds, store.Cond{Key: k})
	}
	return p.Port, conds, append(portOps(&old.Port, &p, a.keys), ops...), nil
}

// updateMAC applies a requested MAC change (admins only; repeating the
// current MAC is no change) and returns the op freeing the old MAC.
func (a *alloc) updateMAC(who identity.Identity, p *api.Port, want Opt[string]) ([]store.Op, error) {
	if !want.has() {
		return nil, nil
	}
	if norm, err := ipam.NormalizeMAC(want.V); err == nil && norm == p.MACAddress {
		return nil, nil
	}
	if !who.IsAdmin() {
		return nil, forbidden("update_port:mac_address")
	}
	mac, err := a.chooseMAC(want, p.NetworkID)
	if err != nil || mac == p.MACAddress {
		return nil, err
	}
	old := p.MACAddress
	p.MACAddress = mac
	return []store.Op{{Key: store.MACKey(p.NetworkID, old), Delete: true}}, nil
}

// updateFixedIPs replaces p's addresses with the requested ones: addresses
// it keeps need no allocation, new ones are allocated and dropped ones
// freed. It returns the revisions the write depends on and the frees.
func (a *alloc) updateFixedIPs(p *api.Port, want []api.FixedIP, nv versioned[storedNetwork]) ([]store.Cond, []store.Op, error) {
	subs := a.s.networkSubnets(&nv.obj.Network)
	keep := map[api.FixedIP]bool{}
	for _, f := range p.FixedIPs {
		keep[f] = true
	}
	ips, err := a.fixedIPs(Some(keepBySubnet(want, p.FixedIPs)), &nv.obj.Network, subs, keep)
	if err != nil {
		return nil, nil, err
	}
	var ops []store.Op
	for _, f := range p.FixedIPs {
		if !slices.Contains(ips, f) {
			ops = append(ops, store.Op{Key: store.IPKey(f.SubnetID, f.IPAddress), Delete: true})
		}
	}
	p.FixedIPs = ips
	return portConds(nv, subs, newIPs(ips, keep)), ops, nil
}

func applyPortUpdate(old api.Port, r *PortRequest) api.Port {
	p := old
	p.Name = r.Name.or(p.Name)
	p.Description = r.Description.or(p.Description)
	p.DeviceID = r.DeviceID.or(p.DeviceID)
	p.DeviceOwner = r.DeviceOwner.or(p.DeviceOwner)
	p.AdminStateUp = r.AdminStateUp.or(p.AdminStateUp)
	p.PortSecurityEnabled = r.PortSecurityEnabled.or(p.PortSecurityEnabled)
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
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	return s.retry(ctx, func() error {
		v, ok := s.cache.port(id)
		if !ok || !s.portVisible(who, &v.obj.Port) {
			return portNotFound(id)
		}
		if !canDeletePort(who, &v.obj.Port, s.networkOf(v.obj.NetworkID)) {
			return forbidden("delete_port")
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		conds, ops, err := s.l3PortDelete(&v.obj.Port)
		if err != nil {
			return err
		}
		_, err = s.txn(ctx, append(conds, store.Cond{Key: store.PortKey(id), ModRevision: v.rev}), append(ops, s.portDeleteOps(&v.obj)...))
		return err
	})
}
