package dataplane

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/ovs/ovsdb"
	"github.com/vland/vland/internal/pipeline"
)

// ofportWait bounds the wait for ovs-vswitchd to number a new port.
const ofportWait = 3 * time.Second

// applyWait bounds the wait for ovs-vswitchd to apply new port tags.
const applyWait = 5 * time.Second

// Apply makes OVS match s: tags and other_config of br-int ports, tunnel
// ports, provider patches, then every flow, one atomic bundle per bridge.
// It is idempotent and converges from any starting point; on partial
// failure it does all it can and returns the errors joined. A port gets
// flows only once OVSDB reads back its network's tag, and is reported
// Bound only if its flows were installed.
func (d *Dataplane) Apply(ctx context.Context, s hoststate.State) ([]hoststate.PortResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.db == nil {
		return nil, ErrNotStart
	}
	s = d.withDefaults(s)
	ph := newPhases()
	var errs []error
	if err := d.ensureBridges(ctx, s.BridgeMappings); err != nil {
		errs = append(errs, err)
	}
	ports, err := d.db.ListPorts(ctx, d.cfg.IntegrationBridge)
	if err != nil {
		return nil, errors.Join(append(errs, fmt.Errorf("dataplane: list %s: %w", d.cfg.IntegrationBridge, err))...)
	}
	ph.mark("read")
	bound := boundIfaces(s, ports)
	vlans, err := localVLANs(s, bound, ports)
	errs = append(errs, err)
	// Conntrack zones of networks new on the host are emptied while the
	// tags go in (one exec per zone): they must be empty before the flows
	// that use them, not before the tags.
	flushed := d.flushZones(ctx, newVLANs(vlans, ports))
	// A port forwards only once ovs-vswitchd has applied its tag: wait for
	// that last, so that it reconfigures while the flows go in.
	// Ports leaving service keep their tag until their flows are gone (see
	// below): table 60 delivers to ports and learned MACs by explicit
	// output, which a dead VLAN alone would not stop.
	applied, err := d.syncTags(ctx, s, ports, bound, vlans, false)
	errs = append(errs, err)
	ph.mark("tags")
	// Wire only ports whose tag reads back: an untagged port is a trunk,
	// whose VM could send into any local VLAN. (ovs-vswitchd may apply the
	// tag a moment after the flows go in; table 0's drop of tagged frames
	// covers that window.)
	if ports, err = d.db.ListPorts(ctx, d.cfg.IntegrationBridge); err != nil {
		<-flushed
		return nil, errors.Join(append(errs, fmt.Errorf("dataplane: list %s: %w", d.cfg.IntegrationBridge, err))...)
	}
	tagged, err := taggedIfaces(s, bound, vlans, ports)
	errs = append(errs, err)
	ph.mark("readback")
	errs = append(errs, d.syncTunnels(ctx, s))
	if d.neigh != nil {
		d.neigh.update(pipeline.TunnelPeers(s))
	}
	ph.mark("tunnels")
	pm, err := d.portMap(ctx, s, tagged, vlans)
	errs = append(errs, err)
	ph.mark("ofports")
	flows := pipeline.Build(s, pm)
	ph.mark("build")
	<-flushed
	ph.mark("flush")
	if d.resync.Swap(false) && len(d.synced) > 0 {
		d.log.Warn("OpenFlow connection to the switch broke (ovs-vswitchd restarted?): reinstalling flows")
		d.synced = map[string]bool{}
	}
	intErr, err := d.installAll(ctx, flows)
	errs = append(errs, err)
	ph.mark("flows")
	dead, err := d.syncTags(ctx, s, ports, bound, vlans, true)
	errs = append(errs, err)
	applied = max(applied, dead)
	ph.mark("dead")
	if applied > 0 {
		errs = append(errs, d.db.WaitCfg(ctx, applied, applyWait))
		ph.mark("vswitchd")
	}
	d.log.Debug("apply phases", ph.attrs()...)
	wired := pipeline.BoundPorts(s, pm)
	return results(s, vlans, wired, intErr == nil), errors.Join(errs...)
}

// flushZones empties the conntrack zones one after the other in the
// background; the channel is closed when done. Failures are logged: a
// zone left unflushed only risks stale entries.
func (d *Dataplane) flushZones(ctx context.Context, zones []int) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, zone := range zones {
			if err := d.flushZone(ctx, zone); err != nil {
				d.log.Warn("stale conntrack entries may remain", "zone", zone, "err", err)
			}
		}
	}()
	return done
}

// installAll installs every bridge's flows at once (each bridge is its own
// ovs-ofctl bundle, so they do not wait for each other). It returns
// br-int's error apart, since ports are bound only if br-int's flows went
// in, and all errors joined.
func (d *Dataplane) installAll(ctx context.Context, flows pipeline.Flows) (intErr, all error) {
	sets := map[string][]pipeline.Flow{d.cfg.IntegrationBridge: flows.Int, d.cfg.TunnelBridge: flows.Tun}
	for br, fs := range flows.Provider {
		sets[br] = fs
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := map[string]error{}
	for br, fs := range sets {
		synced := d.synced[br]
		wg.Go(func() {
			err := d.install(ctx, br, fs, synced)
			mu.Lock()
			errs[br] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	var joined []error
	for _, br := range sortedKeys(errs) {
		if errs[br] != nil {
			delete(d.synced, br)
			joined = append(joined, errs[br])
		} else {
			d.synced[br] = true
		}
	}
	return errs[d.cfg.IntegrationBridge], errors.Join(joined...)
}

// withDefaults fills what the state leaves empty from the config.
func (d *Dataplane) withDefaults(s hoststate.State) hoststate.State {
	if !s.LocalIP.IsValid() {
		s.LocalIP = d.cfg.LocalIP
	}
	if s.TunnelTypes == nil {
		s.TunnelTypes = d.cfg.TunnelTypes
	}
	if s.BridgeMappings == nil {
		s.BridgeMappings = d.cfg.BridgeMappings
	}
	return s
}

// portMap gathers the ofports the flows refer to, waiting briefly for
// ports ovs-vswitchd has not numbered yet.
func (d *Dataplane) portMap(ctx context.Context, s hoststate.State, bound map[string]ovsdb.PortInfo, vlans map[string]int) (pipeline.PortMap, error) {
	pm := pipeline.PortMap{Ports: map[string]int{}, LocalVLANs: vlans, Tunnels: map[string]int{}, Providers: map[string]pipeline.ProviderPorts{}}
	var errs []error
	of := func(name string, known int) int {
		if known > 0 {
			return known
		}
		wctx, cancel := context.WithTimeout(ctx, ofportWait)
		defer cancel()
		n, err := d.db.WaitOFPort(wctx, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("dataplane: ofport of %s: %w", name, err))
		}
		return n
	}
	for id, p := range bound {
		pm.Ports[id] = of(p.Name, p.OFPort)
	}
	pm.PatchTun = of(patchTun, 0)
	pm.PatchInt = of(patchInt, 0)
	for _, tp := range pipeline.TunnelPorts(s) {
		pm.Tunnels[tp.Name] = of(tp.Name, 0)
	}
	for physnet, br := range s.BridgeMappings {
		pm.Providers[physnet] = pipeline.ProviderPorts{
			Bridge: br, IntPort: of(intPatchName(br), 0), PhyPort: of(phyPatchName(br), 0),
		}
	}
	return pm, errors.Join(errs...)
}

// install writes a bridge's flows: a full Sync the first time in this
// round (replacing an earlier agent's flows without a gap) or after the
// flows were lost (synced false), the difference otherwise.
func (d *Dataplane) install(ctx context.Context, bridge string, flows []pipeline.Flow, synced bool) error {
	start := time.Now()
	var err error
	if synced {
		err = d.flows.Apply(ctx, bridge, flows)
	} else {
		err = d.flows.Sync(ctx, bridge, d.round, flows)
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrFlows, bridge, err)
	}
	d.log.Debug("flows installed", "bridge", bridge, "flows", len(flows), "seconds", time.Since(start).Seconds())
	return nil
}

// checkLost forgets what was installed if br-int lost flows: ovs-vswitchd
// restarted, and every bridge needs a full Sync. Reports whether it did.
func (d *Dataplane) checkLost(ctx context.Context) bool {
	if !d.synced[d.cfg.IntegrationBridge] {
		return false
	}
	lost, err := d.flows.Lost(ctx, d.cfg.IntegrationBridge)
	if err != nil {
		d.log.Debug("flow check failed", "err", err)
		return false
	}
	if lost {
		d.log.Warn("flows lost (ovs-vswitchd restarted): reinstalling")
		d.synced = map[string]bool{}
	}
	return lost
}

func results(s hoststate.State, vlans map[string]int, wired map[string]bool, flowsOK bool) []hoststate.PortResult {
	out := make([]hoststate.PortResult, 0, len(s.Ports))
	for _, id := range sortedKeys(s.Ports) {
		p := s.Ports[id]
		r := hoststate.PortResult{PortID: id, Bound: flowsOK && wired[id]}
		if r.Bound {
			r.LocalVLAN = vlans[p.NetworkID]
		}
		out = append(out, r)
	}
	return out
}
