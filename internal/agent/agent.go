// Package agent is vland's host agent, the control side of one host: it
// registers the host in the store with a leased heartbeat, follows the
// store, computes the host's desired data plane (Compute, pure) and has the
// data plane apply it, then reports each port's status. It is
// level-triggered: every wake-up (store change, OVS interface change,
// periodic resync) recomputes the whole state, so a restart or a missed
// event converges to the same result.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/store"
)

// Agent is one host's agent. Create it with New and start it with Run.
type Agent struct {
	cfg   Config
	st    store.Store
	dp    Dataplane
	log   *slog.Logger
	cache *cache
	reg   *registrar

	// Last applied state and its results: an unchanged state is not applied
	// again except on the periodic resync.
	last    *hoststate.State
	results []hoststate.PortResult

	// For the scale bench: reconciles, and wake-ups by a store change.
	reconciles, storeWakes atomic.Int64
}

// New checks cfg and returns an agent over a store and a data plane. The
// agent does not own st: the caller closes it after Run returns.
func New(cfg Config, st store.Store, dp Dataplane) (*Agent, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Agent{
		cfg:   cfg,
		st:    st,
		dp:    dp,
		log:   cfg.Log.With("host", cfg.Host),
		cache: newCache(st, cfg.Log, cfg.Host, len(cfg.Services) > 0),
		reg:   newRegistrar(st, cfg),
	}, nil
}

// Run starts the data plane, registers the host and reconciles until ctx
// ends; it then revokes the heartbeat and closes the data plane (flows stay
// in place, so traffic continues while the agent is away). It returns nil
// after ctx ends, or the error that kept the agent from starting.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.dp.Start(ctx); err != nil {
		return fmt.Errorf("agent: start data plane: %w", err)
	}
	defer a.dp.Close()
	// The first listing keeps what the ports already plugged here need.
	if ifaces, err := a.dp.Interfaces(ctx); err == nil {
		a.cache.setLocal(ifaceIDs(ifaces))
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { a.cache.run(ctx) })
	wg.Go(func() { a.reg.run(ctx) })
	for _, s := range a.cfg.Services {
		wg.Go(func() { s.Run(ctx) })
	}
	// Applying before the cache holds the whole store would remove the
	// flows of every port not yet seen: wait for the first listing.
	select {
	case <-ctx.Done():
		return nil
	case <-a.cache.ready:
	}
	a.loop(ctx)
	return nil
}

// loop reconciles on every wake-up, coalescing bursts, and backs off while
// reconciling fails.
func (a *Agent) loop(ctx context.Context) {
	resync := time.NewTicker(a.cfg.ResyncInterval)
	defer resync.Stop()
	bo := backoff{min: 100 * time.Millisecond, max: 30 * time.Second}
	force := true
	for {
		if err := a.reconcile(ctx, force); err != nil {
			if ctx.Err() != nil {
				return
			}
			d := bo.next()
			a.log.Error("reconcile failed", "err", err, "retry_in_s", d.Seconds())
			if !sleep(ctx, d) {
				return
			}
			force = true
			continue
		}
		bo.reset()
		force = false
		select {
		case <-ctx.Done():
			return
		case <-a.cache.changed:
			a.storeWakes.Add(1)
			a.log.Debug("woken", "by", "store")
		case <-a.dp.Changes():
			// The data plane asks for an Apply (e.g. ovs-vswitchd restarted
			// and lost its flows) even though the host state is unchanged.
			force = true
			a.log.Debug("woken", "by", "dataplane")
		case <-resync.C:
			force = true
		}
		if !sleep(ctx, a.cfg.Debounce) {
			return
		}
		if a.drain() {
			force = true
		}
	}
}

// drain drops wake-ups that arrived during the debounce: the reconcile
// that follows sees their changes anyway. It reports whether the data plane
// asked for an Apply.
func (a *Agent) drain() (dpChanged bool) {
	for {
		select {
		case <-a.cache.changed:
		case <-a.dp.Changes():
			dpChanged = true
		default:
			return dpChanged
		}
	}
}

// reconcile computes the host's state, applies it (if it changed or force
// is set) and writes the port statuses that follow.
func (a *Agent) reconcile(ctx context.Context, force bool) error {
	a.reconciles.Add(1)
	start := time.Now()
	ifaces, err := a.dp.Interfaces(ctx)
	if err != nil {
		return fmt.Errorf("agent: list interfaces: %w", err)
	}
	if err := a.cache.sync(ctx, ifaceIDs(ifaces)); err != nil {
		return fmt.Errorf("agent: read the store: %w", err)
	}
	snap, revs := a.cache.snapshot()
	st := Compute(a.cfg.HostConfig, ifaces, snap)
	a.reg.setDevices(len(st.Ports))
	computed := time.Now()
	var aerr error
	if force || a.last == nil || !reflect.DeepEqual(*a.last, st) {
		results, err := a.dp.Apply(ctx, st)
		a.results = results
		a.last = &st
		if err != nil {
			a.last = nil // apply again next time even if nothing changes
			aerr = fmt.Errorf("agent: apply: %w", err)
		}
		a.log.Debug("applied host state", "ports", len(st.Ports), "networks", len(st.Networks),
			"peers", len(st.Peers), "compute_s", computed.Sub(start).Seconds(), "apply_s", time.Since(computed).Seconds())
	}
	ws := statusWrites(a.cfg.Host, st, a.results, snap, revs, time.Now().UTC().Format(time.RFC3339))
	serr := a.syncServices(ctx, snap)
	wrote := time.Now()
	werr := writeStatuses(ctx, a.st, ws)
	if len(ws) > 0 {
		a.log.Debug("wrote port statuses", "writes", len(ws), "duration_s", time.Since(wrote).Seconds())
	}
	return errors.Join(aerr, serr, werr)
}

func ifaceIDs(ifaces []hoststate.Interface) []string {
	ids := make([]string, 0, len(ifaces))
	for _, ifc := range ifaces {
		ids = append(ids, ifc.IfaceID)
	}
	return ids
}
