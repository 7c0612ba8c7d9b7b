package service

import (
	"context"
	"errors"
	"net/netip"
	"slices"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// The ports the L3 API makes for itself (router interfaces and gateways,
// floating IP addresses) go through the same build and allocation as any
// port, on behalf of the owning project with admin rights (as Neutron's
// L3 plugin uses an elevated context), and are written in the same
// transaction as the router or floating IP that owns them.

// internalPort is one such port, not yet written.
type internalPort struct {
	port  storedPort
	group group
	a     *alloc
}

// newInternalPort builds a port for project (project "" for gateway and
// floating IP ports, which belong to no project, as in Neutron). quota
// takes a port quota slot of the project (router interfaces count).
func (s *Service) newInternalPort(ctx context.Context, project string, r PortRequest, quota *quotaGuard) (*internalPort, error) {
	who := identity.Identity{ProjectID: project, Roles: []string{identity.RoleAdmin}}
	a := &alloc{s: s, who: who, owner: r.DeviceOwner.or("")}
	p, conds, err := s.buildPort(ctx, who, &r, a)
	if err != nil {
		a.release()
		return nil, err
	}
	sp := storedPort{Port: p}
	if quota != nil && project != "" {
		if sp.QuotaSlot, err = quota.slot(a, project, quotaPort); err != nil {
			a.release()
			return nil, err
		}
	}
	g := portGroups([]storedPort{sp}, [][]store.Cond{conds}, [][]string{a.keys})[0]
	return &internalPort{port: sp, group: g, a: a}, nil
}

// commitInternal records a written port's allocations; release gives up
// an unwritten one's reservations.
func commitInternal(ps ...*internalPort) {
	for _, p := range ps {
		if p != nil {
			p.a.commit()
		}
	}
}

func releaseInternal(ps ...*internalPort) {
	for _, p := range ps {
		if p != nil {
			p.a.release()
		}
	}
}

// portDeleteGroup deletes a cached port at its revision.
func (s *Service) portDeleteGroup(v versioned[storedPort]) group {
	return group{conds: []store.Cond{{Key: store.PortKey(v.obj.ID), ModRevision: v.rev}}, ops: s.portDeleteOps(&v.obj)}
}

// routerPorts returns a router's ports of one device owner.
func (s *Service) routerPorts(routerID, owner string) []versioned[storedPort] {
	var out []versioned[storedPort]
	for _, p := range s.cache.allPorts() {
		if p.obj.DeviceID == routerID && p.obj.DeviceOwner == owner {
			out = append(out, p)
		}
	}
	return out
}

// portSubnetPrefixes are the CIDRs of the subnets a port has addresses on.
func (s *Service) portSubnetPrefixes(p *api.Port) map[string]netip.Prefix {
	out := map[string]netip.Prefix{}
	for _, f := range p.FixedIPs {
		if sub, ok := s.cache.subnet(f.SubnetID); ok {
			if pfx, err := netip.ParsePrefix(sub.obj.CIDR); err == nil {
				out[f.SubnetID] = pfx
			}
		}
	}
	return out
}

// ErrServicePortInUse: a router or floating IP port deleted through the
// port API (409 ServicePortInUse).
var ErrServicePortInUse = errors.New("service: port owned by a router or floating ip")

// keepsNetworkInUse reports whether a port of this device owner keeps its
// network from being deleted: tenant ports and a router's interfaces and
// gateway; DHCP ports go with the network, and so do floating IPs (as in
// Neutron: deleting an external network deletes its floating IPs).
func keepsNetworkInUse(owner string) bool {
	return !isNetworkDevice(owner) || owner == api.OwnerRouterInterface || owner == api.OwnerRouterGateway
}

// ownerDeleteOps deletes what owns a network-owned port that goes with its
// network: a floating IP with its quota slot.
func (s *Service) ownerDeleteOps(p *api.Port) []store.Op {
	if p.DeviceOwner != api.OwnerFloatingIP {
		return nil
	}
	f, ok := s.cache.floatingIP(p.DeviceID)
	if !ok {
		return nil
	}
	ops := []store.Op{{Key: store.FloatingIPKey(f.obj.ID), Delete: true}}
	if f.obj.QuotaSlot != "" {
		ops = append(ops, store.Op{Key: f.obj.QuotaSlot, Delete: true})
	}
	return ops
}

// l3PortDelete is what deleting a port through the port API means for
// L3: a router's or floating IP's own port may not be deleted directly
// (while its owner exists); floating IPs associated with the port are
// disassociated in the same transaction.
func (s *Service) l3PortDelete(p *api.Port) ([]store.Cond, []store.Op, error) {
	switch p.DeviceOwner {
	case api.OwnerRouterInterface, api.OwnerRouterGateway:
		if _, ok := s.cache.router(p.DeviceID); ok {
			return nil, nil, fault.New(ErrServicePortInUse, "Port %s cannot be deleted directly via the port API: has device owner %s.", p.ID, p.DeviceOwner)
		}
	case api.OwnerFloatingIP:
		if _, ok := s.cache.floatingIP(p.DeviceID); ok {
			return nil, nil, fault.New(ErrServicePortInUse, "Port %s cannot be deleted directly via the port API: has device owner %s.", p.ID, p.DeviceOwner)
		}
	}
	var conds []store.Cond
	var ops []store.Op
	for _, f := range s.cache.allFloatingIPs() {
		fip := f.obj
		changed := false
		if fip.PortID != nil && *fip.PortID == p.ID {
			s.disassociate(&fip)
			changed = true
		}
		// Port forwardings to the port go with it.
		kept := slices.DeleteFunc(slices.Clone(fip.PortForwardings), func(pf api.PortForwarding) bool { return pf.InternalPortID == p.ID })
		if len(kept) != len(fip.PortForwardings) {
			fip.PortForwardings = kept
			if len(kept) == 0 && fip.PortID == nil {
				fip.RouterID, fip.Status = nil, api.StatusDown
			}
			changed = true
		}
		if changed {
			fip.RevisionNumber++
			fip.UpdatedAt = s.timestamp()
			conds = append(conds, store.Cond{Key: store.FloatingIPKey(fip.ID), ModRevision: f.rev})
			ops = append(ops, store.Op{Key: store.FloatingIPKey(fip.ID), Value: mustJSON(fip)})
		}
	}
	return conds, ops, nil
}
