package dataplane

import (
	"context"
	"sort"
	"time"
)

// watch forwards OVSDB changes (interfaces plugged, ofports renumbered) and
// checks the canary flow; when ovs-vswitchd restarted and lost its flows,
// it forgets what was installed and signals, so the next Apply reinstalls
// everything.
func (d *Dataplane) watch(ctx context.Context, dbChanges <-chan struct{}) {
	defer close(d.done)
	t := time.NewTicker(d.cfg.CanaryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-dbChanges:
			d.dbChanged.Store(true)
			d.signal()
		case <-t.C:
			d.checkCanary(ctx)
		}
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
