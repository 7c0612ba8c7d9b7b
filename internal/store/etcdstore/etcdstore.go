// Package etcdstore implements store.Store on an etcd v3 cluster
// (go.etcd.io/etcd/client/v3), and runs an embedded single-node etcd for
// the default deployment (see StartEmbedded).
//
// Mapping of the store contract onto etcd:
//   - Cond{ModRevision: 0} compares CreateRevision == 0 ("key must not
//     exist"); any other value compares ModRevision. A Prefix cond compares
//     CreateRevision < NoneCreatedAfter+1 on the whole key range.
//   - List/ListKeys are prefix ranges; etcd returns them sorted by key.
//   - Watch uses WithRev + WithPrefix; a compacted start revision becomes
//     one Event{Err: store.ErrCompacted} and the channel is closed.
//   - Leases map 1:1 onto etcd leases (TTL rounded up to whole seconds; etcd
//     also enforces its own minimum TTL, about 2 s with default timing).
//
// StartEmbedded runs a single node inside the process: fsync on, periodic
// auto-compaction keeping 1 h of history, a 2 GiB quota, up to 1024 ops per
// transaction, logs discarded, free 127.0.0.1 ports picked (and retried)
// when no URL is given, and etcd auth always on with vland's roles
// (store/grants.go, applied by Provision and ProvisionAgent). Connect logs in
// with a ClientConfig (user, password, TLS). Tests get a node with
// storetest.NewEtcd(t).
package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vland/vland/internal/store"
)

// dialTimeout bounds the first connection to the cluster.
const dialTimeout = 5 * time.Second

// Store is a store.Store backed by etcd. Safe for concurrent use.
type Store struct {
	cli   *clientv3.Client
	login login
}

var _ store.Store = (*Store)(nil)

// New connects to the etcd cluster at endpoints (e.g.
// "http://127.0.0.1:2379") without credentials, which only works on a
// cluster without auth. See Connect.
func New(endpoints []string) (*Store, error) {
	return Connect(ClientConfig{Endpoints: endpoints})
}

// Connect connects to the etcd cluster as cfg says (user, TLS). The
// client's own logs are discarded; errors are returned instead.
func Connect(cfg ClientConfig) (*Store, error) {
	cli, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Store{cli: cli}, nil
}

// Client exposes the underlying etcd client (for maintenance such as
// compaction in tests). Do not write vland keys through it.
func (s *Store) Client() *clientv3.Client { return s.cli }

// Close closes the client connection.
func (s *Store) Close() error { return s.cli.Close() }

// Get returns the key or store.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (store.KV, error) {
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return store.KV{}, fmt.Errorf("etcdstore: get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return store.KV{}, fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	kv := resp.Kvs[0]
	return store.KV{Key: string(kv.Key), Value: kv.Value, CreateRevision: kv.CreateRevision,
		ModRevision: kv.ModRevision, Lease: kv.Lease}, nil
}

// List returns every key under prefix in key order and the revision of
// the read.
func (s *Store) List(ctx context.Context, prefix string) ([]store.KV, int64, error) {
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("etcdstore: list %s: %w", prefix, err)
	}
	out := make([]store.KV, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out = append(out, store.KV{Key: string(kv.Key), Value: kv.Value, CreateRevision: kv.CreateRevision,
			ModRevision: kv.ModRevision, Lease: kv.Lease})
	}
	return out, resp.Header.Revision, nil
}

// ListKeys returns the keys under prefix in key order, without values.
func (s *Store) ListKeys(ctx context.Context, prefix string) ([]string, int64, error) {
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, 0, fmt.Errorf("etcdstore: list keys %s: %w", prefix, err)
	}
	out := make([]string, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out = append(out, string(kv.Key))
	}
	return out, resp.Header.Revision, nil
}

// Txn applies ops atomically if every cond holds, else store.ErrConflict.
// A Put on a lease that does not exist fails with store.ErrNotFound.
func (s *Store) Txn(ctx context.Context, conds []store.Cond, ops []store.Op) (int64, error) {
	cmps := make([]clientv3.Cmp, 0, len(conds))
	for _, c := range conds {
		if c.Prefix {
			// Every key in the range must hold; an empty range holds.
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(c.Key), "<", c.NoneCreatedAfter+1).WithPrefix())
			continue
		}
		if c.ModRevision == 0 {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(c.Key), "=", 0))
		} else {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(c.Key), "=", c.ModRevision))
		}
	}
	thens := make([]clientv3.Op, 0, len(ops))
	for _, op := range ops {
		switch {
		case op.Delete:
			thens = append(thens, clientv3.OpDelete(op.Key))
		case op.Lease != 0:
			thens = append(thens, clientv3.OpPut(op.Key, string(op.Value), clientv3.WithLease(clientv3.LeaseID(op.Lease))))
		default:
			thens = append(thens, clientv3.OpPut(op.Key, string(op.Value)))
		}
	}
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(thens...).Commit()
	if err != nil {
		return 0, fmt.Errorf("etcdstore: txn: %w", mapErr(err))
	}
	if !resp.Succeeded {
		return 0, store.ErrConflict
	}
	return resp.Header.Revision, nil
}

// Grant creates a lease of at least ttl (rounded up to whole seconds).
func (s *Store) Grant(ctx context.Context, ttl time.Duration) (int64, error) {
	secs := int64(math.Ceil(ttl.Seconds()))
	if secs < 1 {
		secs = 1
	}
	resp, err := s.cli.Grant(ctx, secs)
	if err != nil {
		return 0, fmt.Errorf("etcdstore: grant: %w", err)
	}
	return int64(resp.ID), nil
}

// KeepAlive refreshes the lease until ctx ends (returns nil) or the lease
// is lost: expired, revoked, or unreachable for longer than its TTL.
func (s *Store) KeepAlive(ctx context.Context, lease int64) error {
	ch, err := s.cli.KeepAlive(ctx, clientv3.LeaseID(lease))
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("etcdstore: keepalive %x: %w", lease, mapErr(err))
	}
	for range ch { //nolint:revive // drain responses; the channel closes when the lease ends
	}
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("etcdstore: lease %x lost", lease)
}

// Revoke ends the lease now and deletes its keys. Revoking an unknown
// (already expired) lease returns store.ErrNotFound.
func (s *Store) Revoke(ctx context.Context, lease int64) error {
	if _, err := s.cli.Revoke(ctx, clientv3.LeaseID(lease)); err != nil {
		return fmt.Errorf("etcdstore: revoke %x: %w", lease, mapErr(err))
	}
	return nil
}

// mapErr turns etcd's lease-not-found into store.ErrNotFound.
func mapErr(err error) error {
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return fmt.Errorf("%w: lease: %w", store.ErrNotFound, err)
	}
	return err
}
