// Package link configures network devices inside named namespaces over
// netlink: veth pairs (created directly with each end in its namespace, so
// nothing ever appears in the root namespace), Linux bridges, addresses,
// MTU, up/down and routes. Every call opens a netlink socket in the target
// namespace (netlink.NewHandleAt), so no thread ever switches namespace.
package link

import (
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	vnetns "github.com/vland/vland/internal/netns"
)

// ErrNotFound is returned when a link does not exist in the namespace.
var ErrNotFound = errors.New("link: not found")

// NS is a netlink handle bound to one network namespace.
type NS struct {
	name string
	h    *netlink.Handle
}

// Open returns a handle on the named namespace; "" means the namespace of
// the calling thread. Close it when done.
func Open(ns string) (*NS, error) {
	if ns == "" {
		h, err := netlink.NewHandle()
		if err != nil {
			return nil, fmt.Errorf("link: netlink: %w", err)
		}
		return &NS{h: h}, nil
	}
	nsh, err := vnetns.Handle(ns)
	if err != nil {
		return nil, err
	}
	defer nsh.Close()
	h, err := netlink.NewHandleAt(nsh)
	if err != nil {
		return nil, fmt.Errorf("link: netlink in %s: %w", ns, err)
	}
	return &NS{name: ns, h: h}, nil
}

// Close releases the netlink socket.
func (n *NS) Close() { n.h.Close() }

// Name is the namespace this handle works in ("" for the current one).
func (n *NS) Name() string { return n.name }

// Get returns the named link, or an error wrapping ErrNotFound.
func (n *NS) Get(name string) (netlink.Link, error) {
	l, err := n.h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("%w: %s in netns %q", ErrNotFound, name, n.name)
		}
		return nil, fmt.Errorf("link: get %s in netns %q: %w", name, n.name, err)
	}
	return l, nil
}

// Exists reports whether the named link exists.
func (n *NS) Exists(name string) bool {
	_, err := n.Get(name)
	return err == nil
}

// Delete removes the named link; a missing link is not an error. Deleting
// one end of a veth pair removes both.
func (n *NS) Delete(name string) error {
	l, err := n.Get(name)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := n.h.LinkDel(l); err != nil {
		return fmt.Errorf("link: delete %s in netns %q: %w", name, n.name, err)
	}
	return nil
}

// SetUp brings the named link up.
func (n *NS) SetUp(name string) error {
	l, err := n.Get(name)
	if err != nil {
		return err
	}
	if err := n.h.LinkSetUp(l); err != nil {
		return fmt.Errorf("link: up %s in netns %q: %w", name, n.name, err)
	}
	return nil
}

// SetMTU sets the named link's MTU.
func (n *NS) SetMTU(name string, mtu int) error {
	l, err := n.Get(name)
	if err != nil {
		return err
	}
	if err := n.h.LinkSetMTU(l, mtu); err != nil {
		return fmt.Errorf("link: mtu %d on %s in netns %q: %w", mtu, name, n.name, err)
	}
	return nil
}

// SetMAC sets the named link's hardware address.
func (n *NS) SetMAC(name string, mac net.HardwareAddr) error {
	l, err := n.Get(name)
	if err != nil {
		return err
	}
	if err := n.h.LinkSetHardwareAddr(l, mac); err != nil {
		return fmt.Errorf("link: mac %s on %s in netns %q: %w", mac, name, n.name, err)
	}
	return nil
}

// nsFd opens another named namespace for a netlink attribute; the caller
// closes it once the request is done.
func nsFd(ns string) (netns.NsHandle, error) {
	return vnetns.Handle(ns)
}
