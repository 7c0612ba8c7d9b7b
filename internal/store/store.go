// Package store is vland's narrow interface to its state store (etcd in
// production, an in-memory fake in unit tests). Every write is a
// transaction guarded by revisions, so allocations (an IP, a MAC, a VNI) are
// compare-and-create operations and concurrent servers can never hand out
// the same thing twice. All key prefixes are defined in keys.go.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors; wrap them with %w.
var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("store: key not found")
	// ErrConflict: a transaction's conditions did not hold (someone else
	// wrote first). Callers re-read and retry, or report 409.
	ErrConflict = errors.New("store: conflict")
	// ErrCompacted: a watch asked for a revision that was compacted away;
	// the caller must List again and watch from the new revision.
	ErrCompacted = errors.New("store: revision compacted")
)

// KV is one key with its value and revisions.
type KV struct {
	Key            string
	Value          []byte
	CreateRevision int64
	ModRevision    int64
	Lease          int64
}

// Cond is one precondition of a transaction: the key's ModRevision must
// equal ModRevision. ModRevision 0 means "the key must not exist".
//
// With Prefix set, Key is a prefix and the condition is on the range of
// keys under it: no key under the prefix was created after
// NoneCreatedAfter (0: no key exists under the prefix at all). That makes
// "the network has no ports" or "nothing was allocated on the subnet since
// I listed it" part of a transaction (etcd compares on a key range).
type Cond struct {
	Key              string
	ModRevision      int64
	Prefix           bool
	NoneCreatedAfter int64
}

// NoKeysUnder is the condition "no key exists under prefix".
func NoKeysUnder(prefix string) Cond { return Cond{Key: prefix, Prefix: true} }

// NoKeysCreatedUnder is the condition "no key under prefix was created
// after rev" (typically the revision a List of the prefix returned).
func NoKeysCreatedUnder(prefix string, rev int64) Cond {
	return Cond{Key: prefix, Prefix: true, NoneCreatedAfter: rev}
}

// Op is one write of a transaction: Put Value at Key (attached to Lease if
// non-zero), or Delete Key when Delete is set.
type Op struct {
	Key    string
	Value  []byte
	Delete bool
	Lease  int64
}

// EventType says what happened to a key.
type EventType int

const (
	EventPut EventType = iota
	EventDelete
)

// Event is one change seen by a watch. For EventDelete, KV.Value is empty
// and KV.ModRevision is the revision of the delete.
type Event struct {
	Type EventType
	KV   KV
	// Err is set (and the channel then closed) when the watch broke, e.g.
	// ErrCompacted.
	Err error
	// LastOfRev marks the last event of its revision that the watch
	// delivers: a reader that has applied it has seen the whole
	// transaction, never half of it.
	LastOfRev bool
}

// Store is vland's state store. Implementations are safe for concurrent use.
type Store interface {
	// Get returns the key or ErrNotFound.
	Get(ctx context.Context, key string) (KV, error)
	// List returns every key under prefix, sorted by key, and the store
	// revision the listing was taken at (watch from rev+1 to follow it).
	List(ctx context.Context, prefix string) ([]KV, int64, error)
	// ListKeys is List without values (cheaper for allocation scans).
	ListKeys(ctx context.Context, prefix string) ([]string, int64, error)
	// Txn applies ops atomically if every cond holds, else returns
	// ErrConflict and changes nothing. It returns the new store revision.
	Txn(ctx context.Context, conds []Cond, ops []Op) (int64, error)
	// Watch sends every change under prefix from revision fromRev on (0:
	// from now) until ctx ends; the channel is then closed.
	Watch(ctx context.Context, prefix string, fromRev int64) <-chan Event
	// Grant creates a lease that expires after ttl unless kept alive.
	Grant(ctx context.Context, ttl time.Duration) (int64, error)
	// KeepAlive keeps the lease alive until ctx ends (then it returns nil)
	// or the lease is lost (then it returns an error).
	KeepAlive(ctx context.Context, lease int64) error
	// Revoke ends a lease now, deleting its keys.
	Revoke(ctx context.Context, lease int64) error
	// Close releases the store's connections.
	Close() error
}
