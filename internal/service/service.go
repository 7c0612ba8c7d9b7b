// Package service is vland's Neutron API semantics, independent of HTTP:
// policy, request validation and the store transactions behind every
// create, update and delete. Every write is one optimistic transaction
// conditioned on the revisions it read, so any number of servers can share
// one store; reads come from a watch-fed cache that is synced to the
// store's current revision first.
//
// Addressing and segment rules are not here: internal/ipam validates
// subnets, addresses and MACs and chooses the lowest free address,
// internal/segment validates provider segments and chooses free ones. The
// service feeds those pure choices with what only it has: its cache of
// every allocation key (the used sets), its in-flight reservations (so
// concurrent requests of one server do not pick the same value), and the
// compare-and-create of each allocation key in the resource's own
// transaction (so requests on different servers cannot both win).
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/segment"
	"github.com/vland/vland/internal/store"
)

// maxAttempts bounds the optimistic retry loop of one write.
const maxAttempts = 64

// Config configures a Service.
type Config struct {
	// Segments are the ML2 type driver settings (tenant network types,
	// ranges, physnets, MTU); the zero value is segment.DefaultConfig().
	Segments segment.Config
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now defaults to time.Now (tests may pin it).
	Now func() time.Time
	// MaxFixedIPsPerPort bounds fixed_ips of one port (0: 100); more is a
	// 400, as Neutron's max_fixed_ips_per_port.
	MaxFixedIPsPerPort int
	// MaxTxnOps and MaxTxnBytes are the store's transaction limits (0:
	// 1,024 operations, the embedded etcd's setting, and 1 MiB). Big bulk
	// creates and deletes split into transactions of this size.
	MaxTxnOps   int
	MaxTxnBytes int
	// DefaultQuota is the quota of projects without their own (zero value:
	// Neutron's defaults, 100 networks, 100 subnets, 500 ports). A zero
	// Router or FloatingIP limit means Neutron's default (10, 50).
	DefaultQuota api.Quota
	// Fault, if set, is called at named points of multi-step writes;
	// returning an error stops the write there, as a crash would. Tests
	// use it to check start-up recovery.
	Fault func(point string) error
}

// withDefaults fills in the zero values.
func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxFixedIPsPerPort == 0 {
		c.MaxFixedIPsPerPort = 100
	}
	if c.MaxTxnOps == 0 {
		c.MaxTxnOps = defaultMaxTxnOps
	}
	if c.MaxTxnBytes == 0 {
		c.MaxTxnBytes = defaultMaxTxnBytes
	}
	if c.DefaultQuota == (api.Quota{}) {
		c.DefaultQuota = api.Quota{Network: 100, Subnet: 100, Port: 500}
	}
	if c.DefaultQuota.SecurityGroup == 0 && c.DefaultQuota.SecurityGroupRule == 0 {
		// Neutron's defaults; a config from before security groups sets neither.
		c.DefaultQuota.SecurityGroup, c.DefaultQuota.SecurityGroupRule = 10, 100
	}
	if c.DefaultQuota.Router == 0 {
		c.DefaultQuota.Router = 10
	}
	if c.DefaultQuota.FloatingIP == 0 {
		c.DefaultQuota.FloatingIP = 50
	}
	return c
}

// Service implements the API. It is safe for concurrent use.
type Service struct {
	st    store.Store
	cfg   Config
	segs  segment.Config
	log   *slog.Logger
	cache *cache
	res   *reservations
	// lastRev is the newest revision this server wrote: creates wait for
	// the cache to reach it, so this server's own writes are always seen.
	lastRev atomic.Int64
	stop    context.CancelFunc
	done    chan struct{}
	timers  []*time.Timer // bulk rollbacks scheduled by start-up recovery
}

// New loads the store into the cache and starts following it. Close stops
// it; the store stays open (the caller owns it).
func New(ctx context.Context, st store.Store, cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	segs := cfg.Segments.WithDefaults()
	if err := segs.Validate(); err != nil {
		return nil, err
	}
	s := &Service{st: st, cfg: cfg, segs: segs, log: cfg.Logger, res: newReservations(), done: make(chan struct{})}
	s.cache = newCache(st, cfg.Logger)
	rev, err := s.cache.load(ctx)
	if err != nil {
		return nil, fmt.Errorf("service: load store: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go func() {
		defer close(s.done)
		s.cache.run(runCtx, rev)
	}()
	s.recover(ctx)
	return s, nil
}

// Close stops following the store.
func (s *Service) Close() {
	for _, t := range s.timers {
		t.Stop()
	}
	s.stop()
	<-s.done
}

// txn runs a store transaction and remembers its revision.
func (s *Service) txn(ctx context.Context, conds []store.Cond, ops []store.Op) (int64, error) {
	if err := s.checkTxnSize(conds, ops); err != nil {
		return 0, err
	}
	rev, err := s.st.Txn(ctx, conds, ops)
	if err == nil {
		for cur := s.lastRev.Load(); rev > cur && !s.lastRev.CompareAndSwap(cur, rev); cur = s.lastRev.Load() {
		}
	}
	return rev, err
}

// catchUp waits until the cache holds every write of this server, before
// a create chooses values (lowest free address, segment) from it. Other
// servers' writes show up through the watch, and the transaction
// conditions catch whatever the cache has not seen yet.
func (s *Service) catchUp(ctx context.Context) { s.cache.waitFor(ctx, s.lastRev.Load()) }

// caller returns the request's identity or ErrUnauthenticated.
func caller(ctx context.Context) (identity.Identity, error) {
	id, ok := identity.FromContext(ctx)
	if !ok {
		return id, fault.New(ErrUnauthenticated, "Authentication required")
	}
	return id, nil
}

// syncedCaller returns the request's identity once the cache is at least
// as new as the store (so reads and updates see every committed write).
func (s *Service) syncedCaller(ctx context.Context) (identity.Identity, error) {
	who, err := caller(ctx)
	if err != nil {
		return who, err
	}
	return who, s.cache.sync(ctx)
}

// timestamp is Neutron's time format for created_at/updated_at.
func (s *Service) timestamp() string {
	return s.cfg.Now().UTC().Format("2006-01-02T15:04:05Z")
}

func newID() string { return uuid.NewString() }

// retry runs one optimistic attempt until it stops failing with
// store.ErrConflict. After a conflict the cache is synced to the store, so
// the next attempt sees whatever won the race (a taken IP, a newer
// revision) and chooses again or reports the conflict precisely.
func (s *Service) retry(ctx context.Context, attempt func() error) error {
	for i := 0; i < maxAttempts; i++ {
		err := attempt()
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		if err := s.cache.sync(ctx); err != nil {
			return fmt.Errorf("service: sync after conflict: %w", err)
		}
		if i > 8 {
			time.Sleep(time.Duration(i) * time.Millisecond)
		}
	}
	return fault.New(ErrBusy, "Request could not be completed because of concurrent updates; retry.")
}

// checkRevision implements If-Match: revision_number=N (N < 0: none).
func checkRevision(want, have int64) error {
	if want >= 0 && want != have {
		return fault.New(ErrRevisionMismatch, "Constrained to %d, but current revision is %d", want, have)
	}
	return nil
}

// reservations are values (IPs, MACs, segments) that an in-flight create
// of this server has chosen but not yet committed; other requests of this
// server skip them so concurrent creates rarely collide in the store.
type reservations struct {
	mu  sync.Mutex
	set map[string]struct{}
}

func newReservations() *reservations { return &reservations{set: map[string]struct{}{}} }

// take reserves key; false if it is already reserved.
func (r *reservations) take(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.set[key]; ok {
		return false
	}
	r.set[key] = struct{}{}
	return true
}

func (r *reservations) release(keys ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		delete(r.set, k)
	}
}
