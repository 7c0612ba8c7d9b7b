package memstore

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/vland/vland/internal/store"
)

// lease is one granted lease. Its timer fires at deadline unless refreshed.
type lease struct {
	ttl      time.Duration
	deadline time.Time
	timer    *time.Timer
	keys     map[string]struct{}
}

// Grant creates a lease that expires after ttl unless kept alive.
func (s *Store) Grant(_ context.Context, ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, fmt.Errorf("memstore: lease ttl %s must be positive", ttl)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextLease++
	id := s.nextLease
	l := &lease{ttl: ttl, deadline: time.Now().Add(ttl), keys: map[string]struct{}{}}
	l.timer = time.AfterFunc(ttl, func() { s.expire(id) })
	s.leases[id] = l
	return id, nil
}

// expire revokes the lease if its deadline passed (a refresh may have
// raced with the timer, which then re-arms).
func (s *Store) expire(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.leases[id]
	if l == nil || s.closed {
		return
	}
	if left := time.Until(l.deadline); left > 0 {
		l.timer.Reset(left)
		return
	}
	s.revokeLocked(id)
}

// KeepAlive refreshes the lease every ttl/3 until ctx ends (nil) or the
// lease is gone (error).
func (s *Store) KeepAlive(ctx context.Context, id int64) error {
	for {
		ttl, ok := s.refresh(id)
		if !ok {
			return fmt.Errorf("memstore: lease %x lost: %w", id, store.ErrNotFound)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(ttl / 3):
		}
	}
}

// refresh pushes the lease's deadline out by its TTL.
func (s *Store) refresh(id int64) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.leases[id]
	if l == nil {
		return 0, false
	}
	l.deadline = time.Now().Add(l.ttl)
	return l.ttl, true
}

// Revoke ends the lease now, deleting its keys in one revision. Unknown
// leases give store.ErrNotFound.
func (s *Store) Revoke(_ context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leases[id] == nil {
		return fmt.Errorf("%w: lease %x", store.ErrNotFound, id)
	}
	s.revokeLocked(id)
	return nil
}

// revokeLocked deletes the lease and its keys. Caller holds mu.
func (s *Store) revokeLocked(id int64) {
	l := s.leases[id]
	l.timer.Stop()
	delete(s.leases, id)
	var events []store.Event
	for key := range l.keys {
		delete(s.kvs, key)
		events = append(events, store.Event{Type: store.EventDelete, KV: store.KV{Key: key, ModRevision: s.rev + 1}})
	}
	sort.Slice(events, func(i, j int) bool { return events[i].KV.Key < events[j].KV.Key })
	s.commit(events)
}
