// Package memstore is an in-memory store.Store for unit tests of other
// packages. It keeps etcd's semantics: one global revision bumped by every
// writing transaction, CreateRevision/ModRevision per key, conditions on
// ModRevision (0 = must not exist), watches that replay history from a
// revision, and leases that expire (deleting their keys) unless kept
// alive. History is kept until Compact is called.
package memstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/vland/vland/internal/store"
)

// errDuplicateKey mirrors etcd, which rejects a txn writing a key twice.
var errDuplicateKey = errors.New("memstore: duplicate key in txn")

// Store is the in-memory store. The zero value is not usable; call New.
type Store struct {
	mu        sync.Mutex
	rev       int64
	compacted int64 // revisions <= compacted are gone from history
	kvs       map[string]store.KV
	history   []store.Event // every change, in revision order
	changed   chan struct{} // closed and replaced on every write
	leases    map[int64]*lease
	nextLease int64
	closed    bool
}

var _ store.Store = (*Store)(nil)

// New returns an empty store at revision 1 (like a fresh etcd).
func New() *Store {
	return &Store{
		rev:       1,
		kvs:       map[string]store.KV{},
		changed:   make(chan struct{}),
		leases:    map[int64]*lease{},
		nextLease: 0x1000,
	}
}

// Get returns the key or store.ErrNotFound.
func (s *Store) Get(_ context.Context, key string) (store.KV, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kv, ok := s.kvs[key]
	if !ok {
		return store.KV{}, fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	return copyKV(kv), nil
}

// List returns the keys under prefix in key order and the current revision.
func (s *Store) List(_ context.Context, prefix string) ([]store.KV, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.KV
	for k, kv := range s.kvs {
		if strings.HasPrefix(k, prefix) {
			out = append(out, copyKV(kv))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, s.rev, nil
}

// ListKeys is List without values.
func (s *Store) ListKeys(ctx context.Context, prefix string) ([]string, int64, error) {
	kvs, rev, err := s.List(ctx, prefix)
	keys := make([]string, len(kvs))
	for i, kv := range kvs {
		keys[i] = kv.Key
	}
	return keys, rev, err
}

// Txn applies ops atomically if every cond holds, else store.ErrConflict.
func (s *Store) Txn(_ context.Context, conds []store.Cond, ops []store.Op) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOps(ops); err != nil {
		return 0, err
	}
	for _, c := range conds {
		if !s.holds(c) {
			return 0, store.ErrConflict
		}
	}
	var events []store.Event
	next := s.rev + 1
	for _, op := range ops {
		if ev, ok := s.apply(op, next); ok {
			events = append(events, ev)
		}
	}
	s.commit(events)
	return s.rev, nil
}

// holds evaluates one condition. Caller holds mu.
func (s *Store) holds(c store.Cond) bool {
	if !c.Prefix {
		return s.kvs[c.Key].ModRevision == c.ModRevision
	}
	for k, kv := range s.kvs {
		if strings.HasPrefix(k, c.Key) && kv.CreateRevision > c.NoneCreatedAfter {
			return false
		}
	}
	return true
}

// checkOps rejects what etcd rejects: duplicate keys and unknown leases.
func (s *Store) checkOps(ops []store.Op) error {
	seen := make(map[string]bool, len(ops))
	for _, op := range ops {
		if seen[op.Key] {
			return fmt.Errorf("%w: %s", errDuplicateKey, op.Key)
		}
		seen[op.Key] = true
		if !op.Delete && op.Lease != 0 && s.leases[op.Lease] == nil {
			return fmt.Errorf("%w: lease %x", store.ErrNotFound, op.Lease)
		}
	}
	return nil
}

// apply performs one op at revision rev; it reports whether anything
// changed (deleting a missing key does not).
func (s *Store) apply(op store.Op, rev int64) (store.Event, bool) {
	old, exists := s.kvs[op.Key]
	if l := s.leases[old.Lease]; exists && l != nil {
		delete(l.keys, op.Key)
	}
	if op.Delete {
		if !exists {
			return store.Event{}, false
		}
		delete(s.kvs, op.Key)
		return store.Event{Type: store.EventDelete, KV: store.KV{Key: op.Key, ModRevision: rev}}, true
	}
	kv := store.KV{Key: op.Key, Value: append([]byte(nil), op.Value...), CreateRevision: rev,
		ModRevision: rev, Lease: op.Lease}
	if exists {
		kv.CreateRevision = old.CreateRevision
	}
	if op.Lease != 0 {
		s.leases[op.Lease].keys[op.Key] = struct{}{}
	}
	s.kvs[op.Key] = kv
	return store.Event{Type: store.EventPut, KV: copyKV(kv)}, true
}

// commit records events as one new revision and wakes watchers. Caller
// holds mu.
func (s *Store) commit(events []store.Event) {
	if len(events) == 0 {
		return
	}
	s.rev++
	s.history = append(s.history, events...)
	close(s.changed)
	s.changed = make(chan struct{})
}

// Compact drops history up to and including rev; watches from a revision
// <= rev then fail with store.ErrCompacted.
func (s *Store) Compact(rev int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rev <= s.compacted {
		return
	}
	s.compacted = rev
	i := sort.Search(len(s.history), func(i int) bool { return s.history[i].KV.ModRevision > rev })
	s.history = append([]store.Event(nil), s.history[i:]...)
}

// Rev returns the current revision.
func (s *Store) Rev() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev
}

// Close stops lease timers. Further use is not supported.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, l := range s.leases {
		l.timer.Stop()
	}
	return nil
}

func copyKV(kv store.KV) store.KV {
	kv.Value = append([]byte(nil), kv.Value...)
	return kv
}
