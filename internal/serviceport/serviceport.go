// Package serviceport plugs the NIC of an agent service's port (a DHCP
// port, a router interface or gateway) into the integration bridge.
//
// The NIC is a veth pair, the way Neutron's ovs_use_veth does it:
// tapXXXXXXXXXXX on br-int, in Open vSwitch's namespace, and a named end
// (ns-, qr-, qg-) in the service's namespace. A veth works on both the
// system and the netdev datapath, where an OVS internal port moved into
// another namespace does not (the userspace datapath keeps addressing it
// by name in its own). The tap carries the external_ids a VIF does, so the
// data plane wires it like one: the network's local VLAN, no
// anti-spoofing (network: owners), plus one key naming the service
// object that owns it, so a restarted agent finds its leftovers.
package serviceport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"

	"github.com/vland/vland/internal/link"
)

// Name is a device name for a port: prefix and the port id cut to fit
// the kernel's 15 characters ("tap", "ns-", "qr-", "qg-").
func Name(prefix, portID string) string {
	if len(portID) > 11 {
		portID = portID[:11]
	}
	return prefix + portID
}

// TapName is the name of a port's end on br-int.
func TapName(portID string) string { return Name("tap", portID) }

// Bridge is the integration bridge service ports plug into.
type Bridge struct {
	Name  string // "br-int"
	NetNS string // the namespace OVS's ports live in ("" = ours)
	OVSDB string // ovs-vsctl's --db ("" = its default)
}

// Owner is the external_ids key and value that mark the service object a
// tap belongs to (vland-router=<router id>).
type Owner struct{ Key, ID string }

// NIC is a service port's NIC as it should be.
type NIC struct {
	PortID string
	MAC    string
	MTU    int            // 0 leaves the kernel's
	Addrs  []netip.Prefix // exactly these (the kernel's IPv6 link-local stays)
	NS     string         // the service's namespace
	Name   string         // the NIC's name in NS
	Owner  Owner
}

// Plug makes n's veth pair match n: MAC, MTU, addresses, both ends up, the
// tap on the bridge. It is idempotent: a pair that exists is updated.
func (b Bridge) Plug(ctx context.Context, n NIC) error {
	mac, err := net.ParseMAC(n.MAC)
	if err != nil {
		return fmt.Errorf("serviceport: port %s mac %q: %w", n.PortID, n.MAC, err)
	}
	tap := TapName(n.PortID)
	if err := link.AddVeth(link.End{NS: b.NetNS, Name: tap, MTU: n.MTU},
		link.End{NS: n.NS, Name: n.Name, MAC: mac, MTU: n.MTU}); err != nil {
		return err
	}
	// Userspace datapaths never complete partial checksums: offload off on
	// both ends, or UDP replies (DHCP, DNS) arrive with bad checksums.
	if err := link.TxOffloadOff(ctx, b.NetNS, tap); err != nil {
		return err
	}
	if err := link.TxOffloadOff(ctx, n.NS, n.Name); err != nil {
		return err
	}
	if err := configure(n, mac); err != nil {
		return err
	}
	if err := setUp(b.NetNS, tap, n.MTU); err != nil {
		return err
	}
	_, err = b.vsctl(ctx, "--may-exist", "add-port", b.Name, tap, "--", "set", "Interface", tap,
		"external_ids:iface-id="+n.PortID,
		"external_ids:attached-mac="+n.MAC,
		"external_ids:iface-status=active",
		"external_ids:"+n.Owner.Key+"="+n.Owner.ID)
	return err
}

// configure sets the namespace end: MAC, MTU, exactly the addresses
// (IPv6 link-local ones, the kernel's, stay), up.
func configure(n NIC, mac net.HardwareAddr) error {
	h, err := link.Open(n.NS)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.SetMAC(n.Name, mac); err != nil {
		return err
	}
	if n.MTU > 0 {
		if err := h.SetMTU(n.Name, n.MTU); err != nil {
			return err
		}
	}
	have, err := h.Addrs(n.Name)
	if err != nil {
		return err
	}
	want := map[netip.Prefix]bool{}
	for _, a := range n.Addrs {
		want[a] = true
	}
	for _, a := range have {
		if !want[a] && !(a.Addr().Is6() && a.Addr().IsLinkLocalUnicast()) {
			if err := h.DelAddr(n.Name, a); err != nil {
				return err
			}
		}
	}
	for _, a := range n.Addrs {
		if err := h.AddAddr(n.Name, a); err != nil {
			return err
		}
	}
	return h.SetUp(n.Name)
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

// Unplug takes a port's tap off the bridge and deletes its veth pair (both
// ends go together). Unplugging a port that is not there is not an error.
func (b Bridge) Unplug(ctx context.Context, portID string) error {
	return b.unplugTap(ctx, TapName(portID))
}

// UnplugOwned unplugs every tap o owns.
func (b Bridge) UnplugOwned(ctx context.Context, o Owner) error {
	out, err := b.vsctl(ctx, "--no-heading", "--columns=name", "find", "Interface", "external_ids:"+o.Key+"="+o.ID)
	errs := []error{err}
	for _, tap := range strings.Fields(strings.ReplaceAll(out, `"`, "")) {
		errs = append(errs, b.unplugTap(ctx, tap))
	}
	return errors.Join(errs...)
}

func (b Bridge) unplugTap(ctx context.Context, tap string) error {
	_, err := b.vsctl(ctx, "--if-exists", "del-port", b.Name, tap)
	h, herr := link.Open(b.NetNS)
	if herr != nil {
		return errors.Join(err, herr)
	}
	defer h.Close()
	return errors.Join(err, h.Delete(tap))
}

// Owners lists the ids of the owners with key that have a tap on any
// bridge of this OVSDB (an owner with several taps comes several times).
func (b Bridge) Owners(ctx context.Context, key string) ([]string, error) {
	out, err := b.vsctl(ctx, "--no-heading", "--columns=external_ids", "find", "Interface")
	if err != nil {
		return nil, err
	}
	return ownerIDs(out, key), nil
}

// ownerIDs reads the values of key in ovs-vsctl's printed external_ids
// maps, one map a line ({attached-mac="…", vland-router="…"}).
func ownerIDs(out, key string) []string {
	var ids []string
	for _, line := range strings.Split(out, "\n") {
		if _, rest, ok := strings.Cut(line, key+"="); ok {
			id, _, _ := strings.Cut(rest, ",")
			ids = append(ids, strings.Trim(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(id), "}")), `"`))
		}
	}
	return ids
}

// vsctl runs ovs-vsctl and returns its standard output.
func (b Bridge) vsctl(ctx context.Context, args ...string) (string, error) {
	a := []string{"--timeout=10"}
	if b.OVSDB != "" {
		a = append(a, "--db="+b.OVSDB)
	}
	cmd := exec.CommandContext(ctx, "ovs-vsctl", append(a, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("serviceport: ovs-vsctl %v: %w: %s", args, err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
