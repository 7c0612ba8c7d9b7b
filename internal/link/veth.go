package link

import (
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
)

// End is one end of a veth pair: its namespace, name and, optionally, MAC
// address and MTU (zero values leave the kernel's choice).
type End struct {
	NS   string
	Name string
	MAC  net.HardwareAddr
	MTU  int
}

// AddVeth creates a veth pair with end a in a.NS and end b in b.NS, both
// created in place: neither end passes through another namespace. If a
// already exists it is kept and nil is returned, so callers can retry.
// Both ends are left down; callers bring them up once configured.
func AddVeth(a, b End) error {
	n, err := Open(a.NS)
	if err != nil {
		return err
	}
	defer n.Close()
	if n.Exists(a.Name) {
		return nil
	}
	v := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: a.Name, HardwareAddr: a.MAC, MTU: a.MTU},
		PeerName:         b.Name,
		PeerHardwareAddr: b.MAC,
		PeerMTU:          uint32(max(b.MTU, 0)),
	}
	if b.NS != a.NS {
		fd, err := nsFd(b.NS)
		if err != nil {
			return err
		}
		defer fd.Close()
		v.PeerNamespace = netlink.NsFd(int(fd))
	}
	if err := n.h.LinkAdd(v); err != nil {
		return fmt.Errorf("link: veth %s/%s - %s/%s: %w", a.NS, a.Name, b.NS, b.Name, err)
	}
	return nil
}

// AddBridge creates a Linux bridge (idempotent) and brings it up.
func (n *NS) AddBridge(name string) error {
	if !n.Exists(name) {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
		if err := n.h.LinkAdd(br); err != nil {
			return fmt.Errorf("link: bridge %s in netns %q: %w", name, n.name, err)
		}
	}
	return n.SetUp(name)
}

// SetMaster enslaves the named link to a bridge.
func (n *NS) SetMaster(name, bridge string) error {
	l, err := n.Get(name)
	if err != nil {
		return err
	}
	br, err := n.Get(bridge)
	if err != nil {
		return err
	}
	if err := n.h.LinkSetMaster(l, br); err != nil {
		return fmt.Errorf("link: %s master %s in netns %q: %w", name, bridge, n.name, err)
	}
	return nil
}

// Names lists every link name in the namespace.
func (n *NS) Names() ([]string, error) {
	ls, err := n.h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("link: list in netns %q: %w", n.name, err)
	}
	names := make([]string, 0, len(ls))
	for _, l := range ls {
		names = append(names, l.Attrs().Name)
	}
	return names, nil
}

// errIsExist reports whether a netlink error means "already there".
func errIsExist(err error) bool {
	return errors.Is(err, errExist)
}
