package l3

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vland/vland/internal/agent"
	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/reconcile"
	"github.com/vland/vland/internal/serviceport"
)

// NSPrefix starts the name of every namespace this service makes.
const NSPrefix = "qrouter-"

// Config is the router service of one host.
type Config struct {
	Host string
	// NetnsDir holds the qrouter- namespaces (default /run/netns).
	NetnsDir string
	// OVSNetNS is the namespace Open vSwitch's ports live in ("" = the
	// agent's own); OVSDB the endpoint for ovs-vsctl; Bridge br-int.
	OVSNetNS string
	OVSDB    string
	Bridge   string
	// RouterNamespaceUp, if set, is called after a router's namespace is
	// (re)built, RouterNamespaceDown before it goes: the metadata proxy
	// listens on MetadataPort in it.
	RouterNamespaceUp   func(ctx context.Context, routerID, nsPath string)
	RouterNamespaceDown func(routerID string)
	Log                 *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.NetnsDir == "" {
		c.NetnsDir = netns.Dir
	}
	if c.Bridge == "" {
		c.Bridge = "br-int"
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Service realises the routers bound to this host. It implements
// agent.Service.
type Service struct {
	cfg    Config
	log    *slog.Logger
	bridge serviceport.Bridge

	mu    sync.Mutex
	last  map[string]Router // applied, by router id
	known map[string]bool   // routers this run touched (applied or not)
	swept bool

	desired *reconcile.Latest[map[string]Router]
}

// New returns the router service of a host.
func New(cfg Config) *Service {
	cfg = cfg.withDefaults()
	log := cfg.Log.With("service", "l3")
	return &Service{cfg: cfg, log: log,
		bridge: serviceport.Bridge{Name: cfg.Bridge, NetNS: cfg.OVSNetNS, OVSDB: cfg.OVSDB}, last: map[string]Router{},
		known: map[string]bool{}, desired: reconcile.NewLatest[map[string]Router](log)}
}

var _ agent.Service = (*Service)(nil)

// Name implements agent.Service.
func (s *Service) Name() string { return "l3" }

// Sync implements agent.Service: it computes the routers of this host and
// hands them to Run.
func (s *Service) Sync(_ context.Context, snap agent.Snapshot) error {
	d := Compute(s.cfg.Host, snap)
	s.log.Debug("sync", "routers", len(snap.Routers), "bindings", len(snap.L3Bindings), "here", len(d))
	s.desired.Offer(d)
	return nil
}

// Run implements agent.Service: it applies what Sync computed, retrying
// failures with a growing pause (0.2 to 10 s), until ctx ends.
func (s *Service) Run(ctx context.Context) { s.desired.Run(ctx, s.Set) }

// Set makes the host realise exactly the desired routers, touching only
// routers (and within them, only parts) that changed since the last Set.
func (s *Service) Set(ctx context.Context, desired map[string]Router) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if !s.swept {
		errs = append(errs, s.sweep(ctx, desired))
		s.swept = true
	}
	for id := range s.known {
		if _, ok := desired[id]; !ok {
			if err := s.remove(ctx, id); err != nil {
				errs = append(errs, err)
				continue
			}
			delete(s.known, id)
			delete(s.last, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(desired)) {
		r := desired[id]
		old, had := s.last[id]
		if had && reflect.DeepEqual(old, r) {
			continue
		}
		s.known[id] = true
		start := time.Now()
		if err := s.apply(ctx, r, old, had); err != nil {
			errs = append(errs, fmt.Errorf("l3: router %s: %w", id, err))
			delete(s.last, id)
			continue
		}
		s.last[id] = r
		s.log.Info("applied router", "router", id, "interfaces", len(r.Interfaces), "gateway", r.Gateway != nil,
			"fips", len(r.NAT.FIPs), "forwards", len(r.NAT.Forwards), "duration_s", time.Since(start).Seconds())
	}
	return errors.Join(errs...)
}

// Routers lists the routers currently applied (tests, status).
func (s *Service) Routers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.last))
}

// NSPath is the path of a router's namespace.
func (s *Service) NSPath(id string) string { return filepath.Join(s.cfg.NetnsDir, NSPrefix+id) }

// sweep removes routers an earlier run realised that are not desired:
// their namespaces and their NICs' OVS ports.
func (s *Service) sweep(ctx context.Context, desired map[string]Router) error {
	var errs []error
	nss, err := netns.ListAt(s.cfg.NetnsDir, NSPrefix)
	errs = append(errs, err)
	gone := map[string]bool{}
	for _, ns := range nss {
		gone[strings.TrimPrefix(ns, NSPrefix)] = true
	}
	owners, err := s.bridge.Owners(ctx, ownerKey)
	errs = append(errs, err)
	for _, r := range owners {
		gone[r] = true
	}
	for id := range gone {
		if _, ok := desired[id]; !ok {
			errs = append(errs, s.remove(ctx, id))
		}
	}
	return errors.Join(errs...)
}
