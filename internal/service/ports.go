package service

import (
	"context"
	"net/netip"
	"slices"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/ipam"
	"github.com/vland/vland/internal/store"
)

// VNIC types vland can bind (Open vSwitch plugs only normal ports).
const vnicNormal = "normal"

// CreatePorts creates ports atomically (bulk create). Each port's
// addresses, MAC and quota slot are compare-and-create keys in the same
// transaction as the port, so concurrent creates (on any server) never
// share them. A bulk too big for one transaction is written in several,
// invisible until the last one (see commitPorts).
func (s *Service) CreatePorts(ctx context.Context, reqs []PortRequest) ([]api.Port, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	s.catchUp(ctx)
	ctx, cancel := detach(ctx)
	defer cancel()
	ports := make([]storedPort, len(reqs))
	err = s.retry(ctx, func() error {
		var allocs []*alloc
		defer func() {
			for _, a := range allocs {
				a.release()
			}
		}()
		quota := newQuotaGuard(s)
		conds := make([][]store.Cond, len(reqs))
		keys := make([][]string, len(reqs))
		for i := range reqs {
			a := &alloc{s: s, who: who, owner: reqs[i].DeviceOwner.or("")}
			allocs = append(allocs, a)
			p, c, err := s.buildPort(ctx, who, &reqs[i], a)
			if err != nil {
				return err
			}
			ports[i] = storedPort{Port: p}
			if ports[i].QuotaSlot, err = quota.slot(a, p.ProjectID, quotaPort); err != nil {
				return err
			}
			conds[i], keys[i] = c, a.keys
		}
		if err := s.commitPorts(ctx, quota.condList(), ports, conds, keys); err != nil {
			return err
		}
		for _, a := range allocs {
			a.commit()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]api.Port, len(ports))
	for i := range ports {
		out[i] = s.portView(ports[i].Port)
	}
	return out, nil
}

// portGroups is the write of each new port: the port with its index
// keys, and its allocation keys (which must not exist).
func portGroups(ports []storedPort, conds [][]store.Cond, keys [][]string) []group {
	groups := make([]group, len(ports))
	for i := range ports {
		g := group{conds: slices.Clone(conds[i])}
		for _, k := range keys[i] {
			g.conds = append(g.conds, store.Cond{Key: k})
		}
		g.ops = portOps(nil, &ports[i], keys[i])
		groups[i] = g
	}
	return groups
}

// commitPorts writes new ports: in one transaction if they fit, else as a
// bulk: a bulk key plus the ports naming it (invisible to every reader
// while the key exists), in as many transactions as needed, then the
// key's delete makes them all visible at once. A failure rolls back what
// was written; a crash leaves the bulk key, and start-up recovery rolls
// the bulk back after its deadline.
func (s *Service) commitPorts(ctx context.Context, shared []store.Cond, ports []storedPort, conds [][]store.Cond, keys [][]string) error {
	groups := portGroups(ports, conds, keys)
	if s.fits(append(groups, group{conds: shared})) {
		_, err := s.txnGroups(ctx, shared, groups)
		return err
	}
	bulk := newID()
	for i := range ports {
		ports[i].Bulk = bulk
	}
	groups = portGroups(ports, conds, keys)
	bulkKey := store.BulkKey(bulk)
	deadline := s.cfg.Now().Add(writeTimeout)
	var bulkRev int64 // 0 in the first transaction: the key must not exist
	written := 0
	for _, chunk := range s.pack(groups, len(shared)+2) {
		extra := append(slices.Clone(shared), store.Cond{Key: bulkKey, ModRevision: bulkRev})
		n := len(chunk)
		if bulkRev == 0 {
			chunk = append(chunk, group{ops: []store.Op{{Key: bulkKey, Value: mustJSON(deadline)}}})
		}
		rev, err := s.txnGroups(ctx, extra, chunk)
		if err != nil {
			s.rollbackBulk(bulk, ports[:written])
			return err
		}
		if bulkRev == 0 {
			bulkRev = rev
		}
		written += n
		if err := s.fault("bulk-chunk-written"); err != nil {
			return err
		}
	}
	if _, err := s.txn(ctx, []store.Cond{{Key: bulkKey, ModRevision: bulkRev}}, []store.Op{{Key: bulkKey, Delete: true}}); err != nil {
		s.rollbackBulk(bulk, ports)
		return err
	}
	for i := range ports {
		ports[i].Bulk = ""
	}
	return nil
}

// rollbackBulk deletes a bulk's ports and then its key. The ports were
// never visible, so they are deleted without conditions.
func (s *Service) rollbackBulk(bulk string, ports []storedPort) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	groups := make([]group, len(ports))
	for i := range ports {
		groups[i] = group{ops: s.portDeleteOps(&ports[i])}
	}
	groups = append(groups, group{ops: []store.Op{{Key: store.BulkKey(bulk), Delete: true}}})
	for _, chunk := range s.pack(groups, 0) {
		if _, err := s.txnGroups(ctx, nil, chunk); err != nil {
			// Start-up recovery finishes it (the bulk key is still there).
			s.log.Error("service: bulk create rollback failed", "bulk", bulk, "err", err)
			return
		}
	}
}

// buildPort validates one create request against the current network and
// subnets, allocates its MAC and addresses into a, and returns the port
// with the revision conditions its write needs.
func (s *Service) buildPort(ctx context.Context, who identity.Identity, r *PortRequest, a *alloc) (api.Port, []store.Cond, error) {
	if err := canCreate(who, "create_port"); err != nil {
		return api.Port{}, nil, err
	}
	if !r.NetworkID.has() {
		return api.Port{}, nil, fault.New(fault.ErrBadRequest, "Failed to parse request. Required attribute 'network_id' not specified")
	}
	nv, err := s.portNetwork(ctx, who, r.NetworkID.V)
	if err != nil {
		return api.Port{}, nil, err
	}
	n := &nv.obj.Network
	if err := checkPortPolicy(who, n, r, "create_port"); err != nil {
		return api.Port{}, nil, err
	}
	project, err := projectFor(who, r.ProjectID)
	if err != nil {
		return api.Port{}, nil, err
	}
	tags, err := createTags(r.Tags)
	if err != nil {
		return api.Port{}, nil, err
	}
	now := s.timestamp()
	p := api.Port{
		ID: newID(), Name: r.Name.or(""), Description: r.Description.or(""),
		ProjectID: project, TenantID: project, NetworkID: n.ID,
		DeviceID: r.DeviceID.or(""), DeviceOwner: r.DeviceOwner.or(""),
		AdminStateUp: r.AdminStateUp.or(true), Status: api.StatusDown,
		PortSecurityEnabled: r.PortSecurityEnabled.or(n.PortSecurityEnabled),
		BindingHostID:       r.BindingHostID.or(""), BindingVNICType: r.BindingVNICType.or(vnicNormal),
		BindingProfile: r.BindingProfile.or(map[string]any{}),
		Tags:           tags, RevisionNumber: 1, CreatedAt: now, UpdatedAt: now,
	}
	if err := setPairs(&p, r.AllowedAddressPairs); err != nil {
		return p, nil, err
	}
	if err := applyPortDNSDHCP(&p, r); err != nil {
		return p, nil, err
	}
	if p.BindingVNICType != vnicNormal {
		return p, nil, fault.BadAttr("binding:vnic_type", "'%s' is not supported", p.BindingVNICType)
	}
	sgConds, err := s.createPortSecGroups(ctx, who, r, &p)
	if err != nil {
		return p, nil, err
	}
	if p.MACAddress, err = a.chooseMAC(r.MACAddress, n.ID); err != nil {
		return p, nil, err
	}
	subs := s.networkSubnets(n)
	if p.FixedIPs, err = a.fixedIPs(r.FixedIPs, n, subs, nil); err != nil {
		return p, nil, err
	}
	return p, append(portConds(nv, subs, p.FixedIPs), sgConds...), nil
}

// portNetwork returns the network a port goes on: the caller must own it
// or it must be shared. A network the caller cannot see is not found; one
// it sees but may not use (external, not shared) is forbidden.
func (s *Service) portNetwork(ctx context.Context, who identity.Identity, id string) (versioned[storedNetwork], error) {
	v, ok := s.cache.network(id)
	if !ok {
		if err := s.cache.sync(ctx); err != nil {
			return v, err
		}
		v, ok = s.cache.network(id)
	}
	if !ok || v.obj.Deleting || !canSeeNetwork(who, &v.obj) {
		return v, networkNotFound(id)
	}
	if !writesNetwork(who, &v.obj.Network) && !v.obj.grants(api.RBACAccessShared, who.ProjectID) {
		return v, forbidden("create_port:network_id")
	}
	return v, nil
}

// checkPortPolicy applies Neutron's per-attribute port rules: only admins
// bind ports; only admins and the network's owner choose MACs and
// addresses, network device owners, port security and address pairs.
func checkPortPolicy(who identity.Identity, n *api.Network, r *PortRequest, action string) error {
	if who.IsAdmin() {
		return nil
	}
	if r.BindingHostID.Set || r.BindingProfile.Set {
		return forbidden(action + ":binding:host_id")
	}
	if n.ProjectID == who.ProjectID {
		return nil
	}
	switch {
	case r.MACAddress.Set:
		return forbidden(action + ":mac_address")
	case r.FixedIPs.Set && slices.ContainsFunc(r.FixedIPs.V, func(f api.FixedIP) bool { return f.IPAddress != "" }):
		return forbidden(action + ":fixed_ips:ip_address")
	case r.DeviceOwner.Set && isNetworkDevice(r.DeviceOwner.V):
		return forbidden(action + ":device_owner")
	case r.PortSecurityEnabled.Set:
		return forbidden(action + ":port_security_enabled")
	case r.AllowedAddressPairs.Set:
		return forbidden(action + ":allowed_address_pairs")
	}
	return nil
}

// setPairs validates allowed_address_pairs, which need port security.
func setPairs(p *api.Port, pairs Opt[[]api.AddressPair]) error {
	if pairs.Set {
		out := make([]api.AddressPair, 0, len(pairs.V))
		for _, ap := range pairs.V {
			if _, err := netip.ParsePrefix(ap.IPAddress); err != nil {
				if _, err := netip.ParseAddr(ap.IPAddress); err != nil {
					return fault.BadAttr("allowed_address_pairs", "'%s' is not a valid IP address or CIDR", ap.IPAddress)
				}
			}
			if ap.MACAddress == "" {
				ap.MACAddress = p.MACAddress
			} else {
				mac, err := ipam.NormalizeMAC(ap.MACAddress)
				if err != nil {
					return err
				}
				ap.MACAddress = mac
			}
			out = append(out, ap)
		}
		p.AllowedAddressPairs = out
	}
	p.AllowedAddressPairs = nonNil(p.AllowedAddressPairs)
	if len(p.AllowedAddressPairs) > 0 && !p.PortSecurityEnabled {
		return fault.New(fault.ErrInvalidInput, "Port Security must be enabled in order to have allowed address pairs on a port.")
	}
	return nil
}

// portConds are the revisions a port write depends on: its network and
// every subnet it has an address on.
func portConds(nv versioned[storedNetwork], subs subnetSet, ips []api.FixedIP) []store.Cond {
	conds := []store.Cond{{Key: store.NetworkKey(nv.obj.ID), ModRevision: nv.rev}}
	seen := map[string]bool{}
	for _, f := range ips {
		if !seen[f.SubnetID] {
			seen[f.SubnetID] = true
			conds = append(conds, store.Cond{Key: store.SubnetKey(f.SubnetID), ModRevision: subs.byID[f.SubnetID].rev})
		}
	}
	return conds
}

// portOps writes a port with its index keys (moving those old, the port
// as stored before, had; nil for a new port) and creates its allocation
// keys.
func portOps(old *api.Port, p *storedPort, keys []string) []store.Op {
	fillBinding(&p.Port, "", "")
	p.SGSet = true // every port write checks its groups
	ops := storedPortOps(old, p)
	for _, k := range keys {
		ops = append(ops, store.Op{Key: k, Value: []byte(p.ID)})
	}
	return ops
}

// storedPortOps writes p as stored (its JSON under its key and every
// index key, see store.PortOps); old is the port as stored before (nil: a
// new port).
func storedPortOps(old *api.Port, p *storedPort) []store.Op {
	return store.PortOps(old, &p.Port, mustJSON(p))
}

// portDeleteOps deletes a port with its index keys, addresses, MAC, quota
// slot and the status records the cache knows of with their per-network
// copies (an agent deletes a record it writes after this itself, once it
// sees the port gone).
func (s *Service) portDeleteOps(p *storedPort) []store.Op {
	ops := append(store.PortDeleteOps(&p.Port), store.Op{Key: store.MACKey(p.NetworkID, p.MACAddress), Delete: true})
	for _, host := range s.cache.statusHosts(p.ID) {
		ops = append(ops, store.Op{Key: store.PortStatusKey(host, p.ID), Delete: true},
			store.Op{Key: store.NetworkStatusKey(p.NetworkID, host, p.ID), Delete: true})
	}
	if p.QuotaSlot != "" {
		ops = append(ops, store.Op{Key: p.QuotaSlot, Delete: true})
	}
	for _, f := range p.FixedIPs {
		ops = append(ops, store.Op{Key: store.IPKey(f.SubnetID, f.IPAddress), Delete: true})
	}
	return ops
}
