package ovsdb

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/vland/vland/internal/ovs/ovsdb/vswitchd"
)

// PortSpec is the desired configuration of a port and its single interface
// (named like the port). Fields documented "leave" keep the current value
// when zero, so a reconciler that only knows some fields does not undo
// another's work.
type PortSpec struct {
	// Type is the interface type: "" (system device, e.g. a veth),
	// "internal", "patch", "vxlan", "gre", "geneve", ... Always enforced.
	Type string
	// Options are the interface options (peer=, remote_ip=, key=, ...):
	// nil leaves them, non-nil sets exactly these.
	Options map[string]string
	// Tag is the access VLAN: nil leaves it (see SetPortTag to clear).
	Tag *int
	// ExternalIDs and OtherConfig of the Port, and ExternalIDs of the
	// Interface (iface-id, attached-mac, ...): keys are merged.
	ExternalIDs      map[string]string
	OtherConfig      map[string]string
	IfaceExternalIDs map[string]string
	// MAC sets the interface MAC (internal ports); "" leaves it.
	MAC string
	// MTURequest sets mtu_request; 0 leaves it.
	MTURequest int
	// OFPortRequest asks for a fixed OpenFlow port number; 0 leaves it.
	OFPortRequest int
}

// EnsurePort creates port name on bridge, or fixes an existing port to
// match spec (moving it from another bridge if needed), in one transaction.
// Idempotent; a no-op when nothing differs.
func (c *Client) EnsurePort(ctx context.Context, bridge, name string, spec PortSpec) error {
	if name == "" {
		return fmt.Errorf("%w: empty port name", ErrBadSpec)
	}
	br, err := c.bridge(ctx, bridge)
	if err != nil {
		return err
	}
	port, iface, err := c.portRows(ctx, name)
	switch {
	case errors.Is(err, ErrNotFound):
		err = c.createPort(ctx, br, name, spec)
	case err == nil:
		err = c.updatePort(ctx, br, port, iface, spec)
	}
	if err != nil {
		return err
	}
	return c.waitCache(ctx, func() bool {
		p, i, err := c.portRows(ctx, name)
		if err != nil {
			return false
		}
		b, err := c.bridge(ctx, bridge)
		return err == nil && slices.Contains(b.Ports, p.UUID) && portMatches(p, i, spec)
	})
}

func (c *Client) createPort(ctx context.Context, br *vswitchd.Bridge, name string, spec PortSpec) error {
	iface := &vswitchd.Interface{UUID: "vland_iface", Name: name}
	port := &vswitchd.Port{UUID: "vland_port", Name: name, Interfaces: []string{iface.UUID}}
	applyPortSpec(port, iface, spec)
	ops, err := c.create(iface, port)
	if err != nil {
		return fmt.Errorf("ovsdb: create port %s: %w", name, err)
	}
	mut, err := c.ovs.Where(br).Mutate(br, model.Mutation{
		Field: &br.Ports, Mutator: ovsdb.MutateOperationInsert, Value: []string{port.UUID},
	})
	if err != nil {
		return fmt.Errorf("ovsdb: add port %s: %w", name, err)
	}
	return c.transact(ctx, "create port "+name, append(ops, mut...))
}

func (c *Client) updatePort(ctx context.Context, br *vswitchd.Bridge, port *vswitchd.Port, iface *vswitchd.Interface, spec PortSpec) error {
	var ops []ovsdb.Operation
	if !slices.Contains(br.Ports, port.UUID) {
		move, err := c.movePortOps(ctx, br, port)
		if err != nil {
			return err
		}
		ops = append(ops, move...)
	}
	if !portMatches(port, iface, spec) {
		applyPortSpec(port, iface, spec)
		pops, err := c.ovs.Where(port).Update(port, &port.Tag, &port.ExternalIDs, &port.OtherConfig)
		if err != nil {
			return fmt.Errorf("ovsdb: update port %s: %w", port.Name, err)
		}
		iops, err := c.ovs.Where(iface).Update(iface, &iface.Type, &iface.Options, &iface.ExternalIDs,
			&iface.MAC, &iface.MTURequest, &iface.OfportRequest)
		if err != nil {
			return fmt.Errorf("ovsdb: update interface %s: %w", iface.Name, err)
		}
		ops = append(append(ops, pops...), iops...)
	}
	return c.transact(ctx, "update port "+port.Name, ops)
}

// movePortOps detaches port from whichever bridge holds it and attaches it
// to br; in one transaction the port is never unreferenced, so it is not
// garbage-collected.
func (c *Client) movePortOps(ctx context.Context, br *vswitchd.Bridge, port *vswitchd.Port) ([]ovsdb.Operation, error) {
	var ops []ovsdb.Operation
	if old, err := c.bridgeOfPort(ctx, port.UUID); err == nil {
		del, err := c.ovs.Where(old).Mutate(old, model.Mutation{
			Field: &old.Ports, Mutator: ovsdb.MutateOperationDelete, Value: []string{port.UUID},
		})
		if err != nil {
			return nil, fmt.Errorf("ovsdb: move port %s: %w", port.Name, err)
		}
		ops = append(ops, del...)
	}
	ins, err := c.ovs.Where(br).Mutate(br, model.Mutation{
		Field: &br.Ports, Mutator: ovsdb.MutateOperationInsert, Value: []string{port.UUID},
	})
	if err != nil {
		return nil, fmt.Errorf("ovsdb: move port %s: %w", port.Name, err)
	}
	return append(ops, ins...), nil
}

func applyPortSpec(port *vswitchd.Port, iface *vswitchd.Interface, spec PortSpec) {
	iface.Type = spec.Type
	if spec.Options != nil {
		iface.Options = spec.Options
	}
	if spec.Tag != nil {
		t := *spec.Tag
		port.Tag = &t
	}
	port.ExternalIDs = mergeMap(port.ExternalIDs, spec.ExternalIDs)
	port.OtherConfig = mergeMap(port.OtherConfig, spec.OtherConfig)
	iface.ExternalIDs = mergeMap(iface.ExternalIDs, spec.IfaceExternalIDs)
	if spec.MAC != "" {
		m := spec.MAC
		iface.MAC = &m
	}
	if spec.MTURequest != 0 {
		m := spec.MTURequest
		iface.MTURequest = &m
	}
	if spec.OFPortRequest != 0 {
		o := spec.OFPortRequest
		iface.OfportRequest = &o
	}
}

func portMatches(port *vswitchd.Port, iface *vswitchd.Interface, spec PortSpec) bool {
	return iface.Type == spec.Type &&
		(spec.Options == nil || equalMap(iface.Options, spec.Options)) &&
		(spec.Tag == nil || (port.Tag != nil && *port.Tag == *spec.Tag)) &&
		containsAll(port.ExternalIDs, spec.ExternalIDs) &&
		containsAll(port.OtherConfig, spec.OtherConfig) &&
		containsAll(iface.ExternalIDs, spec.IfaceExternalIDs) &&
		(spec.MAC == "" || (iface.MAC != nil && *iface.MAC == spec.MAC)) &&
		(spec.MTURequest == 0 || (iface.MTURequest != nil && *iface.MTURequest == spec.MTURequest)) &&
		(spec.OFPortRequest == 0 || (iface.OfportRequest != nil && *iface.OfportRequest == spec.OFPortRequest))
}
