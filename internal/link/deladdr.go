package link

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"
)

// DelAddr removes an address from the named link; a missing one is not an
// error.
func (n *NS) DelAddr(name string, p netip.Prefix) error {
	l, err := n.Get(name)
	if err != nil {
		return err
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
	if err := n.h.AddrDel(l, a); err != nil && !errIsNotExist(err) {
		return fmt.Errorf("link: del addr %s on %s in netns %q: %w", p, name, n.name, err)
	}
	return nil
}

// errIsNotExist reports whether a netlink error means "not there".
func errIsNotExist(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENOENT)
}
