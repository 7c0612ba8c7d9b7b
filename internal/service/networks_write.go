package service

import (
	"context"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// UpdateNetwork applies r to a network. ifMatch is the revision_number
// the client requires (-1: none).
func (s *Service) UpdateNetwork(ctx context.Context, id string, r NetworkRequest, ifMatch int64) (api.Network, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.Network{}, err
	}
	var out api.Network
	err = s.retry(ctx, func() error {
		v, err := s.writableNetwork(who, id, "update_network")
		if err != nil {
			return err
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		n := v.obj
		if err := s.applyNetworkUpdate(who, &n.Network, &r); err != nil {
			return err
		}
		n.RevisionNumber++
		n.UpdatedAt = s.timestamp()
		key := store.NetworkKey(id)
		_, err = s.txn(ctx, []store.Cond{{Key: key, ModRevision: v.rev}},
			[]store.Op{{Key: key, Value: mustJSON(n)}})
		out = n.Network
		return err
	})
	return out, err
}

// writableNetwork returns a network the caller may change: invisible ones
// are not found, visible but foreign ones are forbidden.
func (s *Service) writableNetwork(who identity.Identity, id, action string) (versioned[storedNetwork], error) {
	v, ok := s.cache.network(id)
	if !ok || !canSeeNetwork(who, &v.obj.Network) {
		return v, networkNotFound(id)
	}
	if !writesNetwork(who, &v.obj.Network) {
		return v, forbidden(action)
	}
	return v, nil
}

func (s *Service) applyNetworkUpdate(who identity.Identity, n *api.Network, r *NetworkRequest) error {
	if r.ProjectID.Set {
		return fault.New(fault.ErrBadRequest, "Cannot update read-only attribute project_id")
	}
	if r.isProvider() && !who.IsAdmin() {
		return forbidden("update_network:provider:network_type")
	}
	if providerChanged(n, r) {
		return fault.InvalidInput("Plugin does not support updating provider attributes")
	}
	if r.Shared.Set && r.Shared.V != n.Shared && !who.IsAdmin() {
		return forbidden("update_network:shared")
	}
	if r.Shared.Set && !r.Shared.V && n.Shared && s.usedByOthers(n) {
		return fault.New(ErrSharedInUse, "Unable to reconfigure sharing settings for network %s. Multiple tenants are using it.", n.ID)
	}
	if r.External.Set && r.External.V != n.External && !who.IsAdmin() {
		return forbidden("update_network:router:external")
	}
	if r.MTU.has() {
		mtu, err := s.networkMTU(n.NetworkType, r.MTU)
		if err != nil {
			return err
		}
		n.MTU = mtu
	}
	n.Name = r.Name.or(n.Name)
	n.Description = r.Description.or(n.Description)
	n.AdminStateUp = r.AdminStateUp.or(n.AdminStateUp)
	n.Shared = r.Shared.or(n.Shared)
	n.External = r.External.or(n.External)
	n.PortSecurityEnabled = r.PortSecurityEnabled.or(n.PortSecurityEnabled)
	return nil
}

// usedByOthers reports whether projects other than the owner have ports
// on the network (then it cannot stop being shared).
func (s *Service) usedByOthers(n *api.Network) bool {
	for _, p := range s.cache.networkPorts(n.ID) {
		if p.obj.ProjectID != n.ProjectID && !isNetworkDevice(p.obj.DeviceOwner) {
			return true
		}
	}
	return false
}

// providerChanged reports whether r asks for different provider attributes
// (repeating the current ones is allowed, as Neutron does).
func providerChanged(n *api.Network, r *NetworkRequest) bool {
	g := segmentOf(n)
	return (r.NetworkType.Set && r.NetworkType.V != g.NetworkType) ||
		(r.PhysicalNetwork.Set && r.PhysicalNetwork.V != g.PhysicalNetwork) ||
		(r.SegmentationID.Set && (n.SegmentationID == nil || r.SegmentationID.V != g.SegmentationID))
}

// DeleteNetwork deletes a network with its subnets, its network-owned
// ports and its segment. It fails with NetworkInUse while tenant ports
// remain. Racing port and subnet creates are fenced by deleteMarked.
func (s *Service) DeleteNetwork(ctx context.Context, id string, ifMatch int64) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	return s.retry(ctx, func() error {
		v, err := s.writableNetwork(who, id, "delete_network")
		if err != nil {
			return err
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		mark := func(deleting bool) storedNetwork { n := v.obj; n.Deleting = deleting; return n }
		return deleteMarked(ctx, s, store.NetworkKey(id), v, mark,
			func() error { return s.checkNetworkUnused(id) }, s.removeNetwork)
	})
}

func (s *Service) checkNetworkUnused(id string) error {
	for _, p := range s.cache.networkPorts(id) {
		if !isNetworkDevice(p.obj.DeviceOwner) {
			return fault.New(ErrNetworkInUse, "Unable to complete operation on network %s. There are one or more ports still in use on the network.", id)
		}
	}
	return nil
}

// removeNetwork deletes a marked network and everything it owns in one txn.
func (s *Service) removeNetwork(ctx context.Context, v versioned[storedNetwork]) error {
	n := v.obj.Network
	conds := []store.Cond{{Key: store.NetworkKey(n.ID), ModRevision: v.rev}}
	ops := []store.Op{{Key: store.NetworkKey(n.ID), Delete: true}}
	if k := segmentOf(&n).Key(); k != "" && n.NetworkType != "" {
		ops = append(ops, store.Op{Key: k, Delete: true})
	}
	for _, sid := range n.Subnets {
		ops = append(ops, store.Op{Key: store.SubnetKey(sid), Delete: true})
	}
	for _, p := range s.cache.networkPorts(n.ID) {
		conds = append(conds, store.Cond{Key: store.PortKey(p.obj.ID), ModRevision: p.rev})
		ops = append(ops, portDeleteOps(&p.obj)...)
	}
	_, err := s.txn(ctx, conds, ops)
	return err
}
