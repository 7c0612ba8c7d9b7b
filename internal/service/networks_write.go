package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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
		if err := s.applyNetworkUpdate(who, &n, &r); err != nil {
			return err
		}
		syncFlagPolicies(&n, &v.obj)
		n.RevisionNumber++
		n.UpdatedAt = s.timestamp()
		key := store.NetworkKey(id)
		_, err = s.txn(ctx, []store.Cond{{Key: key, ModRevision: v.rev}},
			[]store.Op{{Key: key, Value: mustJSON(n)}})
		out = networkView(who, &n)
		return err
	})
	return out, err
}

// writableNetwork returns a network the caller may change: invisible ones
// are not found, visible but foreign ones are forbidden.
func (s *Service) writableNetwork(who identity.Identity, id, action string) (versioned[storedNetwork], error) {
	v, ok := s.cache.network(id)
	if !ok || !canSeeNetwork(who, &v.obj) {
		return v, networkNotFound(id)
	}
	if !writesNetwork(who, &v.obj.Network) {
		return v, forbidden(action)
	}
	return v, nil
}

func (s *Service) applyNetworkUpdate(who identity.Identity, n *storedNetwork, r *NetworkRequest) error {
	if r.ProjectID.Set {
		return fault.New(fault.ErrBadRequest, "Cannot update read-only attribute project_id")
	}
	if r.isProvider() && !who.IsAdmin() {
		return forbidden("update_network:provider:network_type")
	}
	if providerChanged(&n.Network, r) {
		return fault.InvalidInput("Plugin does not support updating provider attributes")
	}
	if r.Shared.Set && r.Shared.V != n.Shared && !who.IsAdmin() {
		return forbidden("update_network:shared")
	}
	if r.Shared.Set && !r.Shared.V && n.Shared && s.sharedInUse(n) {
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
	return setDNSDomain(&n.Network, r)
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
// ports and its segment. It fails with NetworkInUse while other ports
// remain. The delete runs to completion even if the client goes away.
func (s *Service) DeleteNetwork(ctx context.Context, id string, ifMatch int64) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := detach(ctx)
	defer cancel()
	return s.retry(ctx, func() error {
		v, err := s.writableNetwork(who, id, "delete_network")
		if err != nil {
			return err
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		return s.removeNetwork(ctx, v)
	})
}

// removeNetwork deletes a network and everything it owns. Its ports come
// from the store's index, not the cache, and the final transaction
// requires that no index key was created since that listing: a port that
// got in meanwhile (through any server) fails the delete, which then
// reports NetworkInUse. Racing subnet creates change the network's
// revision, which the delete compares too.
//
// Usually it is one transaction. When the network-owned ports (DHCP,
// router interfaces) are too many for one, the network is first marked
// deleting (port and subnet creates then answer 404), the ports go in
// chunks and the network last; a crash in between leaves the mark, and
// start-up recovery finishes the delete.
func (s *Service) removeNetwork(ctx context.Context, v versioned[storedNetwork]) error {
	n := v.obj
	prefix := store.NetworkPortsOf(n.ID)
	idx, listed, err := s.st.List(ctx, prefix)
	if err != nil {
		return err
	}
	var owned []group
	for _, kv := range idx {
		if keepsNetworkInUse(store.PortIndexOwner(kv.Value)) {
			return s.networkInUse(ctx, v)
		}
		p, ok, err := s.anyPort(ctx, strings.TrimPrefix(kv.Key, prefix))
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrConflict // deleted since the listing: read again
		}
		owned = append(owned, group{conds: []store.Cond{{Key: store.PortKey(p.obj.ID), ModRevision: p.rev}},
			ops: append(s.portDeleteOps(&p.obj), s.ownerDeleteOps(&p.obj.Port)...)})
	}
	last := s.networkDeleteGroup(v, store.NoKeysCreatedUnder(prefix, listed))
	if s.fits(append(owned, last)) {
		_, err := s.txnGroups(ctx, nil, append(owned, last))
		return err
	}
	if !n.Deleting {
		n.Deleting = true
		rev, err := s.txn(ctx, []store.Cond{{Key: store.NetworkKey(n.ID), ModRevision: v.rev}, store.NoKeysCreatedUnder(prefix, listed)},
			[]store.Op{{Key: store.NetworkKey(n.ID), Value: mustJSON(n)}})
		if err != nil {
			return err
		}
		last.conds[0].ModRevision = rev
	}
	if err := s.fault("network-marked"); err != nil {
		return err
	}
	for _, chunk := range s.pack(owned, 0) {
		if _, err := s.txnGroups(ctx, nil, chunk); err != nil {
			return err // a port changed: the retry reads again
		}
	}
	_, err = s.txnGroups(ctx, nil, []group{last})
	return err
}

// networkDeleteGroup deletes the network itself (at its revision, with
// the port index condition), its segment, subnets and quota slots.
func (s *Service) networkDeleteGroup(v versioned[storedNetwork], noNewPorts store.Cond) group {
	n := v.obj
	g := group{
		conds: []store.Cond{{Key: store.NetworkKey(n.ID), ModRevision: v.rev}, noNewPorts},
		ops:   []store.Op{{Key: store.NetworkKey(n.ID), Delete: true}},
	}
	if k := segmentOf(&n.Network).Key(); k != "" && n.NetworkType != "" {
		g.ops = append(g.ops, store.Op{Key: k, Delete: true})
	}
	if n.QuotaSlot != "" {
		g.ops = append(g.ops, store.Op{Key: n.QuotaSlot, Delete: true})
	}
	for _, sid := range n.Subnets {
		g.ops = append(g.ops, store.Op{Key: store.SubnetKey(sid), Delete: true})
		if sub, ok := s.cache.subnet(sid); ok && sub.obj.QuotaSlot != "" {
			g.ops = append(g.ops, store.Op{Key: sub.obj.QuotaSlot, Delete: true})
		}
		if sub, ok := s.cache.subnet(sid); ok {
			g.ops = append(g.ops, deleteOps(poolKeys(&sub.obj.Subnet))...)
		}
	}
	return g
}

// networkInUse answers a delete that found a tenant port. A network a
// delete had marked (only possible if a port's device_owner changed
// meanwhile) is unmarked first, so creates on it work again.
func (s *Service) networkInUse(ctx context.Context, v versioned[storedNetwork]) error {
	if v.obj.Deleting {
		n := v.obj
		n.Deleting = false
		if _, err := s.txn(ctx, []store.Cond{{Key: store.NetworkKey(n.ID), ModRevision: v.rev}},
			[]store.Op{{Key: store.NetworkKey(n.ID), Value: mustJSON(n)}}); err != nil {
			return err // the retry reads again and unmarks again
		}
	}
	return fault.New(ErrNetworkInUse, "Unable to complete operation on network %s. There are one or more ports still in use on the network.", v.obj.ID)
}

// anyPort returns a port, visible or not, from the cache or, if the cache
// has not seen it yet, from the store.
func (s *Service) anyPort(ctx context.Context, id string) (versioned[storedPort], bool, error) {
	if v, ok := s.cache.anyPort(id); ok {
		return v, true, nil
	}
	kv, err := s.st.Get(ctx, store.PortKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return versioned[storedPort]{}, false, nil
	}
	if err != nil {
		return versioned[storedPort]{}, false, err
	}
	var p storedPort
	if err := json.Unmarshal(kv.Value, &p); err != nil {
		return versioned[storedPort]{}, false, fmt.Errorf("service: decode %s: %w", kv.Key, err)
	}
	return versioned[storedPort]{p, kv.ModRevision}, true, nil
}
