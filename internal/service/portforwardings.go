package service

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// Port forwardings (floating-ip-port-forwarding, -port-ranges) live in
// their floating IP: a change is a write of the floating IP at its
// revision, so two forwardings of one external port can never both win.

// PortForwardingRequest is the body of POST and PUT
// /v2.0/floatingips/{id}/port_forwardings.
type PortForwardingRequest struct {
	Protocol          Opt[string]
	InternalPortID    Opt[string]
	InternalIPAddress Opt[string]
	InternalPort      Opt[int]
	ExternalPort      Opt[int]
	InternalPortRange Opt[string]
	ExternalPortRange Opt[string]
	Description       Opt[string]
	ProjectID         Opt[string]
}

func pfNotFound(fip, id string) error {
	return fault.New(ErrPortForwardingNotFound, "Port Forwarding %s could not be found on floating IP %s", id, fip)
}

// portRange is an inclusive port range.
type portRange struct{ lo, hi int }

func (r portRange) String() string { return fmt.Sprintf("%d:%d", r.lo, r.hi) }

func (r portRange) overlaps(o portRange) bool { return r.lo <= o.hi && o.lo <= r.hi }

// parseRange reads "N" or "N:M".
func parseRange(attr, s string) (portRange, error) {
	lo, hi, isRange := strings.Cut(s, ":")
	a, err1 := strconv.Atoi(lo)
	b, err2 := a, error(nil)
	if isRange {
		b, err2 = strconv.Atoi(hi)
	}
	if err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
		return portRange{}, fault.BadAttr(attr, "'%s' is not a valid port range", s)
	}
	return portRange{a, b}, nil
}

func pfRanges(pf *api.PortForwarding) (in, ext portRange) {
	in, _ = parseRange("internal_port_range", pf.InternalPortRange)
	ext, _ = parseRange("external_port_range", pf.ExternalPortRange)
	return in, ext
}

// applyPF applies a request to pf (a new or an existing forwarding).
func applyPF(pf *api.PortForwarding, r *PortForwardingRequest) error {
	pf.Protocol = strings.ToLower(r.Protocol.or(pf.Protocol))
	pf.InternalPortID = r.InternalPortID.or(pf.InternalPortID)
	pf.InternalIPAddress = r.InternalIPAddress.or(pf.InternalIPAddress)
	pf.Description = r.Description.or(pf.Description)
	single := r.InternalPort.Set || r.ExternalPort.Set
	ranged := r.InternalPortRange.Set || r.ExternalPortRange.Set
	if single && ranged {
		return fault.InvalidInput("Port forwarding takes either internal_port and external_port or internal_port_range and external_port_range, not both")
	}
	for name, o := range map[string]Opt[int]{"internal_port": r.InternalPort, "external_port": r.ExternalPort} {
		if o.Set && (o.Null || o.V < 1 || o.V > 65535) {
			return fault.BadAttr(name, "'%d' is not in the range 1 to 65535", o.V)
		}
	}
	in, ext := pfRanges(pf)
	if r.InternalPort.has() {
		in = portRange{r.InternalPort.V, r.InternalPort.V}
	}
	if r.ExternalPort.has() {
		ext = portRange{r.ExternalPort.V, r.ExternalPort.V}
	}
	var err error
	if r.InternalPortRange.has() {
		if in, err = parseRange("internal_port_range", r.InternalPortRange.V); err != nil {
			return err
		}
	}
	if r.ExternalPortRange.has() {
		if ext, err = parseRange("external_port_range", r.ExternalPortRange.V); err != nil {
			return err
		}
	}
	switch {
	case pf.Protocol != "tcp" && pf.Protocol != "udp":
		return fault.BadAttr("protocol", "'%s' is not in ['tcp', 'udp']", pf.Protocol)
	case pf.InternalPortID == "":
		return fault.BadAttr("internal_port_id", "internal_port_id is required")
	case in.lo == 0 || ext.lo == 0:
		return fault.BadAttr("internal_port", "internal and external ports (or port ranges) are required")
	case in.hi-in.lo != ext.hi-ext.lo && in.lo != in.hi:
		return fault.InvalidInput("The internal port range %s and the external port range %s must have the same length, or the internal one be a single port", in, ext)
	}
	pf.InternalPortRange, pf.ExternalPortRange = in.String(), ext.String()
	pf.InternalPort, pf.ExternalPort = nil, nil
	if in.lo == in.hi && ext.lo == ext.hi {
		i, e := in.lo, ext.lo
		pf.InternalPort, pf.ExternalPort = &i, &e
	}
	return nil
}

// checkPF validates pf against its floating IP (f, with the other
// forwardings) and returns the revision conditions of what it depends on.
func (s *Service) checkPF(who identity.Identity, f *storedFloatingIP, pf *api.PortForwarding) ([]store.Cond, error) {
	if f.PortID != nil {
		return nil, fault.New(ErrPortForwardingConflict, "Floating IP %s is associated with port %s; it cannot have port forwardings.", f.ID, *f.PortID)
	}
	pv, ok := s.cache.port(pf.InternalPortID)
	if !ok || !s.portVisible(who, &pv.obj.Port) {
		return nil, portNotFound(pf.InternalPortID)
	}
	if !who.IsAdmin() && pv.obj.ProjectID != f.ProjectID {
		return nil, forbidden("create_floatingip_port_forwarding:internal_port_id")
	}
	if pf.InternalIPAddress == "" {
		ip, err := fixedIPFor(&pv.obj.Port, Opt[string]{})
		if err != nil {
			return nil, err
		}
		pf.InternalIPAddress = ip.IPAddress
	}
	ip, err := fixedIPFor(&pv.obj.Port, Some(pf.InternalIPAddress))
	if err != nil {
		return nil, fault.InvalidInput("Requested internal IP address %s is not on port %s", pf.InternalIPAddress, pf.InternalPortID)
	}
	rv, ok := s.routerFor(ip.SubnetID, f.FloatingNetworkID)
	if !ok {
		return nil, fault.New(ErrExternalGatewayForFIPNotFound, "External network %s is not reachable from subnet %s.  Therefore, cannot associate Port %s with a Floating IP.", f.FloatingNetworkID, ip.SubnetID, pf.InternalPortID)
	}
	if f.RouterID != nil && *f.RouterID != rv.obj.ID && slices.ContainsFunc(f.PortForwardings, func(o api.PortForwarding) bool { return o.ID != pf.ID }) {
		return nil, fault.InvalidInput("Port %s is not reachable through router %s, which the floating IP's other port forwardings use", pf.InternalPortID, *f.RouterID)
	}
	in, ext := pfRanges(pf)
	for _, o := range f.PortForwardings {
		if o.ID == pf.ID || o.Protocol != pf.Protocol {
			continue
		}
		oin, oext := pfRanges(&o)
		if oext.overlaps(ext) {
			return nil, fault.New(ErrPortForwardingConflict, "A port forwarding of floating IP %s for %s external port %s already exists (%s)", f.FloatingIPAddress, pf.Protocol, o.ExternalPortRange, o.ID)
		}
		if o.InternalIPAddress == pf.InternalIPAddress && oin.overlaps(in) {
			return nil, fault.New(ErrPortForwardingConflict, "A port forwarding of floating IP %s to %s %s:%s already exists (%s)", f.FloatingIPAddress, pf.Protocol, pf.InternalIPAddress, o.InternalPortRange, o.ID)
		}
	}
	rid := rv.obj.ID
	f.RouterID, f.Status = &rid, api.StatusActive
	return []store.Cond{{Key: store.PortKey(pv.obj.ID), ModRevision: pv.rev}, {Key: store.RouterKey(rid), ModRevision: rv.rev}}, nil
}

// changePFs runs one write of a floating IP's forwardings.
func (s *Service) changePFs(ctx context.Context, fipID, action string, change func(who identity.Identity, f *storedFloatingIP) ([]store.Cond, error)) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	return s.retry(ctx, func() error {
		v, err := s.writableFIP(who, fipID, action)
		if err != nil {
			return err
		}
		f := v.obj
		f.PortForwardings = slices.Clone(f.PortForwardings)
		conds, err := change(who, &f)
		if err != nil {
			return err
		}
		f.RevisionNumber++
		f.UpdatedAt = s.timestamp()
		_, err = s.txn(ctx, append(conds, store.Cond{Key: store.FloatingIPKey(fipID), ModRevision: v.rev}),
			[]store.Op{{Key: store.FloatingIPKey(fipID), Value: mustJSON(f)}})
		return err
	})
}

// CreatePortForwarding adds a port forwarding to a floating IP.
func (s *Service) CreatePortForwarding(ctx context.Context, fipID string, r PortForwardingRequest) (api.PortForwarding, error) {
	var out api.PortForwarding
	err := s.changePFs(ctx, fipID, "create_floatingip_port_forwarding", func(who identity.Identity, f *storedFloatingIP) ([]store.Cond, error) {
		if err := canCreate(who, "create_floatingip_port_forwarding"); err != nil {
			return nil, err
		}
		pf := api.PortForwarding{ID: newID()}
		if err := applyPF(&pf, &r); err != nil {
			return nil, err
		}
		conds, err := s.checkPF(who, f, &pf)
		if err != nil {
			return nil, err
		}
		f.PortForwardings = append(f.PortForwardings, pf)
		out = pf
		return conds, nil
	})
	return out, err
}

// UpdatePortForwarding changes a port forwarding.
func (s *Service) UpdatePortForwarding(ctx context.Context, fipID, id string, r PortForwardingRequest) (api.PortForwarding, error) {
	var out api.PortForwarding
	err := s.changePFs(ctx, fipID, "update_floatingip_port_forwarding", func(who identity.Identity, f *storedFloatingIP) ([]store.Cond, error) {
		i := slices.IndexFunc(f.PortForwardings, func(pf api.PortForwarding) bool { return pf.ID == id })
		if i < 0 {
			return nil, pfNotFound(fipID, id)
		}
		pf := f.PortForwardings[i]
		if err := applyPF(&pf, &r); err != nil {
			return nil, err
		}
		conds, err := s.checkPF(who, f, &pf)
		if err != nil {
			return nil, err
		}
		f.PortForwardings[i] = pf
		out = pf
		return conds, nil
	})
	return out, err
}

// DeletePortForwarding removes a port forwarding.
func (s *Service) DeletePortForwarding(ctx context.Context, fipID, id string) error {
	return s.changePFs(ctx, fipID, "delete_floatingip_port_forwarding", func(_ identity.Identity, f *storedFloatingIP) ([]store.Cond, error) {
		n := len(f.PortForwardings)
		f.PortForwardings = slices.DeleteFunc(f.PortForwardings, func(pf api.PortForwarding) bool { return pf.ID == id })
		if len(f.PortForwardings) == n {
			return nil, pfNotFound(fipID, id)
		}
		if len(f.PortForwardings) == 0 && f.PortID == nil {
			f.RouterID, f.Status = nil, api.StatusDown
		}
		return nil, nil
	})
}

// GetPortForwarding returns one port forwarding of a visible floating IP.
func (s *Service) GetPortForwarding(ctx context.Context, fipID, id string) (api.PortForwarding, error) {
	pfs, err := s.ListPortForwardings(ctx, fipID)
	if err != nil {
		return api.PortForwarding{}, err
	}
	for _, pf := range pfs {
		if pf.ID == id {
			return pf, nil
		}
	}
	return api.PortForwarding{}, pfNotFound(fipID, id)
}

// ListPortForwardings returns a visible floating IP's port forwardings.
func (s *Service) ListPortForwardings(ctx context.Context, fipID string) ([]api.PortForwarding, error) {
	f, err := s.GetFloatingIP(ctx, fipID)
	if err != nil {
		return nil, err
	}
	return nonNil(f.PortForwardings), nil
}
