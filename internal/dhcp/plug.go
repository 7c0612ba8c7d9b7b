package dhcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"

	"github.com/vland/vland/internal/link"
	"github.com/vland/vland/internal/netns"
)

// The DHCP port's NIC is a veth pair, the way Neutron's ovs_use_veth does
// it: tapXXXXXXXXXXX on br-int (in OVS's namespace) and ns-XXXXXXXXXXX in
// qdhcp-<network>. A veth works on both the system and the netdev
// datapath, where an OVS internal port moved into another namespace does
// not (the userspace datapath keeps addressing it by name in its own).
// The tap carries the external_ids a VIF does, so the data plane wires it
// like one: the network's local VLAN, no anti-spoofing (network: owner).

func tapName(portID string) string { return "tap" + short(portID) }
func nicName(portID string) string { return "ns-" + short(portID) }

func short(id string) string {
	if len(id) > 11 {
		return id[:11]
	}
	return id
}

// plug makes the namespace and the DHCP port's NIC match n: MAC, MTU,
// addresses, up, plugged into br-int.
func (s *Server) plug(ctx context.Context, n Network) error {
	ns, err := netns.CreateAt(s.cfg.NetnsDir, NSPrefix+n.ID)
	if err != nil {
		return err
	}
	mac, err := net.ParseMAC(n.Port.MAC)
	if err != nil {
		return fmt.Errorf("dhcp: port %s mac %q: %w", n.Port.ID, n.Port.MAC, err)
	}
	tap, nic := tapName(n.Port.ID), nicName(n.Port.ID)
	if err := os.WriteFile(filepath.Join(s.netDir(n.ID), ifaceFile), []byte(n.Port.ID+"\n"), 0o644); err != nil {
		return fmt.Errorf("dhcp: %w", err)
	}
	if err := link.AddVeth(link.End{NS: s.cfg.OVSNetNS, Name: tap, MTU: n.MTU},
		link.End{NS: ns, Name: nic, MAC: mac, MTU: n.MTU}); err != nil {
		return err
	}
	// Userspace datapaths never complete partial checksums: offload off on
	// both ends, or DHCP and DNS replies arrive with bad UDP checksums.
	if err := link.TxOffloadOff(ctx, s.cfg.OVSNetNS, tap); err != nil {
		return err
	}
	if err := link.TxOffloadOff(ctx, ns, nic); err != nil {
		return err
	}
	if err := s.configureNIC(ns, nic, mac, n); err != nil {
		return err
	}
	if err := setUp(s.cfg.OVSNetNS, tap, n.MTU); err != nil {
		return err
	}
	return s.vsctl(ctx, "--may-exist", "add-port", s.cfg.Bridge, tap, "--", "set", "Interface", tap,
		"external_ids:iface-id="+n.Port.ID,
		"external_ids:attached-mac="+n.Port.MAC,
		"external_ids:iface-status=active",
		"external_ids:vland-dhcp-network="+n.ID)
}

// configureNIC sets the namespace side: MAC, MTU, exactly the port's
// addresses (IPv6 link-local ones stay), up.
func (s *Server) configureNIC(ns, nic string, mac net.HardwareAddr, n Network) error {
	h, err := link.Open(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.SetMAC(nic, mac); err != nil {
		return err
	}
	if n.MTU > 0 {
		if err := h.SetMTU(nic, n.MTU); err != nil {
			return err
		}
	}
	have, err := h.Addrs(nic)
	if err != nil {
		return err
	}
	addrs := n.Port.Addrs
	if n.Metadata {
		addrs = append(slices.Clone(addrs), metadataPrefix)
	}
	want := map[netip.Prefix]bool{}
	for _, a := range addrs {
		want[a] = true
	}
	for _, a := range have {
		if !want[a] && !(a.Addr().Is6() && a.Addr().IsLinkLocalUnicast()) {
			if err := h.DelAddr(nic, a); err != nil {
				return err
			}
		}
	}
	for _, a := range addrs {
		if err := h.AddAddr(nic, a); err != nil {
			return err
		}
	}
	return h.SetUp(nic)
}

func setUp(ns, name string, mtu int) error {
	h, err := link.Open(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	if mtu > 0 {
		if err := h.SetMTU(name, mtu); err != nil {
			return err
		}
	}
	return h.SetUp(name)
}

// unplug removes a DHCP port's tap from br-int and deletes the veth pair.
func (s *Server) unplug(ctx context.Context, portID string) error {
	tap := tapName(portID)
	err := s.vsctl(ctx, "--if-exists", "del-port", s.cfg.Bridge, tap)
	h, herr := link.Open(s.cfg.OVSNetNS)
	if herr != nil {
		return errors.Join(err, herr)
	}
	defer h.Close()
	return errors.Join(err, h.Delete(tap))
}

func (s *Server) vsctl(ctx context.Context, args ...string) error {
	a := []string{"--timeout=10"}
	if s.cfg.OVSDB != "" {
		a = append(a, "--db="+s.cfg.OVSDB)
	}
	out, err := exec.CommandContext(ctx, "ovs-vsctl", append(a, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("dhcp: ovs-vsctl %v: %w: %s", args, err, out)
	}
	return nil
}
