package l3

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/serviceport"
)

// Each router NIC is a service port (internal/serviceport):
// tapXXXXXXXXXXX on br-int, carrying the port's id as a VIF does, so the
// compute data plane gives it its network's local VLAN, and
// qr-XXXXXXXXXXX (interface) or qg-XXXXXXXXXXX (gateway) in the router's
// namespace. The gateway's network is the external one, which the data
// plane carries to br-ex through the provider patch.

func qrName(portID string) string { return serviceport.Name("qr-", portID) }
func qgName(portID string) string { return serviceport.Name("qg-", portID) }

// ownerKey marks a router's taps in their external_ids.
const ownerKey = "vland-router"

// apply makes one router's namespace match r, touching what differs from
// old (everything when !had: after an agent restart every step is
// idempotent and leaves working state, conntrack included, alone).
func (s *Service) apply(ctx context.Context, r, old Router, had bool) error {
	ns, err := netns.CreateAt(s.cfg.NetnsDir, NSPrefix+r.ID)
	if err != nil {
		return err
	}
	if !had {
		if err := s.nsExec(ctx, ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"); err != nil {
			return err
		}
	}
	// NICs: unplug the ones gone, plug the new or changed ones.
	want, have := nics(r), map[string]Port{}
	if had {
		have = nics(old)
	}
	var errs []error
	for name, p := range have {
		if _, ok := want[name]; !ok {
			errs = append(errs, s.bridge.Unplug(ctx, p.ID))
		}
	}
	for name, p := range want {
		if o, ok := have[name]; ok && reflect.DeepEqual(o, p) {
			continue
		}
		errs = append(errs, s.plug(ctx, ns, r.ID, name, p))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if !had || !reflect.DeepEqual(old.NAT, r.NAT) {
		if err := s.nft(ctx, ns, ruleset(r.NAT)); err != nil {
			return err
		}
		if had {
			if err := flushConntrack(ns, changedFloating(old.NAT, r.NAT)); err != nil {
				return err
			}
		}
	}
	if err := s.routes(ctx, ns, r, old, had); err != nil {
		return err
	}
	s.announce(ns, r, old, had)
	if !had && s.cfg.RouterNamespaceUp != nil {
		s.cfg.RouterNamespaceUp(ctx, r.ID, ns)
	}
	return nil
}

// nics are a router's NICs by name: a qr- per interface, and the qg-,
// which holds the floating addresses too.
func nics(r Router) map[string]Port {
	out := map[string]Port{}
	for _, p := range r.Interfaces {
		out[qrName(p.ID)] = p
	}
	if r.Gateway != nil {
		g := *r.Gateway
		g.Addrs = slices.Clone(g.Addrs)
		for _, a := range floatingAddrs(r.NAT) {
			g.Addrs = append(g.Addrs, netip.PrefixFrom(a, 32))
		}
		out[qgName(g.ID)] = g
	}
	return out
}

// plug makes one NIC: veth, MAC, MTU, exactly the port's addresses, up,
// its tap on br-int.
func (s *Service) plug(ctx context.Context, ns, routerID, name string, p Port) error {
	return s.bridge.Plug(ctx, serviceport.NIC{PortID: p.ID, MAC: p.MAC, MTU: p.MTU, Addrs: p.Addrs,
		NS: ns, Name: name, Owner: serviceport.Owner{Key: ownerKey, ID: routerID}})
}

// routes sets the default route via the external subnet's gateway and the
// extra routes, and deletes the extra routes no longer wanted.
func (s *Service) routes(ctx context.Context, ns string, r, old Router, had bool) error {
	var errs []error
	if had {
		keep := map[netip.Prefix]bool{}
		for _, rt := range r.Routes {
			keep[rt.Dst] = true
		}
		for _, rt := range old.Routes {
			if !keep[rt.Dst] {
				errs = append(errs, s.nsExec(ctx, ns, "ip", "route", "del", rt.Dst.String()))
			}
		}
		if old.NextHop.IsValid() && !r.NextHop.IsValid() {
			errs = append(errs, s.nsExec(ctx, ns, "ip", "route", "del", "default"))
		}
	}
	if r.Gateway != nil && r.NextHop.IsValid() {
		errs = append(errs, s.nsExec(ctx, ns, "ip", "route", "replace", "default", "via", r.NextHop.String(), "dev", qgName(r.Gateway.ID)))
	}
	for _, rt := range r.Routes {
		errs = append(errs, s.nsExec(ctx, ns, "ip", "route", "replace", rt.Dst.String(), "via", rt.NextHop.String()))
	}
	return errors.Join(errs...)
}

// announce sends gratuitous ARPs for the gateway address and the floating
// addresses that are new on qg- (a floating IP that appears, or moves here
// from another router), so upstream ARP caches follow at once. Best
// effort, in the background: a lost announcement only delays the switch
// to the next ARP refresh.
func (s *Service) announce(ns string, r, old Router, had bool) {
	if r.Gateway == nil {
		return
	}
	seen := map[netip.Addr]bool{}
	if had && old.Gateway != nil && old.Gateway.ID == r.Gateway.ID {
		seen[old.NAT.GatewayIP] = true
		for _, a := range floatingAddrs(old.NAT) {
			seen[a] = true
		}
	}
	var addrs []netip.Addr
	if r.NAT.GatewayIP.IsValid() && !seen[r.NAT.GatewayIP] {
		addrs = append(addrs, r.NAT.GatewayIP)
	}
	for _, a := range floatingAddrs(r.NAT) {
		if !seen[a] {
			addrs = append(addrs, a)
		}
	}
	qg := qgName(r.Gateway.ID)
	for _, a := range addrs {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			out, err := netns.CommandAt(ctx, ns, "arping", "-U", "-c", "1", "-I", qg, a.String()).CombinedOutput()
			if err != nil {
				s.log.Debug("gratuitous ARP failed", "addr", a, "err", err, "out", strings.TrimSpace(string(out)))
			}
		}()
	}
}

// floatingAddrs are the floating addresses qg- holds (as /32s, so it
// answers ARP for them): associated floating IPs and those with port
// forwardings.
func floatingAddrs(n NAT) []netip.Addr {
	var out []netip.Addr
	for _, f := range n.FIPs {
		out = append(out, f.Floating)
	}
	for _, f := range n.Forwards {
		out = append(out, f.Floating)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// remove tears a router down: the metadata hook, its NICs' OVS ports and
// taps, the namespace (which takes the NAT table and conntrack with it).
func (s *Service) remove(ctx context.Context, id string) error {
	s.log.Info("no longer realising router", "router", id)
	if s.cfg.RouterNamespaceDown != nil {
		s.cfg.RouterNamespaceDown(id)
	}
	errs := []error{s.bridge.UnplugOwned(ctx, serviceport.Owner{Key: ownerKey, ID: id})}
	errs = append(errs, netns.DeleteAt(s.cfg.NetnsDir, NSPrefix+id))
	return errors.Join(errs...)
}

func (s *Service) nft(ctx context.Context, ns, rules string) error {
	cmd := netns.CommandAt(ctx, ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("l3: nft: %w: %s", err, out)
	}
	return nil
}

func (s *Service) nsExec(ctx context.Context, ns string, argv ...string) error {
	if out, err := netns.CommandAt(ctx, ns, argv...).CombinedOutput(); err != nil {
		return fmt.Errorf("l3: %v: %w: %s", argv, err, out)
	}
	return nil
}
