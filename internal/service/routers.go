package service

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// Routers (extensions router, ext-gw-mode, extraroute). A router is its
// desired state: attributes, gateway and routes in its own key, its
// interfaces and gateway as ports naming it in device_id. Every change is
// one transaction with the ports it creates or deletes. Which L3 host
// realises a router is not recorded here (a scheduler's business).

// RouterRequest is the body of POST and PUT /v2.0/routers.
type RouterRequest struct {
	Name                  Opt[string]
	Description           Opt[string]
	ProjectID             Opt[string]
	AdminStateUp          Opt[bool]
	ExternalGateway       Opt[GatewayRequest] // null: no gateway
	Routes                Opt[[]api.Route]
	AvailabilityZoneHints Opt[[]string]
	Tags                  Opt[[]string]
}

// GatewayRequest is external_gateway_info as sent: EnableSNAT and
// ExternalFixedIPs are nil when not sent.
type GatewayRequest struct {
	NetworkID        string         `json:"network_id"`
	EnableSNAT       *bool          `json:"enable_snat,omitempty"`
	ExternalFixedIPs *[]api.FixedIP `json:"external_fixed_ips,omitempty"`
}

// InterfaceRequest is the body of add/remove_router_interface: a subnet
// or a port.
type InterfaceRequest struct {
	SubnetID string `json:"subnet_id"`
	PortID   string `json:"port_id"`
}

// CreateRouters creates routers, each in its own transaction with its
// gateway port.
func (s *Service) CreateRouters(ctx context.Context, reqs []RouterRequest) ([]api.Router, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	s.catchUp(ctx)
	out := make([]api.Router, 0, len(reqs))
	for i := range reqs {
		r, err := s.createRouter(ctx, who, &reqs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Service) createRouter(ctx context.Context, who identity.Identity, req *RouterRequest) (api.Router, error) {
	if err := canCreate(who, "create_router"); err != nil {
		return api.Router{}, err
	}
	project, err := projectFor(who, req.ProjectID)
	if err != nil {
		return api.Router{}, err
	}
	tags, err := createTags(req.Tags)
	if err != nil {
		return api.Router{}, err
	}
	now := s.timestamp()
	base := storedRouter{Router: api.Router{
		ID: newID(), Name: req.Name.or(""), Description: req.Description.or(""),
		ProjectID: project, TenantID: project, AdminStateUp: req.AdminStateUp.or(true),
		Status: api.StatusActive, Routes: []api.Route{},
		AvailabilityZoneHints: nonNil(req.AvailabilityZoneHints.or(nil)), AvailabilityZones: []string{},
		Tags: tags, RevisionNumber: 1, CreatedAt: now, UpdatedAt: now,
	}}
	var out api.Router
	err = s.retry(ctx, func() error {
		r := base
		quota := newQuotaGuard(s)
		a := &alloc{s: s, who: who}
		defer a.release()
		var err error
		if r.QuotaSlot, err = quota.slot(a, project, quotaRouter); err != nil {
			return err
		}
		conds := []store.Cond{{Key: store.RouterKey(r.ID)}, {Key: r.QuotaSlot}}
		ops := []store.Op{{Key: r.QuotaSlot, Value: []byte(r.ID)}}
		var gw *internalPort
		// {} (tempest sends it) or no network_id: no gateway.
		if req.ExternalGateway.has() && req.ExternalGateway.V.NetworkID != "" {
			if gw, err = s.newGateway(ctx, who, &r, &req.ExternalGateway.V, nil); err != nil {
				return err
			}
			defer releaseInternal(gw)
			conds, ops = append(conds, gw.group.conds...), append(ops, gw.group.ops...)
		}
		if req.Routes.Set {
			if err := s.checkRoutes(&r, req.Routes.V, gw, nil); err != nil {
				return err
			}
			r.Routes = nonNil(req.Routes.V)
		}
		ops = append(ops, store.Op{Key: store.RouterKey(r.ID), Value: mustJSON(r)})
		if _, err := s.txn(ctx, append(conds, quota.condList()...), ops); err != nil {
			return err
		}
		a.commit()
		commitInternal(gw)
		out = r.Router
		return nil
	})
	return out, err
}

// newGateway validates a gateway request and builds its port; old is the
// router's current gateway port (its SNAT setting is kept if not sent).
func (s *Service) newGateway(ctx context.Context, who identity.Identity, r *storedRouter, g *GatewayRequest, old *api.ExternalGatewayInfo) (*internalPort, error) {
	if !who.IsAdmin() && g.EnableSNAT != nil && (old == nil || old.EnableSNAT != *g.EnableSNAT) && !*g.EnableSNAT {
		return nil, forbidden("create_router:external_gateway_info:enable_snat")
	}
	if !who.IsAdmin() && g.ExternalFixedIPs != nil {
		return nil, forbidden("create_router:external_gateway_info:external_fixed_ips")
	}
	if g.NetworkID == "" {
		return nil, fault.BadAttr("external_gateway_info", "network_id is required")
	}
	n, ok := s.cache.network(g.NetworkID)
	if !ok || !canSeeNetwork(who, &n.obj) {
		return nil, networkNotFound(g.NetworkID)
	}
	if !n.obj.External {
		return nil, badRouter("Network %s is not an external network", g.NetworkID)
	}
	pr := PortRequest{NetworkID: Some(g.NetworkID), DeviceOwner: Some(api.OwnerRouterGateway), DeviceID: Some(r.ID)}
	if g.ExternalFixedIPs != nil && len(*g.ExternalFixedIPs) > 0 {
		pr.FixedIPs = Some(*g.ExternalFixedIPs)
	}
	gw, err := s.newInternalPort(ctx, "", pr, nil)
	if err != nil {
		return nil, err
	}
	if len(gw.port.FixedIPs) == 0 {
		releaseInternal(gw)
		return nil, badRouter("No IPs available for external network %s", g.NetworkID)
	}
	snat := true
	if old != nil {
		snat = old.EnableSNAT
	}
	if g.EnableSNAT != nil {
		snat = *g.EnableSNAT
	}
	r.GatewayPort = gw.port.ID
	r.ExternalGatewayInfo = &api.ExternalGatewayInfo{NetworkID: g.NetworkID, EnableSNAT: snat,
		ExternalFixedIPs: slices.Clone(gw.port.FixedIPs)}
	return gw, nil
}

// checkRoutes validates extra routes: each destination a CIDR, each
// nexthop an address on a subnet the router is connected to (through
// its interfaces or its gateway, gw if it is being replaced).
func (s *Service) checkRoutes(r *storedRouter, routes []api.Route, gw *internalPort, dropSubnet map[string]bool) error {
	if len(routes) > maxRoutes {
		return fault.New(ErrRoutesExhausted, "Unable to complete operation for %s. The number of routes exceeds the maximum %d.", r.ID, maxRoutes)
	}
	connected := s.connected(r, gw, dropSubnet)
	seen := map[api.Route]bool{}
	for _, rt := range routes {
		dst, err := netip.ParsePrefix(rt.Destination)
		if err != nil || dst.Masked() != dst {
			return fault.New(ErrInvalidRoutes, "Invalid format for routes: %v, '%s' is not a valid CIDR", routes, rt.Destination)
		}
		hop, err := netip.ParseAddr(rt.Nexthop)
		if err != nil {
			return fault.New(ErrInvalidRoutes, "Invalid format for routes: %v, '%s' is not a valid IP address", routes, rt.Nexthop)
		}
		if !slices.ContainsFunc(connected, func(p netip.Prefix) bool { return p.Contains(hop) }) {
			return fault.New(ErrInvalidRoutes, "Invalid format for routes: %v, the nexthop is not connected with router", routes)
		}
		if seen[rt] {
			return fault.New(ErrInvalidRoutes, "Invalid format for routes: %v, duplicate route", routes)
		}
		seen[rt] = true
	}
	return nil
}

// connected lists the CIDRs of the subnets a router is attached to.
func (s *Service) connected(r *storedRouter, gw *internalPort, drop map[string]bool) []netip.Prefix {
	var out []netip.Prefix
	add := func(p *api.Port) {
		for id, pfx := range s.portSubnetPrefixes(p) {
			if !drop[id] {
				out = append(out, pfx)
			}
		}
	}
	for _, p := range s.routerPorts(r.ID, api.OwnerRouterInterface) {
		add(&p.obj.Port)
	}
	if gw != nil {
		add(&gw.port.Port)
	} else if p, ok := s.cache.port(r.GatewayPort); ok && r.ExternalGatewayInfo != nil {
		add(&p.obj.Port)
	}
	return out
}

// canSeeRouter: the router's project reader, or admin.
func canSeeRouter(who identity.Identity, r *api.Router) bool { return readsProject(who, r.ProjectID) }

// GetRouter returns a router the caller may see.
func (s *Service) GetRouter(ctx context.Context, id string) (api.Router, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.Router{}, err
	}
	v, ok := s.cache.router(id)
	if !ok || !canSeeRouter(who, &v.obj.Router) {
		return api.Router{}, routerNotFound(id)
	}
	return v.obj.Router, nil
}

// ListRouters returns the routers the caller may see, by id.
func (s *Service) ListRouters(ctx context.Context) ([]api.Router, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	var out []api.Router
	for _, v := range s.cache.allRouters() {
		if canSeeRouter(who, &v.obj.Router) {
			out = append(out, v.obj.Router)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// writableRouter returns a router the caller may change.
func (s *Service) writableRouter(who identity.Identity, id, action string) (versioned[storedRouter], error) {
	v, ok := s.cache.router(id)
	if !ok || !canSeeRouter(who, &v.obj.Router) {
		return v, routerNotFound(id)
	}
	if !writesProject(who, v.obj.ProjectID) {
		return v, forbidden(action)
	}
	return v, nil
}

// UpdateRouter changes a router's attributes, gateway and routes.
func (s *Service) UpdateRouter(ctx context.Context, id string, req RouterRequest, ifMatch int64) (api.Router, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.Router{}, err
	}
	if req.ProjectID.Set {
		return api.Router{}, fault.New(fault.ErrBadRequest, "Cannot update read-only attribute project_id")
	}
	var out api.Router
	err = s.retry(ctx, func() error {
		v, err := s.writableRouter(who, id, "update_router")
		if err != nil {
			return err
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		r := v.obj
		r.Name = req.Name.or(r.Name)
		r.Description = req.Description.or(r.Description)
		r.AdminStateUp = req.AdminStateUp.or(r.AdminStateUp)
		conds := []store.Cond{{Key: store.RouterKey(id), ModRevision: v.rev}}
		var ops []store.Op
		var gw *internalPort
		if req.ExternalGateway.Set {
			c, o, p, err := s.changeGateway(ctx, who, &r, req.ExternalGateway)
			if err != nil {
				return err
			}
			gw = p
			defer releaseInternal(gw)
			conds, ops = append(conds, c...), append(ops, o...)
		}
		routes := r.Routes
		if req.Routes.Set {
			routes = nonNil(req.Routes.V)
		}
		if req.Routes.Set || req.ExternalGateway.Set {
			if err := s.checkRoutes(&r, routes, gw, nil); err != nil {
				return err
			}
		}
		r.Routes = routes
		r.RevisionNumber++
		r.UpdatedAt = s.timestamp()
		ops = append(ops, store.Op{Key: store.RouterKey(id), Value: mustJSON(r)})
		if _, err := s.txn(ctx, conds, ops); err != nil {
			return err
		}
		commitInternal(gw)
		out = r.Router
		return nil
	})
	return out, err
}

// changeGateway applies external_gateway_info to r: clear it (null or no
// network), change SNAT only, or replace the gateway port. It returns the
// conditions and operations, and the new port if there is one.
func (s *Service) changeGateway(ctx context.Context, who identity.Identity, r *storedRouter, g Opt[GatewayRequest]) ([]store.Cond, []store.Op, *internalPort, error) {
	old := r.ExternalGatewayInfo
	clear := !g.has() || g.V.NetworkID == ""
	if old != nil && !clear && g.V.NetworkID == old.NetworkID && g.V.ExternalFixedIPs == nil {
		if g.V.EnableSNAT != nil && *g.V.EnableSNAT != old.EnableSNAT {
			if !who.IsAdmin() {
				return nil, nil, nil, forbidden("update_router:external_gateway_info:enable_snat")
			}
			info := *old
			info.EnableSNAT = *g.V.EnableSNAT
			r.ExternalGatewayInfo = &info
		}
		return nil, nil, nil, nil
	}
	var conds []store.Cond
	var ops []store.Op
	if old != nil {
		if fip := s.routerFIP(r.ID); fip != "" {
			return nil, nil, nil, fault.New(ErrGatewayInUseByFIP, "Gateway cannot be updated for router %s, since a gateway to external network %s is required by one or more floating IPs.", r.ID, old.NetworkID)
		}
		if p, ok := s.cache.port(r.GatewayPort); ok {
			gr := s.portDeleteGroup(p)
			conds, ops = gr.conds, gr.ops
		}
		r.ExternalGatewayInfo, r.GatewayPort = nil, ""
	}
	if clear {
		return conds, ops, nil, nil
	}
	gw, err := s.newGateway(ctx, who, r, &g.V, old)
	if err != nil {
		return nil, nil, nil, err
	}
	return append(conds, gw.group.conds...), append(ops, gw.group.ops...), gw, nil
}

// routerFIP names a floating IP routed through the router ("" if none).
func (s *Service) routerFIP(routerID string) string {
	for _, f := range s.cache.allFloatingIPs() {
		if f.obj.RouterID != nil && *f.obj.RouterID == routerID {
			return f.obj.ID
		}
	}
	return ""
}

// DeleteRouter deletes a router without interfaces, with its gateway port.
func (s *Service) DeleteRouter(ctx context.Context, id string, ifMatch int64) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := detach(ctx)
	defer cancel()
	return s.retry(ctx, func() error {
		v, err := s.writableRouter(who, id, "delete_router")
		if err != nil {
			return err
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		if len(s.routerPorts(id, api.OwnerRouterInterface)) > 0 {
			return fault.New(ErrRouterInUse, "Router %s still has ports", id)
		}
		if fip := s.routerFIP(id); fip != "" {
			return fault.New(ErrRouterInUse, "Router %s still has floating IP %s", id, fip)
		}
		conds := []store.Cond{{Key: store.RouterKey(id), ModRevision: v.rev}}
		ops := []store.Op{{Key: store.RouterKey(id), Delete: true}}
		if v.obj.QuotaSlot != "" {
			ops = append(ops, store.Op{Key: v.obj.QuotaSlot, Delete: true})
		}
		for _, p := range s.routerPorts(id, api.OwnerRouterGateway) {
			g := s.portDeleteGroup(p)
			conds, ops = append(conds, g.conds...), append(ops, g.ops...)
		}
		_, err = s.txn(ctx, conds, ops)
		return err
	})
}

// interfaceView is the answer of add/remove_router_interface.
func interfaceView(r *api.Router, p *api.Port, subnet string) api.RouterInterface {
	ids := []string{}
	for _, f := range p.FixedIPs {
		if !slices.Contains(ids, f.SubnetID) {
			ids = append(ids, f.SubnetID)
		}
	}
	if subnet == "" && len(ids) > 0 {
		subnet = ids[0]
	}
	return api.RouterInterface{ID: r.ID, SubnetID: subnet, SubnetIDs: ids, PortID: p.ID,
		NetworkID: p.NetworkID, ProjectID: r.ProjectID, TenantID: r.ProjectID}
}

// AddRouterInterface attaches a subnet (a new port with the subnet's
// gateway address) or an existing port to a router.
func (s *Service) AddRouterInterface(ctx context.Context, id string, req InterfaceRequest) (api.RouterInterface, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.RouterInterface{}, err
	}
	if (req.SubnetID == "") == (req.PortID == "") {
		return api.RouterInterface{}, badRouter("Either subnet_id or port_id must be specified")
	}
	var out api.RouterInterface
	err = s.retry(ctx, func() error {
		v, err := s.writableRouter(who, id, "add_router_interface")
		if err != nil {
			return err
		}
		r := v.obj
		r.RevisionNumber++
		r.UpdatedAt = s.timestamp()
		conds := []store.Cond{{Key: store.RouterKey(id), ModRevision: v.rev}}
		ops := []store.Op{{Key: store.RouterKey(id), Value: mustJSON(r)}}
		if req.PortID != "" {
			p, c, o, err := s.adoptPort(who, &r, req.PortID)
			if err != nil {
				return err
			}
			if _, err := s.txn(ctx, append(conds, c...), append(ops, o...)); err != nil {
				return err
			}
			out = interfaceView(&r.Router, &p, "")
			return nil
		}
		sub, err := s.interfaceSubnet(who, &r, req.SubnetID)
		if err != nil {
			return err
		}
		quota := newQuotaGuard(s)
		p, err := s.newInternalPort(ctx, r.ProjectID, PortRequest{NetworkID: Some(sub.NetworkID),
			FixedIPs:    Some([]api.FixedIP{{SubnetID: sub.ID, IPAddress: *sub.GatewayIP}}),
			DeviceOwner: Some(api.OwnerRouterInterface), DeviceID: Some(id)}, quota)
		if err != nil {
			return err
		}
		defer releaseInternal(p)
		conds = append(append(conds, p.group.conds...), quota.condList()...)
		if _, err := s.txn(ctx, conds, append(ops, p.group.ops...)); err != nil {
			return err
		}
		commitInternal(p)
		out = interfaceView(&r.Router, &p.port.Port, sub.ID)
		return nil
	})
	return out, err
}

// interfaceSubnet checks a subnet a router may attach to: visible, on a
// network the router's caller owns or that is shared with it, with a
// gateway address, not yet on the router and not overlapping its other
// subnets.
func (s *Service) interfaceSubnet(who identity.Identity, r *storedRouter, id string) (api.Subnet, error) {
	v, ok := s.cache.subnet(id)
	if !ok || v.obj.Deleting || !s.subnetVisible(who, &v.obj.Subnet) {
		return api.Subnet{}, subnetNotFound(id)
	}
	sub := v.obj.Subnet
	n, ok := s.cache.network(sub.NetworkID)
	if !ok {
		return sub, networkNotFound(sub.NetworkID)
	}
	if !writesNetwork(who, &n.obj.Network) && !n.obj.grants(api.RBACAccessShared, who.ProjectID) {
		return sub, forbidden("add_router_interface:subnet_id")
	}
	if sub.GatewayIP == nil || *sub.GatewayIP == "" {
		return sub, badRouter("Subnet for router interface must have a gateway IP")
	}
	return sub, s.checkNewSubnets(r, []string{id})
}

// checkNewSubnets refuses subnets already on the router or overlapping
// one of its interface subnets.
func (s *Service) checkNewSubnets(r *storedRouter, ids []string) error {
	for _, p := range s.routerPorts(r.ID, api.OwnerRouterInterface) {
		for sid, pfx := range s.portSubnetPrefixes(&p.obj.Port) {
			for _, id := range ids {
				if sid == id {
					return badRouter("Router already has a port on subnet %s", id)
				}
				sub, ok := s.cache.subnet(id)
				if !ok {
					continue
				}
				np, err := netip.ParsePrefix(sub.obj.CIDR)
				if err == nil && np.Overlaps(pfx) {
					return badRouter("Cidr %s of subnet %s overlaps with cidr %s of subnet %s", sub.obj.CIDR, id, pfx, sid)
				}
			}
		}
	}
	return nil
}

// adoptPort makes an existing port a router interface.
func (s *Service) adoptPort(who identity.Identity, r *storedRouter, id string) (api.Port, []store.Cond, []store.Op, error) {
	v, ok := s.cache.port(id)
	if !ok || !s.portVisible(who, &v.obj.Port) {
		return api.Port{}, nil, nil, portNotFound(id)
	}
	p := v.obj
	if !who.IsAdmin() && p.ProjectID != who.ProjectID {
		return api.Port{}, nil, nil, forbidden("add_router_interface:port_id")
	}
	if p.DeviceID != "" || p.DeviceOwner != "" {
		return api.Port{}, nil, nil, fault.New(ErrPortInUse, "Unable to complete operation on port %s for network %s. Port already has an attached device %s.", id, p.NetworkID, p.DeviceID)
	}
	if len(p.FixedIPs) == 0 {
		return api.Port{}, nil, nil, badRouter("Router port must have at least one fixed IP")
	}
	var ids []string
	for _, f := range p.FixedIPs {
		ids = append(ids, f.SubnetID)
	}
	if err := s.checkNewSubnets(r, ids); err != nil {
		return api.Port{}, nil, nil, err
	}
	p.DeviceID, p.DeviceOwner = r.ID, api.OwnerRouterInterface
	p.RevisionNumber++
	p.UpdatedAt = s.timestamp()
	return p.Port, []store.Cond{{Key: store.PortKey(id), ModRevision: v.rev}},
		storedPortOps(&v.obj.Port, &p), nil
}

// RemoveRouterInterface detaches a subnet or an interface port: the port
// is deleted (as Neutron does, also for one attached by port).
func (s *Service) RemoveRouterInterface(ctx context.Context, id string, req InterfaceRequest) (api.RouterInterface, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.RouterInterface{}, err
	}
	if req.SubnetID == "" && req.PortID == "" {
		return api.RouterInterface{}, badRouter("Either subnet_id or port_id must be specified")
	}
	var out api.RouterInterface
	err = s.retry(ctx, func() error {
		v, err := s.writableRouter(who, id, "remove_router_interface")
		if err != nil {
			return err
		}
		p, err := s.findInterface(&v.obj, req)
		if err != nil {
			return err
		}
		if err := s.checkInterfaceUnused(&v.obj, &p.obj.Port); err != nil {
			return err
		}
		r := v.obj
		r.RevisionNumber++
		r.UpdatedAt = s.timestamp()
		g := s.portDeleteGroup(p)
		conds := append([]store.Cond{{Key: store.RouterKey(id), ModRevision: v.rev}}, g.conds...)
		ops := append([]store.Op{{Key: store.RouterKey(id), Value: mustJSON(r)}}, g.ops...)
		if _, err := s.txn(ctx, conds, ops); err != nil {
			return err
		}
		out = interfaceView(&r.Router, &p.obj.Port, req.SubnetID)
		return nil
	})
	return out, err
}

// findInterface finds the interface port a remove request names.
func (s *Service) findInterface(r *storedRouter, req InterfaceRequest) (versioned[storedPort], error) {
	for _, p := range s.routerPorts(r.ID, api.OwnerRouterInterface) {
		onSubnet := slices.ContainsFunc(p.obj.FixedIPs, func(f api.FixedIP) bool { return f.SubnetID == req.SubnetID })
		if (req.PortID == "" || p.obj.ID == req.PortID) && (req.SubnetID == "" || onSubnet) {
			return p, nil
		}
	}
	if req.PortID != "" {
		if req.SubnetID != "" {
			if p, ok := s.cache.port(req.PortID); ok && p.obj.DeviceID == r.ID {
				return p, fault.New(ErrRouterInterfaceNotFoundSubnet, "Router %s has no interface on subnet %s", r.ID, req.SubnetID)
			}
		}
		return versioned[storedPort]{}, fault.New(ErrRouterInterfaceNotFound, "Router %s does not have an interface with id %s", r.ID, req.PortID)
	}
	if _, ok := s.cache.subnet(req.SubnetID); !ok {
		return versioned[storedPort]{}, subnetNotFound(req.SubnetID)
	}
	return versioned[storedPort]{}, fault.New(ErrRouterInterfaceNotFoundSubnet, "Router %s has no interface on subnet %s", r.ID, req.SubnetID)
}

// checkInterfaceUnused refuses to remove an interface that a route's
// nexthop or a floating IP needs.
func (s *Service) checkInterfaceUnused(r *storedRouter, p *api.Port) error {
	drop := map[string]bool{}
	for _, f := range p.FixedIPs {
		drop[f.SubnetID] = true
	}
	if len(r.Routes) > 0 {
		if err := s.checkRoutes(r, r.Routes, nil, drop); err != nil {
			return fault.New(ErrRouterInterfaceInUseByRoute, "Router interface for subnet %s on router %s cannot be deleted, as it is required by one or more routes.", firstKey(drop), r.ID)
		}
	}
	for _, f := range s.cache.allFloatingIPs() {
		if f.obj.RouterID == nil || *f.obj.RouterID != r.ID || f.obj.PortID == nil {
			continue
		}
		if fp, ok := s.cache.port(*f.obj.PortID); ok {
			for _, ip := range fp.obj.FixedIPs {
				if drop[ip.SubnetID] {
					return fault.New(ErrRouterInterfaceInUseByFIP, "Router interface for subnet %s on router %s cannot be deleted, as it is required by one or more floating IPs.", ip.SubnetID, r.ID)
				}
			}
		}
	}
	return nil
}

func firstKey(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return fmt.Sprint(keys[0])
}
