package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// tapNames lists the devices the netdev datapath creates as taps: one per
// internal interface (bridge local ports included) and ovs-netdev. Read
// before the daemons stop, from the database.
func (o *OVS) tapNames(ctx context.Context) []string {
	names := []string{"ovs-netdev"}
	out, err := o.Vsctl(ctx, "--bare", "--columns=name", "find", "Interface", "type=internal")
	if err != nil {
		return names
	}
	return append(names, strings.Fields(out)...)
}

// deleteTaps removes leftover tun/tap links with the given names from the
// daemon's namespace. Links of other kinds (veths given to OVS) are left
// alone: they belong to whoever created them.
func (o *OVS) deleteTaps(names []string) error {
	h, err := o.netlinkHandle()
	if err != nil {
		return err
	}
	defer h.Close()
	var errs []error
	for _, n := range names {
		l, err := h.LinkByName(n)
		if err != nil {
			continue
		}
		if l.Type() != "tuntap" && l.Type() != "tun" {
			continue
		}
		if err := h.LinkDel(l); err != nil {
			errs = append(errs, fmt.Errorf("daemon: delete %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}

func (o *OVS) netlinkHandle() (*netlink.Handle, error) {
	if o.cfg.NetNS == "" {
		return netlink.NewHandle()
	}
	ns, err := netns.GetFromName(o.cfg.NetNS)
	if err != nil {
		return nil, fmt.Errorf("daemon: netns %s: %w", o.cfg.NetNS, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("daemon: netlink in %s: %w", o.cfg.NetNS, err)
	}
	return h, nil
}
