package link

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"syscall"

	"github.com/vishvananda/netlink"

	vnetns "github.com/vland/vland/internal/netns"
)

var errExist = syscall.EEXIST

// AddAddr puts an address with its prefix length on the named link. An
// address that is already there is not an error.
func (n *NS) AddAddr(name string, p netip.Prefix) error {
	l, err := n.Get(name)
	if err != nil {
		return err
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
	if err := n.h.AddrAdd(l, a); err != nil && !errIsExist(err) {
		return fmt.Errorf("link: addr %s on %s in netns %q: %w", p, name, n.name, err)
	}
	return nil
}

// Addrs returns the addresses on the named link.
func (n *NS) Addrs(name string) ([]netip.Prefix, error) {
	l, err := n.Get(name)
	if err != nil {
		return nil, err
	}
	as, err := n.h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("link: addrs of %s in netns %q: %w", name, n.name, err)
	}
	out := make([]netip.Prefix, 0, len(as))
	for _, a := range as {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ones, _ := a.Mask.Size()
		out = append(out, netip.PrefixFrom(ip.Unmap(), ones))
	}
	return out, nil
}

// AddDefaultRoute routes everything not on a connected subnet to gw through
// the named link. An existing identical route is not an error.
func (n *NS) AddDefaultRoute(name string, gw netip.Addr) error {
	l, err := n.Get(name)
	if err != nil {
		return err
	}
	r := &netlink.Route{LinkIndex: l.Attrs().Index, Gw: gw.AsSlice()}
	if gw.Is4() {
		r.Dst = &net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}
	} else {
		r.Dst = &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
	}
	if err := n.h.RouteAdd(r); err != nil && !errIsExist(err) {
		return fmt.Errorf("link: default via %s dev %s in netns %q: %w", gw, name, n.name, err)
	}
	return nil
}

// TxOffloadOff turns transmit checksum offload off on a link in the named
// namespace. Every veth feeding an OVS netdev datapath needs it: with it on,
// packets leave with partial checksums that OVS userspace never completes,
// so TCP stalls and conntrack drops NATed replies while ping still works.
// netlink has no ethtool feature call, so this runs ethtool in the namespace.
func TxOffloadOff(ctx context.Context, ns, name string) error {
	argv := []string{"ethtool", "-K", name, "tx", "off"}
	var err error
	if ns == "" {
		var out []byte
		if out, err = exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
			err = fmt.Errorf("%w: %s", err, out)
		}
	} else {
		_, err = vnetns.Run(ctx, ns, argv...)
	}
	if err != nil {
		return fmt.Errorf("link: tx offload off on %s: %w", name, err)
	}
	return nil
}
