package l3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/vland/vland/internal/link"
	"github.com/vland/vland/internal/netns"
)

// Each router NIC is a veth pair, as DHCP's (see internal/dhcp/plug.go
// for why not an OVS internal port): tapXXXXXXXXXXX on br-int, carrying the
// port's id as a VIF does, so the compute data plane gives it its network's
// local VLAN, and qr-XXXXXXXXXXX (interface) or qg-XXXXXXXXXXX (gateway)
// in the router's namespace. The gateway's network is the external one,
// which the data plane carries to br-ex through the provider patch.

func short(id string) string {
	if len(id) > 11 {
		return id[:11]
	}
	return id
}
func tapName(portID string) string { return "tap" + short(portID) }
func qrName(portID string) string  { return "qr-" + short(portID) }
func qgName(portID string) string  { return "qg-" + short(portID) }

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
	want := map[string]Port{}
	for _, p := range r.Interfaces {
		want[qrName(p.ID)] = p
	}
	if r.Gateway != nil {
		g := *r.Gateway
		for _, a := range floatingAddrs(r.NAT) {
			g.Addrs = append(g.Addrs, netip.PrefixFrom(a, 32))
		}
		want[qgName(g.ID)] = g
	}
	have := map[string]Port{}
	if had {
		for _, p := range old.Interfaces {
			have[qrName(p.ID)] = p
		}
		if old.Gateway != nil {
			g := *old.Gateway
			for _, a := range floatingAddrs(old.NAT) {
				g.Addrs = append(g.Addrs, netip.PrefixFrom(a, 32))
			}
			have[qgName(g.ID)] = g
		}
	}
	var errs []error
	for name, p := range have {
		if _, ok := want[name]; !ok {
			errs = append(errs, s.unplug(ctx, p.ID))
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

// plug makes one NIC: veth, MAC, MTU, exactly the port's addresses, up,
// its tap on br-int.
func (s *Service) plug(ctx context.Context, ns, routerID, name string, p Port) error {
	mac, err := net.ParseMAC(p.MAC)
	if err != nil {
		return fmt.Errorf("l3: port %s mac %q: %w", p.ID, p.MAC, err)
	}
	tap := tapName(p.ID)
	if err := link.AddVeth(link.End{NS: s.cfg.OVSNetNS, Name: tap, MTU: p.MTU},
		link.End{NS: ns, Name: name, MAC: mac, MTU: p.MTU}); err != nil {
		return err
	}
	// Userspace datapaths never complete partial checksums (see dhcp).
	if err := link.TxOffloadOff(ctx, s.cfg.OVSNetNS, tap); err != nil {
		return err
	}
	if err := link.TxOffloadOff(ctx, ns, name); err != nil {
		return err
	}
	if err := configureNIC(ns, name, mac, p); err != nil {
		return err
	}
	h, err := link.Open(s.cfg.OVSNetNS)
	if err != nil {
		return err
	}
	defer h.Close()
	if p.MTU > 0 {
		if err := h.SetMTU(tap, p.MTU); err != nil {
			return err
		}
	}
	if err := h.SetUp(tap); err != nil {
		return err
	}
	return s.vsctl(ctx, "--may-exist", "add-port", s.cfg.Bridge, tap, "--", "set", "Interface", tap,
		"external_ids:iface-id="+p.ID,
		"external_ids:attached-mac="+p.MAC,
		"external_ids:iface-status=active",
		"external_ids:vland-router="+routerID)
}

// configureNIC sets the namespace side: MAC, MTU, exactly the addresses
// (IPv6 link-local ones stay), up.
func configureNIC(ns, name string, mac net.HardwareAddr, p Port) error {
	h, err := link.Open(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.SetMAC(name, mac); err != nil {
		return err
	}
	if p.MTU > 0 {
		if err := h.SetMTU(name, p.MTU); err != nil {
			return err
		}
	}
	have, err := h.Addrs(name)
	if err != nil {
		return err
	}
	want := map[netip.Prefix]bool{}
	for _, a := range p.Addrs {
		want[a] = true
	}
	for _, a := range have {
		if !want[a] && !a.Addr().IsLinkLocalUnicast() {
			if err := h.DelAddr(name, a); err != nil {
				return err
			}
		}
	}
	for _, a := range p.Addrs {
		if err := h.AddAddr(name, a); err != nil {
			return err
		}
	}
	return h.SetUp(name)
}

// unplug removes a NIC's tap from br-int and deletes the veth pair.
func (s *Service) unplug(ctx context.Context, portID string) error {
	tap := tapName(portID)
	err := s.vsctl(ctx, "--if-exists", "del-port", s.cfg.Bridge, tap)
	h, herr := link.Open(s.cfg.OVSNetNS)
	if herr != nil {
		return errors.Join(err, herr)
	}
	defer h.Close()
	return errors.Join(err, h.Delete(tap))
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
	var errs []error
	taps, err := s.vsctlOut(ctx, "--no-heading", "--columns=name", "find", "Interface", "external_ids:vland-router="+id)
	errs = append(errs, err)
	for _, tap := range strings.Fields(strings.ReplaceAll(taps, `"`, "")) {
		errs = append(errs, s.vsctl(ctx, "--if-exists", "del-port", s.cfg.Bridge, tap))
		if h, err := link.Open(s.cfg.OVSNetNS); err == nil {
			errs = append(errs, h.Delete(tap))
			h.Close()
		}
	}
	errs = append(errs, netns.DeleteAt(s.cfg.NetnsDir, NSPrefix+id))
	return errors.Join(errs...)
}

// ovsRouterPorts lists the routers that own a port on br-int.
func (s *Service) ovsRouterPorts(ctx context.Context) ([]string, error) {
	out, err := s.vsctlOut(ctx, "--no-heading", "--columns=external_ids", "find", "Interface")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, line := range strings.Split(out, "\n") {
		if _, rest, ok := strings.Cut(line, "vland-router="); ok {
			id, _, _ := strings.Cut(rest, ",")
			ids = append(ids, strings.Trim(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(id), "}")), `"`))
		}
	}
	return ids, nil
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

func (s *Service) vsctl(ctx context.Context, args ...string) error {
	_, err := s.vsctlOut(ctx, args...)
	return err
}

func (s *Service) vsctlOut(ctx context.Context, args ...string) (string, error) {
	a := []string{"--timeout=10"}
	if s.cfg.OVSDB != "" {
		a = append(a, "--db="+s.cfg.OVSDB)
	}
	out, err := exec.CommandContext(ctx, "ovs-vsctl", append(a, args...)...).Output()
	if err != nil {
		return "", fmt.Errorf("l3: ovs-vsctl %v: %w", args, err)
	}
	return string(out), nil
}
