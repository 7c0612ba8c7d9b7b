package service

import (
	"context"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// UpdateNetwork applies r to a network. ifMatch is the revision_number
// the client requires (-1: none).
func (s *Service) UpdateNetwork(ctx context.Context, id string, r NetworkRequest, ifMatch int64) (api.Network, error) {
	who, err := caller(ctx)
	if err != nil {
		return api.Network{}, err
	}
	if err := s.cache.sync(ctx); err != nil {
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
	if !ownsNetwork(who, &v.obj.Network) {
		return v, forbidden(action)
	}
	return v, nil
}

func (s *Service) applyNetworkUpdate(who identity.Identity, n *api.Network, r *NetworkRequest) error {
	if r.ProjectID.Set {
		return errorf(ErrBadRequest, "Cannot update read-only attribute project_id")
	}
	if (r.NetworkType.Set || r.PhysicalNetwork.Set || r.SegmentationID.Set) && !who.IsAdmin() {
		return forbidden("update_network:provider:network_type")
	}
	if providerChanged(n, r) {
		return invalidInput("Plugin does not support updating provider attributes")
	}
	if r.Shared.Set && r.Shared.V != n.Shared && !who.IsAdmin() {
		return forbidden("update_network:shared")
	}
	if r.Shared.Set && !r.Shared.V && n.Shared && s.usedByOthers(n) {
		return errorf(ErrSharedInUse, "Unable to reconfigure sharing settings for network %s. Multiple tenants are using it.", n.ID)
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
	return (r.NetworkType.Set && r.NetworkType.V != g.Type) ||
		(r.PhysicalNetwork.Set && r.PhysicalNetwork.V != g.Physnet) ||
		(r.SegmentationID.Set && (n.SegmentationID == nil || r.SegmentationID.V != g.ID))
}

// DeleteNetwork deletes a network with its subnets, its network-owned
// ports and its segment. It fails with NetworkInUse while tenant ports
// remain.
//
// Port creates only compare the network's revision, so the delete first
// marks the network (bumping that revision: racing creates fail and then
// see the mark), then checks the ports with the cache synced past the
// mark, then deletes everything conditioned on the marked revision.
func (s *Service) DeleteNetwork(ctx context.Context, id string, ifMatch int64) error {
	who, err := caller(ctx)
	if err != nil {
		return err
	}
	if err := s.cache.sync(ctx); err != nil {
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
		if err := s.checkNetworkUnused(id); err != nil {
			return err
		}
		marked, err := s.markNetwork(ctx, v, true)
		if err != nil {
			return err
		}
		s.cache.waitFor(ctx, marked.rev)
		if err := s.checkNetworkUnused(id); err != nil {
			_, _ = s.markNetwork(ctx, marked, false)
			return err
		}
		return s.removeNetwork(ctx, marked)
	})
}

func (s *Service) checkNetworkUnused(id string) error {
	for _, p := range s.cache.networkPorts(id) {
		if !isNetworkDevice(p.obj.DeviceOwner) {
			return errorf(ErrNetworkInUse, "Unable to complete operation on network %s. There are one or more ports still in use on the network.", id)
		}
	}
	return nil
}

// markNetwork sets or clears the network's deleting mark.
func (s *Service) markNetwork(ctx context.Context, v versioned[storedNetwork], deleting bool) (versioned[storedNetwork], error) {
	n := v.obj
	n.Deleting = deleting
	key := store.NetworkKey(n.ID)
	rev, err := s.txn(ctx, []store.Cond{{Key: key, ModRevision: v.rev}}, []store.Op{{Key: key, Value: mustJSON(n)}})
	return versioned[storedNetwork]{n, rev}, err
}

// removeNetwork deletes a marked network and everything it owns in one txn.
func (s *Service) removeNetwork(ctx context.Context, v versioned[storedNetwork]) error {
	n := v.obj.Network
	conds := []store.Cond{{Key: store.NetworkKey(n.ID), ModRevision: v.rev}}
	ops := []store.Op{{Key: store.NetworkKey(n.ID), Delete: true}}
	if k := segmentOf(&n).key(); k != "" && n.NetworkType != "" {
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
