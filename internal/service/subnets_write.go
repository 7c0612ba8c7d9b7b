package service

import (
	"context"
	"slices"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// UpdateSubnet changes a subnet's name, description, DHCP flag, gateway,
// allocation pools, nameservers and host routes. Addresses already handed
// out stay valid when the pools change, as in Neutron.
func (s *Service) UpdateSubnet(ctx context.Context, id string, r SubnetRequest, ifMatch int64) (api.Subnet, error) {
	who, err := caller(ctx)
	if err != nil {
		return api.Subnet{}, err
	}
	for name, set := range map[string]bool{"network_id": r.NetworkID.Set, "cidr": r.CIDR.Set,
		"ip_version": r.IPVersion.Set, "project_id": r.ProjectID.Set, "subnetpool_id": r.SubnetPoolID.Set} {
		if set {
			return api.Subnet{}, fault.New(fault.ErrBadRequest, "Cannot update read-only attribute %s", name)
		}
	}
	if err := s.cache.sync(ctx); err != nil {
		return api.Subnet{}, err
	}
	var out api.Subnet
	err = s.retry(ctx, func() error {
		v, err := s.writableSubnet(who, id, "update_subnet")
		if err != nil {
			return err
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		sub := v.obj
		sub.DNSNameservers = slices.Clone(sub.DNSNameservers)
		sub.Name = r.Name.or(sub.Name)
		sub.Description = r.Description.or(sub.Description)
		sub.EnableDHCP = r.EnableDHCP.or(sub.EnableDHCP)
		if err := setAddressing(&sub.Subnet, &r, false); err != nil {
			return err
		}
		if err := s.checkGatewayFree(&v.obj.Subnet, &sub.Subnet); err != nil {
			return err
		}
		sub.RevisionNumber++
		sub.UpdatedAt = s.timestamp()
		key := store.SubnetKey(id)
		_, err = s.txn(ctx, []store.Cond{{Key: key, ModRevision: v.rev}}, []store.Op{{Key: key, Value: mustJSON(sub)}})
		out = sub.Subnet
		return err
	})
	return out, err
}

// writableSubnet returns a subnet the caller may change (Neutron:
// ADMIN_OR_NET_OWNER_MEMBER).
func (s *Service) writableSubnet(who identity.Identity, id, action string) (versioned[storedSubnet], error) {
	v, ok := s.cache.subnet(id)
	if !ok || !s.subnetVisible(who, &v.obj.Subnet) {
		return v, subnetNotFound(id)
	}
	if n := s.networkOf(v.obj.NetworkID); !who.IsAdmin() && (n == nil || !writesNetwork(who, n)) {
		return v, forbidden(action)
	}
	return v, nil
}

// DeleteSubnet deletes a subnet that no port uses (DHCP ports excepted:
// they lose their address on it). The delete runs to completion even if
// the client goes away.
func (s *Service) DeleteSubnet(ctx context.Context, id string, ifMatch int64) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := detach(ctx)
	defer cancel()
	return s.retry(ctx, func() error {
		v, err := s.writableSubnet(who, id, "delete_subnet")
		if err != nil {
			return err
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		return s.removeSubnet(ctx, v)
	})
}

// subnetPorts returns the ports with an address on the subnet (from the
// cache: for checks that the transaction does not depend on).
func (s *Service) subnetPorts(sub *api.Subnet) []versioned[storedPort] {
	var out []versioned[storedPort]
	for _, p := range s.cache.networkPorts(sub.NetworkID) {
		if slices.ContainsFunc(p.obj.FixedIPs, func(f api.FixedIP) bool { return f.SubnetID == sub.ID }) {
			out = append(out, p)
		}
	}
	return out
}

// removeSubnet deletes a subnet, takes it off its network and off the
// DHCP ports that still have an address on it, in one transaction. The
// ports holding addresses come from the store's allocation keys, and the
// transaction requires that none was created since that listing: an
// address allocated meanwhile (through any server) fails the delete,
// which then reports SubnetInUse.
func (s *Service) removeSubnet(ctx context.Context, v versioned[storedSubnet]) error {
	sub := v.obj.Subnet
	prefix := store.IPsPrefix + sub.ID + "/"
	allocs, listed, err := s.st.List(ctx, prefix)
	if err != nil {
		return err
	}
	conds := []store.Cond{{Key: store.SubnetKey(sub.ID), ModRevision: v.rev}, store.NoKeysCreatedUnder(prefix, listed)}
	ops := []store.Op{{Key: store.SubnetKey(sub.ID), Delete: true}}
	if v.obj.QuotaSlot != "" {
		ops = append(ops, store.Op{Key: v.obj.QuotaSlot, Delete: true})
	}
	ops = append(ops, deleteOps(poolKeys(&sub))...)
	if n, ok := s.cache.network(sub.NetworkID); ok {
		nw := n.obj
		nw.Subnets = slices.DeleteFunc(slices.Clone(nw.Subnets), func(id string) bool { return id == sub.ID })
		nw.RevisionNumber++
		nw.UpdatedAt = s.timestamp()
		conds = append(conds, store.Cond{Key: store.NetworkKey(nw.ID), ModRevision: n.rev})
		ops = append(ops, store.Op{Key: store.NetworkKey(nw.ID), Value: mustJSON(nw)})
	}
	seen := map[string]bool{}
	for _, kv := range allocs {
		id := string(kv.Value)
		if seen[id] {
			continue
		}
		seen[id] = true
		p, ok, err := s.anyPort(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrConflict // deleted since the listing: read again
		}
		if p.obj.DeviceOwner != "network:dhcp" {
			return fault.New(ErrSubnetInUse, "Unable to complete operation on subnet %s: One or more ports have an IP allocation from this subnet.", sub.ID)
		}
		port := p.obj
		old := p.obj.Port
		var kept []api.FixedIP
		for _, f := range port.FixedIPs {
			if f.SubnetID == sub.ID {
				ops = append(ops, store.Op{Key: store.IPKey(f.SubnetID, f.IPAddress), Delete: true})
			} else {
				kept = append(kept, f)
			}
		}
		port.FixedIPs = nonNil(kept)
		port.RevisionNumber++
		port.UpdatedAt = s.timestamp()
		conds = append(conds, store.Cond{Key: store.PortKey(port.ID), ModRevision: p.rev})
		ops = append(ops, storedPortOps(&old, &port)...)
	}
	_, err = s.txn(ctx, conds, ops)
	return err
}

// checkGatewayFree refuses a new gateway address that a non-router port
// already holds.
func (s *Service) checkGatewayFree(old, sub *api.Subnet) error {
	if sub.GatewayIP == nil || (old.GatewayIP != nil && *old.GatewayIP == *sub.GatewayIP) {
		return nil
	}
	for _, p := range s.subnetPorts(sub) {
		for _, f := range p.obj.FixedIPs {
			if f.SubnetID == sub.ID && f.IPAddress == *sub.GatewayIP && p.obj.DeviceOwner != "network:router_interface" {
				return fault.New(ErrGatewayInUse, "Current gateway ip %s already in use by port %s. Unable to update.", f.IPAddress, p.obj.ID)
			}
		}
	}
	return nil
}
