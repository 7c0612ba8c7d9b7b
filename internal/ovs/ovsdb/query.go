package ovsdb

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/vland/vland/internal/ovs/ovsdb/vswitchd"
)

// PortInfo is a port and its interface as read from the cache. Its maps
// may be the cache's own (ListPorts): read them, never write them.
type PortInfo struct {
	Name   string
	Bridge string
	Type   string
	Tag    *int // nil = no access VLAN
	// OFPort is the OpenFlow port number: 0 while ovs-vswitchd has not
	// assigned one yet, -1 when the interface failed (see Error).
	OFPort           int
	Options          map[string]string
	ExternalIDs      map[string]string
	OtherConfig      map[string]string
	IfaceExternalIDs map[string]string
	MAC              string // mac_in_use, "" until known
	Error            string // interface error reported by ovs-vswitchd
}

// ListPorts returns the ports of bridge ("" = every bridge), sorted by
// name, including each bridge's local port (named like the bridge).
func (c *Client) ListPorts(ctx context.Context, bridge string) ([]PortInfo, error) {
	// The cache's rows as they are, not copied: libovsdb replaces a row on
	// update and never writes one in place, and PortInfo's maps are only
	// read. Copying every bridge, port and interface row at every listing
	// was a good part of a busy agent's allocation.
	cache := c.ovs.Cache()
	if cache == nil {
		return nil, fmt.Errorf("ovsdb: list bridges: not connected")
	}
	brs := cache.Table(vswitchd.BridgeTable).RowsShallow()
	ports := cache.Table(vswitchd.PortTable).RowsShallow()
	ifaces := cache.Table(vswitchd.InterfaceTable).RowsShallow()
	found := bridge == ""
	var out []PortInfo
	for _, m := range brs {
		br, ok := m.(*vswitchd.Bridge)
		if !ok || bridge != "" && br.Name != bridge {
			continue
		}
		found = true
		if out == nil {
			out = make([]PortInfo, 0, len(br.Ports))
		}
		for _, uuid := range br.Ports {
			if info, ok := c.portInfoByUUID(ctx, ports, ifaces, br.Name, uuid); ok {
				out = append(out, info)
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: bridge %s", ErrNotFound, bridge)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// GetPort returns one port, or ErrNotFound.
func (c *Client) GetPort(ctx context.Context, name string) (PortInfo, error) {
	port, iface, err := c.portRows(ctx, name)
	if err != nil {
		return PortInfo{}, err
	}
	info := portInfo("", port, iface)
	if br, err := c.bridgeOfPort(ctx, port.UUID); err == nil {
		info.Bridge = br.Name
	}
	return info, nil
}

// WaitOFPort waits until ovs-vswitchd assigns port name an OpenFlow port
// number and returns it. It fails with ErrIface if the interface reports an
// error (ofport -1), ErrNotFound if the port does not exist, or ctx's error.
func (c *Client) WaitOFPort(ctx context.Context, name string) (int, error) {
	for {
		p, err := c.GetPort(ctx, name)
		if err != nil {
			return 0, err
		}
		if p.OFPort > 0 {
			return p.OFPort, nil
		}
		if p.OFPort < 0 && p.Error != "" {
			return 0, fmt.Errorf("%w: %s: %s", ErrIface, name, p.Error)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("ovsdb: waiting for ofport of %s: %w", name, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// portInfoByUUID reads a port and its interface of the same name. The
// rows are read by UUID, the port's interfaces first: a Get by name would
// search an index (encoding the name) for each of the hundreds of ports an
// Apply lists, twice.
func (c *Client) portInfoByUUID(ctx context.Context, ports, ifaces map[string]model.Model, bridge, uuid string) (PortInfo, bool) {
	port, ok := ports[uuid].(*vswitchd.Port)
	if !ok {
		return PortInfo{}, false
	}
	for _, u := range port.Interfaces {
		if iface, ok := ifaces[u].(*vswitchd.Interface); ok && iface.Name == port.Name {
			return portInfo(bridge, port, iface), true
		}
	}
	iface := &vswitchd.Interface{Name: port.Name}
	if err := c.ovs.Get(ctx, iface); err != nil {
		iface = nil // a port mid-deletion; report what is known
	}
	return portInfo(bridge, port, iface), true
}

func portInfo(bridge string, port *vswitchd.Port, iface *vswitchd.Interface) PortInfo {
	info := PortInfo{
		Name: port.Name, Bridge: bridge, ExternalIDs: port.ExternalIDs, OtherConfig: port.OtherConfig,
	}
	if port.Tag != nil {
		t := *port.Tag
		info.Tag = &t
	}
	if iface == nil {
		return info
	}
	info.Type, info.Options, info.IfaceExternalIDs = iface.Type, iface.Options, iface.ExternalIDs
	if iface.Ofport != nil {
		info.OFPort = *iface.Ofport
	}
	if iface.MACInUse != nil {
		info.MAC = *iface.MACInUse
	}
	if iface.Error != nil {
		info.Error = *iface.Error
	}
	return info
}
