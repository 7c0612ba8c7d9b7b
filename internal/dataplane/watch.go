package dataplane

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"
)

// How the OpenFlow connection that detects ovs-vswitchd restarts is held:
// a connection that lasted switchHeld counts as made, and a failed one is
// retried after switchRetry.
const (
	switchHeld  = 200 * time.Millisecond
	switchRetry = 100 * time.Millisecond
)

// watch signals when OVSDB changed something Apply reads (interfaces
// plugged or gone, ofports (re)numbered, bridges) and checks the canary
// flow every CanaryInterval.
func (d *Dataplane) watch(ctx context.Context, db switchDB) {
	defer close(d.done)
	t := time.NewTicker(d.cfg.CanaryInterval)
	defer t.Stop()
	dbChanges := db.Changes()
	for {
		select {
		case <-ctx.Done():
			return
		case <-dbChanges:
			if d.inputsChanged(ctx, db) {
				d.log.Debug("interfaces changed")
				d.signal()
			}
		case <-t.C:
			d.checkCanary(ctx)
		}
	}
}

// inputsChanged reports whether the OVSDB rows Apply depends on changed
// since the last call. The digest leaves out what Apply itself writes
// (tags, other_config) and what ovs-vswitchd keeps updating (statistics,
// cur_cfg): each such change would cost a useless Apply. A change the
// digest misses is caught by the agent's periodic resync.
func (d *Dataplane) inputsChanged(ctx context.Context, db switchDB) bool {
	ports, err := db.ListPorts(ctx, "")
	if err != nil {
		return true
	}
	var b strings.Builder
	for _, p := range ports {
		b.WriteString(p.Bridge)
		b.WriteByte(0)
		b.WriteString(p.Name)
		b.WriteByte(0)
		b.WriteString(strconv.Itoa(p.OFPort))
		b.WriteByte(0)
		b.WriteString(p.IfaceExternalIDs[extIfaceID])
		b.WriteByte(0)
		b.WriteString(p.IfaceExternalIDs[extAttachedMAC])
		b.WriteByte(0)
		b.WriteString(p.Error)
		b.WriteByte('\n')
	}
	digest := b.String()
	if digest == d.inputs {
		return false
	}
	d.inputs = digest
	return true
}

// watchSwitch holds an OpenFlow connection to br-int. ovs-vswitchd closes
// it when it exits, and a restarted ovs-vswitchd has no flows: the next
// Apply must re-Sync every bridge. It asks for that Apply twice: when the
// connection breaks, and again once a new connection holds (the switch is
// back), since an Apply in between may fail.
func (d *Dataplane) watchSwitch(ctx context.Context) {
	defer close(d.switchDone)
	broken := false
	for ctx.Err() == nil {
		done := make(chan error, 1)
		go func() { done <- d.flows.Watch(ctx, d.cfg.IntegrationBridge) }()
		held := time.NewTimer(switchHeld)
		var err error
		select {
		case err = <-done:
		case <-held.C:
			if broken {
				d.log.Info("OpenFlow connection to the switch is back")
				d.switchLost()
				broken = false
			}
			err = <-done
		}
		held.Stop()
		if ctx.Err() != nil {
			return
		}
		if !broken {
			d.log.Warn("OpenFlow connection to the switch broke", "err", err)
			d.switchLost()
		}
		broken = true
		t := time.NewTimer(switchRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (d *Dataplane) switchLost() {
	d.resync.Store(true)
	d.signal()
	if d.neigh != nil {
		d.neigh.wake() // a restarted ovs-vswitchd knows no tunnel neighbour
	}
}

func (d *Dataplane) checkCanary(ctx context.Context) {
	if !d.mu.TryLock() {
		return // an Apply is running; check next tick
	}
	defer d.mu.Unlock()
	if d.checkLost(ctx) {
		d.signal()
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
