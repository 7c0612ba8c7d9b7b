package keystone

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/vland/vland/internal/store"
)

// fakeStore is the part of store.Store the keystone package uses (Get, List,
// Txn), in memory; the rest is unused here.
type fakeStore struct {
	store.Store // nil: calling anything else panics the test
	mu          sync.Mutex
	rev         int64
	kvs         map[string]store.KV
	txns        int
}

func newFakeStore() *fakeStore { return &fakeStore{kvs: map[string]store.KV{}} }

func (f *fakeStore) Get(_ context.Context, key string) (store.KV, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	kv, ok := f.kvs[key]
	if !ok {
		return store.KV{}, store.ErrNotFound
	}
	return kv, nil
}

func (f *fakeStore) List(_ context.Context, prefix string) ([]store.KV, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.KV
	for k, kv := range f.kvs {
		if strings.HasPrefix(k, prefix) {
			out = append(out, kv)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, f.rev, nil
}

func (f *fakeStore) Txn(_ context.Context, conds []store.Cond, ops []store.Op) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.txns++
	for _, c := range conds {
		if f.kvs[c.Key].ModRevision != c.ModRevision {
			return 0, store.ErrConflict
		}
	}
	f.rev++
	for _, op := range ops {
		if op.Delete {
			delete(f.kvs, op.Key)
			continue
		}
		kv := f.kvs[op.Key]
		if kv.CreateRevision == 0 {
			kv.CreateRevision = f.rev
		}
		kv.Key, kv.Value, kv.ModRevision = op.Key, append([]byte(nil), op.Value...), f.rev
		f.kvs[op.Key] = kv
	}
	return f.rev, nil
}

func (f *fakeStore) Close() error { return nil }
