package dataplane

import (
	"context"
	"errors"
	"fmt"

	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/ovs/ovsdb"
	"github.com/vland/vland/internal/pipeline"
)

// syncTunnels creates the tunnel ports the state needs on br-tun and
// deletes the ones vland created that it no longer needs.
func (d *Dataplane) syncTunnels(ctx context.Context, s hoststate.State) error {
	var errs []error
	want := map[string]bool{}
	for _, tp := range pipeline.TunnelPorts(s) {
		want[tp.Name] = true
		if err := d.db.EnsurePort(ctx, d.cfg.TunnelBridge, tp.Name, tunnelSpec(tp, s)); err != nil {
			errs = append(errs, fmt.Errorf("dataplane: tunnel %s: %w", tp.Name, err))
		}
	}
	ports, err := d.db.ListPorts(ctx, d.cfg.TunnelBridge)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("dataplane: list %s: %w", d.cfg.TunnelBridge, err))...)
	}
	for _, p := range ports {
		if p.ExternalIDs[extKind] != "tunnel" || want[p.Name] {
			continue
		}
		if err := d.db.DeletePort(ctx, d.cfg.TunnelBridge, p.Name); err != nil {
			errs = append(errs, fmt.Errorf("dataplane: delete tunnel %s: %w", p.Name, err))
			continue
		}
		if p.OFPort > 0 {
			if err := d.flows.ForgetPort(ctx, d.cfg.TunnelBridge, p.OFPort); err != nil {
				errs = append(errs, fmt.Errorf("dataplane: forget learned flows of %s: %w", p.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func tunnelSpec(tp pipeline.TunnelPort, s hoststate.State) ovsdb.PortSpec {
	remote := "flow" // one port per type: the flows set tun_dst
	if tp.RemoteIP.IsValid() {
		remote = tp.RemoteIP.String()
	}
	opts := map[string]string{
		"remote_ip": remote,
		"in_key":    "flow",
		"out_key":   "flow",
	}
	if s.LocalIP.IsValid() {
		opts["local_ip"] = s.LocalIP.String()
	}
	return ovsdb.PortSpec{
		Type:        tp.Type,
		Options:     opts,
		ExternalIDs: map[string]string{extOwner: ownerValue, extKind: "tunnel", "remote_ip": remote},
	}
}
