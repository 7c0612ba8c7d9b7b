package service

import (
	"context"
	"net/netip"
	"sort"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// Floating IPs (extension router; fip-port-details). A floating IP's
// address is held by a port on the external network (so the address is
// allocated exactly like any other); associating it with a port needs a
// router path: a router with its gateway on that external network and an
// interface on the port's subnet. The floating IP records that router.

// FloatingIPRequest is the body of POST and PUT /v2.0/floatingips.
type FloatingIPRequest struct {
	FloatingNetworkID Opt[string]
	SubnetID          Opt[string]
	FloatingIPAddress Opt[string]
	PortID            Opt[string] // null: disassociate
	FixedIPAddress    Opt[string]
	Description       Opt[string]
	ProjectID         Opt[string]
	Tags              Opt[[]string]
}

// CreateFloatingIPs creates floating IPs, each in its own transaction
// with its port.
func (s *Service) CreateFloatingIPs(ctx context.Context, reqs []FloatingIPRequest) ([]api.FloatingIP, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	s.catchUp(ctx)
	out := make([]api.FloatingIP, 0, len(reqs))
	for i := range reqs {
		f, err := s.createFloatingIP(ctx, who, &reqs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, s.fipView(f))
	}
	return out, nil
}

func (s *Service) createFloatingIP(ctx context.Context, who identity.Identity, req *FloatingIPRequest) (api.FloatingIP, error) {
	if err := canCreate(who, "create_floatingip"); err != nil {
		return api.FloatingIP{}, err
	}
	if !req.FloatingNetworkID.has() {
		return api.FloatingIP{}, fault.New(fault.ErrBadRequest, "Failed to parse request. Required attribute 'floating_network_id' not specified")
	}
	if req.FloatingIPAddress.has() && !who.IsAdmin() {
		return api.FloatingIP{}, forbidden("create_floatingip:floating_ip_address")
	}
	project, err := projectFor(who, req.ProjectID)
	if err != nil {
		return api.FloatingIP{}, err
	}
	tags, err := createTags(req.Tags)
	if err != nil {
		return api.FloatingIP{}, err
	}
	netID := req.FloatingNetworkID.V
	now := s.timestamp()
	base := storedFloatingIP{FloatingIP: api.FloatingIP{
		ID: newID(), Description: req.Description.or(""), ProjectID: project, TenantID: project,
		FloatingNetworkID: netID, Status: api.StatusDown, PortForwardings: []api.PortForwarding{},
		Tags: tags, RevisionNumber: 1, CreatedAt: now, UpdatedAt: now,
	}}
	var out api.FloatingIP
	err = s.retry(ctx, func() error {
		f := base
		n, ok := s.cache.network(netID)
		if !ok || !canSeeNetwork(who, &n.obj) {
			return networkNotFound(netID)
		}
		if !n.obj.External {
			return badFIP("Network %s is not a valid external network", netID)
		}
		pr := PortRequest{NetworkID: Some(netID), DeviceOwner: Some(api.OwnerFloatingIP), DeviceID: Some(f.ID)}
		if req.SubnetID.has() || req.FloatingIPAddress.has() {
			pr.FixedIPs = Some([]api.FixedIP{{SubnetID: req.SubnetID.or(""), IPAddress: req.FloatingIPAddress.or("")}})
		}
		port, err := s.newInternalPort(ctx, "", pr, nil)
		if err != nil {
			return err
		}
		defer releaseInternal(port)
		addr, ok := fipAddress(&port.port.Port)
		if !ok {
			return fault.New(fault.ErrBadRequest, "No IPs available for external network %s", netID)
		}
		f.FloatingIPAddress, f.FIPPort = addr, port.port.ID
		quota := newQuotaGuard(s)
		if f.QuotaSlot, err = quota.slot(port.a, project, quotaFloatingIP); err != nil {
			return err
		}
		conds := append([]store.Cond{{Key: store.FloatingIPKey(f.ID)}, {Key: f.QuotaSlot}}, port.group.conds...)
		ops := append([]store.Op{{Key: f.QuotaSlot, Value: []byte(f.ID)}}, port.group.ops...)
		if req.PortID.has() {
			c, err := s.associate(who, &f, req.PortID.V, req.FixedIPAddress)
			if err != nil {
				return err
			}
			conds = append(conds, c...)
		}
		ops = append(ops, store.Op{Key: store.FloatingIPKey(f.ID), Value: mustJSON(f)})
		if _, err := s.txn(ctx, append(conds, quota.condList()...), ops); err != nil {
			return err
		}
		commitInternal(port)
		out = f.FloatingIP
		return nil
	})
	return out, err
}

// fipAddress is the floating address a port holds: its IPv4 one if any.
func fipAddress(p *api.Port) (string, bool) {
	for _, f := range p.FixedIPs {
		if a, err := netip.ParseAddr(f.IPAddress); err == nil && a.Is4() {
			return f.IPAddress, true
		}
	}
	if len(p.FixedIPs) > 0 {
		return p.FixedIPs[0].IPAddress, true
	}
	return "", false
}

// associate points f at a port's fixed IP (fixed if sent, else the port's
// only IPv4 address) through the router that connects them, and returns
// the revisions that choice depends on (the port and the router).
func (s *Service) associate(who identity.Identity, f *storedFloatingIP, portID string, fixed Opt[string]) ([]store.Cond, error) {
	pv, ok := s.cache.port(portID)
	if !ok || !s.portVisible(who, &pv.obj.Port) {
		return nil, portNotFound(portID)
	}
	p := &pv.obj.Port
	if !who.IsAdmin() && p.ProjectID != f.ProjectID {
		return nil, badFIP("Cannot process floating IP association with Port %s, since that port is owned by a different tenant", portID)
	}
	if len(f.PortForwardings) > 0 {
		return nil, fault.New(ErrFipInUseByPortForwarding, "Unable to associate floating IP %s with port %s: it has port forwardings.", f.ID, portID)
	}
	ip, err := fixedIPFor(p, fixed)
	if err != nil {
		return nil, err
	}
	rv, ok := s.routerFor(ip.SubnetID, f.FloatingNetworkID)
	if !ok {
		return nil, fault.New(ErrExternalGatewayForFIPNotFound, "External network %s is not reachable from subnet %s.  Therefore, cannot associate Port %s with a Floating IP.", f.FloatingNetworkID, ip.SubnetID, portID)
	}
	for _, other := range s.cache.allFloatingIPs() {
		o := other.obj
		if o.ID != f.ID && o.PortID != nil && *o.PortID == portID && o.FixedIPAddress != nil &&
			*o.FixedIPAddress == ip.IPAddress && o.FloatingNetworkID == f.FloatingNetworkID {
			return nil, fault.New(ErrFloatingIPPortAlreadyAssociated, "Cannot associate floating IP %s (%s) with port %s using fixed IP %s, as that fixed IP already has a floating IP on external network %s.",
				f.FloatingIPAddress, f.ID, portID, ip.IPAddress, f.FloatingNetworkID)
		}
	}
	rid, addr := rv.obj.ID, ip.IPAddress
	f.PortID, f.FixedIPAddress, f.RouterID, f.Status = &portID, &addr, &rid, api.StatusActive
	return []store.Cond{{Key: store.PortKey(portID), ModRevision: pv.rev}, {Key: store.RouterKey(rid), ModRevision: rv.rev}}, nil
}

// fixedIPFor picks the fixed IP of an association.
func fixedIPFor(p *api.Port, fixed Opt[string]) (api.FixedIP, error) {
	if fixed.has() {
		for _, f := range p.FixedIPs {
			if f.IPAddress == fixed.V {
				return f, nil
			}
		}
		return api.FixedIP{}, badFIP("Port %s does not have fixed ip %s", p.ID, fixed.V)
	}
	var v4 []api.FixedIP
	for _, f := range p.FixedIPs {
		if a, err := netip.ParseAddr(f.IPAddress); err == nil && a.Is4() {
			v4 = append(v4, f)
		}
	}
	switch len(v4) {
	case 0:
		return api.FixedIP{}, badFIP("Cannot add floating IP to port %s that has no fixed IPv4 addresses", p.ID)
	case 1:
		return v4[0], nil
	}
	return api.FixedIP{}, badFIP("Port %s has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP", p.ID)
}

// routerFor finds the router (lowest id) with a gateway on extNet and an
// interface on subnet.
func (s *Service) routerFor(subnet, extNet string) (versioned[storedRouter], bool) {
	var found []versioned[storedRouter]
	for _, p := range s.cache.allPorts() {
		if p.obj.DeviceOwner != api.OwnerRouterInterface {
			continue
		}
		onSubnet := false
		for _, f := range p.obj.FixedIPs {
			onSubnet = onSubnet || f.SubnetID == subnet
		}
		if !onSubnet {
			continue
		}
		if r, ok := s.cache.router(p.obj.DeviceID); ok && r.obj.ExternalGatewayInfo != nil && r.obj.ExternalGatewayInfo.NetworkID == extNet {
			found = append(found, r)
		}
	}
	if len(found) == 0 {
		return versioned[storedRouter]{}, false
	}
	sort.Slice(found, func(i, j int) bool { return found[i].obj.ID < found[j].obj.ID })
	return found[0], true
}

// disassociate clears f's port; the router stays while port forwardings
// use it.
func (s *Service) disassociate(f *storedFloatingIP) {
	f.PortID, f.FixedIPAddress = nil, nil
	if len(f.PortForwardings) == 0 {
		f.RouterID, f.Status = nil, api.StatusDown
	}
}

// fipView adds the associated port's details (fip-port-details).
func (s *Service) fipView(f api.FloatingIP) api.FloatingIP {
	f.PortDetails = nil
	if f.PortID != nil {
		if p, ok := s.cache.port(*f.PortID); ok {
			pv := s.portView(p.obj.Port)
			f.PortDetails = &api.FIPPortDetails{Name: pv.Name, NetworkID: pv.NetworkID, MACAddress: pv.MACAddress,
				AdminStateUp: pv.AdminStateUp, Status: pv.Status, DeviceID: pv.DeviceID, DeviceOwner: pv.DeviceOwner}
		}
	}
	f.PortForwardings = nonNil(f.PortForwardings)
	return f
}

// GetFloatingIP returns a floating IP the caller may see.
func (s *Service) GetFloatingIP(ctx context.Context, id string) (api.FloatingIP, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.FloatingIP{}, err
	}
	v, ok := s.cache.floatingIP(id)
	if !ok || !readsProject(who, v.obj.ProjectID) {
		return api.FloatingIP{}, fipNotFound(id)
	}
	return s.fipView(v.obj.FloatingIP), nil
}

// ListFloatingIPs returns the floating IPs the caller may see, by id.
func (s *Service) ListFloatingIPs(ctx context.Context) ([]api.FloatingIP, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	var out []api.FloatingIP
	for _, v := range s.cache.allFloatingIPs() {
		if readsProject(who, v.obj.ProjectID) {
			out = append(out, s.fipView(v.obj.FloatingIP))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// writableFIP returns a floating IP the caller may change.
func (s *Service) writableFIP(who identity.Identity, id, action string) (versioned[storedFloatingIP], error) {
	v, ok := s.cache.floatingIP(id)
	if !ok || !readsProject(who, v.obj.ProjectID) {
		return v, fipNotFound(id)
	}
	if !writesProject(who, v.obj.ProjectID) {
		return v, forbidden(action)
	}
	return v, nil
}

// UpdateFloatingIP associates (port_id), moves (another port_id) or
// disassociates (port_id null) a floating IP, or changes its description.
func (s *Service) UpdateFloatingIP(ctx context.Context, id string, req FloatingIPRequest, ifMatch int64) (api.FloatingIP, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.FloatingIP{}, err
	}
	for name, o := range map[string]bool{"floating_network_id": req.FloatingNetworkID.Set, "floating_ip_address": req.FloatingIPAddress.Set,
		"subnet_id": req.SubnetID.Set, "project_id": req.ProjectID.Set} {
		if o {
			return api.FloatingIP{}, fault.New(fault.ErrBadRequest, "Cannot update read-only attribute %s", name)
		}
	}
	var out api.FloatingIP
	err = s.retry(ctx, func() error {
		v, err := s.writableFIP(who, id, "update_floatingip")
		if err != nil {
			return err
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		f := v.obj
		f.Description = req.Description.or(f.Description)
		conds := []store.Cond{{Key: store.FloatingIPKey(id), ModRevision: v.rev}}
		switch {
		case req.PortID.has():
			c, err := s.associate(who, &f, req.PortID.V, req.FixedIPAddress)
			if err != nil {
				return err
			}
			conds = append(conds, c...)
		case req.PortID.Set:
			s.disassociate(&f)
		case req.FixedIPAddress.Set:
			return badFIP("fixed_ip_address cannot be specified without a port_id")
		}
		f.RevisionNumber++
		f.UpdatedAt = s.timestamp()
		if _, err := s.txn(ctx, conds, []store.Op{{Key: store.FloatingIPKey(id), Value: mustJSON(f)}}); err != nil {
			return err
		}
		out = f.FloatingIP
		return nil
	})
	if err != nil {
		return api.FloatingIP{}, err
	}
	return s.fipView(out), nil
}

// DeleteFloatingIP deletes a floating IP with its port and port
// forwardings.
func (s *Service) DeleteFloatingIP(ctx context.Context, id string, ifMatch int64) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := detach(ctx)
	defer cancel()
	return s.retry(ctx, func() error {
		v, err := s.writableFIP(who, id, "delete_floatingip")
		if err != nil {
			return err
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		conds := []store.Cond{{Key: store.FloatingIPKey(id), ModRevision: v.rev}}
		ops := []store.Op{{Key: store.FloatingIPKey(id), Delete: true}}
		if v.obj.QuotaSlot != "" {
			ops = append(ops, store.Op{Key: v.obj.QuotaSlot, Delete: true})
		}
		if p, ok := s.cache.port(v.obj.FIPPort); ok {
			g := s.portDeleteGroup(p)
			conds, ops = append(conds, g.conds...), append(ops, g.ops...)
		}
		_, err = s.txn(ctx, conds, ops)
		return err
	})
}
