// Package scheduler is the server-side controller that places networks on
// DHCP agents and creates the DHCP ports that follow (device_owner
// network:dhcp, bound to the chosen host). It is level-triggered: every
// pass reads the whole desired state from the store and makes the writes
// that line it up, so a restarted server (or a new leader) simply carries
// on. Only one server schedules at a time (Elector, through etcd).
//
// The writes go through the service (Writer), which stays the only writer
// of the resource model: bindings, DHCP ports with their addresses.
package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/service"
	"github.com/vland/vland/internal/store"
)

// Writer makes the scheduler's writes; *service.Service implements it.
type Writer interface {
	BindDHCP(ctx context.Context, networkID, host string) error
	UnbindDHCP(ctx context.Context, networkID, host string) error
	CreateDHCPPort(ctx context.Context, n api.Network, host string, subnets []string) (api.Port, error)
	SetDHCPPortSubnets(ctx context.Context, portID string, subnets []string) error
	DeleteDHCPPort(ctx context.Context, portID string) error
	BindL3(ctx context.Context, routerID, host string) error
	UnbindL3(ctx context.Context, routerID, host string) error
}

// Defaults, as Neutron's.
const (
	DefaultAgentsPerNetwork = 1
	DefaultAgentDownTime    = 75 * time.Second
)

// Config configures a Scheduler; zero values take the defaults.
type Config struct {
	// AgentsPerNetwork is dhcp_agents_per_network: how many DHCP hosts
	// serve each network with DHCP enabled (default 1).
	AgentsPerNetwork int
	// AgentDownTime is how long a DHCP host must have been dead before its
	// networks move (default 75 s). Liveness itself shows in seconds.
	AgentDownTime time.Duration
	// Tick is how often a leader checks its timers (default 1 s): a pass
	// runs once a dead host's down time is over, and every Resync (default
	// 30 s) even without changes.
	Tick, Resync time.Duration
	// Debounce coalesces bursts of store changes (default 20 ms).
	Debounce time.Duration
	Now      func() time.Time // default time.Now
	Log      *slog.Logger     // default slog.Default()
}

func (c Config) withDefaults() Config {
	if c.AgentsPerNetwork <= 0 {
		c.AgentsPerNetwork = DefaultAgentsPerNetwork
	}
	if c.AgentDownTime <= 0 {
		c.AgentDownTime = DefaultAgentDownTime
	}
	if c.Tick <= 0 {
		c.Tick = time.Second
	}
	if c.Resync <= 0 {
		c.Resync = 30 * time.Second
	}
	if c.Debounce <= 0 {
		c.Debounce = 20 * time.Millisecond
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Scheduler places networks on DHCP hosts. Reconcile is one pass; Run
// campaigns for leadership and runs passes while leading.
type Scheduler struct {
	cfg Config
	st  store.Store
	w   Writer
	el  Elector

	mu sync.Mutex // one pass at a time
	// deadSince is when this leader first saw each dead host dead. It is
	// the only state outside the store and only delays moves: a new
	// leader starts the clocks afresh, so a restart never moves anything.
	deadSince map[string]time.Time
	// wake is when the first running down time of a bound dead host
	// ends (zero: none runs); a leader passes again then.
	wake time.Time
	// hosts and dhcpIndex are as of the last pass (for relevant).
	hosts     map[string]host
	dhcpIndex map[string]bool
	leading   bool
}

// New returns a scheduler reading st and writing through w.
func New(st store.Store, w Writer, el Elector, cfg Config) *Scheduler {
	return &Scheduler{cfg: cfg.withDefaults(), st: st, w: w, el: el, deadSince: map[string]time.Time{}}
}

// Leading reports whether this scheduler currently leads.
func (s *Scheduler) Leading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leading
}

// Reconcile runs one pass: read the store, plan, write. It returns the
// writes that failed (the next pass retries them).
func (s *Scheduler) Reconcile(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, err := read(ctx, s.st)
	if err != nil {
		return fmt.Errorf("scheduler: read store: %w", err)
	}
	s.hosts, s.dhcpIndex = snap.hosts, snap.dhcpIndex
	var errs []error
	now := s.cfg.Now()
	for _, a := range append(s.plan(snap, now), s.planL3(snap, now)...) {
		if err := s.apply(ctx, snap, a); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Scheduler) apply(ctx context.Context, snap *snapshot, a action) error {
	var err error
	switch a.kind {
	case unbind:
		s.cfg.Log.Info("scheduler: network off DHCP host", "network", a.network, "host", a.host)
		err = s.w.UnbindDHCP(ctx, a.network, a.host)
	case bind:
		s.cfg.Log.Info("scheduler: network on DHCP host", "network", a.network, "host", a.host)
		err = s.w.BindDHCP(ctx, a.network, a.host)
	case createPort:
		_, err = s.w.CreateDHCPPort(ctx, snap.networks[a.network].Network, a.host, a.subnets)
	case updatePort:
		err = s.w.SetDHCPPortSubnets(ctx, a.port, a.subnets)
	case deletePort:
		err = s.w.DeleteDHCPPort(ctx, a.port)
	case unbindL3:
		s.cfg.Log.Info("scheduler: router off L3 host", "router", a.router, "host", a.host)
		err = s.w.UnbindL3(ctx, a.router, a.host)
	case bindL3:
		s.cfg.Log.Info("scheduler: router on L3 host", "router", a.router, "host", a.host)
		err = s.w.BindL3(ctx, a.router, a.host)
	}
	if err != nil {
		return fmt.Errorf("scheduler: %v network %s router %s host %s port %s: %w", a.kind, a.network, a.router, a.host, a.port, err)
	}
	return nil
}

func (k actionKind) String() string {
	return [...]string{"unbind", "bind", "create port", "update port", "delete port", "unbind router", "bind router"}[k]
}

// Run campaigns for leadership and, while leading, reconciles on every
// change of what it reads, when a dead host's down time ends, and every
// Resync. It returns when ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	for ctx.Err() == nil {
		lead, resign, err := s.el.Campaign(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Log.Warn("scheduler: election failed", "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		s.setLeading(true)
		s.cfg.Log.Info("scheduler: leading")
		for lead.Err() == nil {
			s.lead(lead)
		}
		s.setLeading(false)
		resign()
	}
}

func (s *Scheduler) setLeading(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leading = v
	if v {
		s.deadSince = map[string]time.Time{}
	}
}

// watched are the prefixes whose changes can change the placement. Ports
// are followed through the network port index (its values are copies of
// the ports), filtered to DHCP ports, so the many port writes of tenants
// wake nobody.
var watched = []string{
	store.NetworksPrefix, store.SubnetsPrefix, store.NetworkPortsPrefix, store.AgentsPrefix,
	store.AgentAlivePrefix, store.AgentSettingsPrefix, store.DHCPBindingsPrefix,
	store.RoutersPrefix, store.L3BindingsPrefix,
}

// relevant filters the events that cannot change the placement: index
// keys of other ports than DHCP ports, and agent record rewrites that
// change neither the host set nor the host's roles.
func (s *Scheduler) relevant(ev store.Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch key := ev.KV.Key; {
	case strings.HasPrefix(key, store.NetworkPortsPrefix):
		if ev.Type == store.EventDelete {
			return s.dhcpIndex[key]
		}
		return store.PortIndexOwner(ev.KV.Value) == service.DeviceOwnerDHCP
	case strings.HasPrefix(key, store.AgentsPrefix) && ev.Type == store.EventPut:
		var a api.Agent
		if json.Unmarshal(ev.KV.Value, &a) != nil {
			return true
		}
		h, known := s.hosts[a.Host]
		return !known || h.dhcp != slices.Contains(api.RolesOf(&a), api.RoleDHCP) ||
			h.l3 != slices.Contains(api.RolesOf(&a), api.RoleL3)
	}
	return true
}

// lead runs passes until ctx ends or a watch breaks.
func (s *Scheduler) lead(ctx context.Context) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changed := make(chan struct{}, 1)
	broke := make(chan struct{}, len(watched))
	for _, p := range watched {
		ch := s.st.Watch(wctx, p, 0)
		go func() {
			for ev := range ch {
				if ev.Err != nil || s.relevant(ev) {
					select {
					case changed <- struct{}{}:
					default:
					}
				}
			}
			broke <- struct{}{}
		}()
	}
	tick := time.NewTicker(s.cfg.Tick)
	defer tick.Stop()
	for {
		if err := s.Reconcile(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Warn("scheduler: pass incomplete, retrying", "err", err)
			sleep(ctx, s.cfg.Tick)
			continue
		}
		resync := time.Now().Add(s.cfg.Resync)
		wake := time.NewTimer(s.untilWake())
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				wake.Stop()
				return
			case <-broke:
				wake.Stop()
				return
			case <-changed:
				sleep(ctx, s.cfg.Debounce)
				waiting = false
			case <-wake.C:
				waiting = false
			case <-tick.C:
				waiting = time.Now().Before(resync)
			}
		}
		wake.Stop()
	}
}

// untilWake is how long until the next down time ends (a day if none runs).
func (s *Scheduler) untilWake() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wake.IsZero() {
		return 24 * time.Hour
	}
	return max(0, s.wake.Sub(s.cfg.Now())) + 10*time.Millisecond
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
