// Package storetest is the conformance suite every store.Store must pass,
// plus shared fixtures for other packages' tests:
//
//	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
//	st := storetest.NewEtcd(t)      // real embedded etcd in t.TempDir(), closed by t.Cleanup
//	e := storetest.NewEmbedded(t)   // the node itself, when a test needs its endpoints
//
// Run creates one store and gives every subtest its own key prefix, so it
// also checks that prefixes isolate (List/Watch never leak other keys).
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/store"
)

// timeout bounds every single store call and wait in the suite.
const timeout = 10 * time.Second

// Run runs the conformance suite against the store newStore returns.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	st := newStore(t)
	tests := []struct {
		name string
		fn   func(t *testing.T, st store.Store, p string)
	}{
		{"GetMissing", testGetMissing},
		{"CreateGet", testCreateGet},
		{"CreateTwiceConflicts", testCreateTwice},
		{"UpdateByModRevision", testUpdate},
		{"Delete", testDelete},
		{"ListSortedByPrefix", testList},
		{"TxnAtomic", testTxnAtomic},
		{"TxnPrefixCond", testTxnPrefixCond},
		{"WatchFromRevision", testWatchFromRevision},
		{"WatchLastOfRev", testWatchLastOfRev},
		{"WatchFromNow", testWatchFromNow},
		{"WatchDelete", testWatchDelete},
		{"WatchClosesOnCancel", testWatchCancel},
		{"WatchReplayMany", testWatchReplayMany},
		{"LeaseUnknown", testLeaseUnknown},
		{"LeaseRevoke", testLeaseRevoke},
		{"LeaseExpiry", testLeaseExpiry},
		{"LeaseKeepAlive", testLeaseKeepAlive},
		{"LeaseDetachOnOverwrite", testLeaseDetach},
		{"ConcurrentCreate", testConcurrentCreate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Subtests own disjoint prefixes, so they may share the store
			// concurrently (and the slow lease tests overlap).
			t.Parallel()
			tc.fn(t, st, "/storetest/"+tc.name+"/")
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// create puts key=value if it does not exist and returns the revision.
func create(t *testing.T, st store.Store, key, value string) int64 {
	t.Helper()
	rev, err := st.Txn(ctxT(t), []store.Cond{{Key: key}}, []store.Op{{Key: key, Value: []byte(value)}})
	require.NoError(t, err, "create %s", key)
	return rev
}

func testGetMissing(t *testing.T, st store.Store, p string) {
	_, err := st.Get(ctxT(t), p+"nope")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testCreateGet(t *testing.T, st store.Store, p string) {
	rev := create(t, st, p+"a", "va")
	require.Positive(t, rev)
	kv, err := st.Get(ctxT(t), p+"a")
	require.NoError(t, err)
	require.Equal(t, store.KV{Key: p + "a", Value: []byte("va"), CreateRevision: rev, ModRevision: rev}, kv)
}

func testCreateTwice(t *testing.T, st store.Store, p string) {
	create(t, st, p+"a", "one")
	_, err := st.Txn(ctxT(t), []store.Cond{{Key: p + "a"}}, []store.Op{{Key: p + "a", Value: []byte("two")}})
	require.ErrorIs(t, err, store.ErrConflict)
	kv, err := st.Get(ctxT(t), p+"a")
	require.NoError(t, err)
	require.Equal(t, "one", string(kv.Value))
}

func testUpdate(t *testing.T, st store.Store, p string) {
	created := create(t, st, p+"a", "v1")
	rev2, err := st.Txn(ctxT(t), []store.Cond{{Key: p + "a", ModRevision: created}},
		[]store.Op{{Key: p + "a", Value: []byte("v2")}})
	require.NoError(t, err)
	require.Greater(t, rev2, created)
	// The first revision is stale now.
	_, err = st.Txn(ctxT(t), []store.Cond{{Key: p + "a", ModRevision: created}},
		[]store.Op{{Key: p + "a", Value: []byte("v3")}})
	require.ErrorIs(t, err, store.ErrConflict)
	kv, err := st.Get(ctxT(t), p+"a")
	require.NoError(t, err)
	require.Equal(t, "v2", string(kv.Value))
	require.Equal(t, created, kv.CreateRevision)
	require.Equal(t, rev2, kv.ModRevision)
}

func testDelete(t *testing.T, st store.Store, p string) {
	rev := create(t, st, p+"a", "v")
	_, err := st.Txn(ctxT(t), []store.Cond{{Key: p + "a", ModRevision: rev}}, []store.Op{{Key: p + "a", Delete: true}})
	require.NoError(t, err)
	_, err = st.Get(ctxT(t), p+"a")
	require.ErrorIs(t, err, store.ErrNotFound)
	// Deleting with a stale revision conflicts; the key may be recreated.
	_, err = st.Txn(ctxT(t), []store.Cond{{Key: p + "a", ModRevision: rev}}, []store.Op{{Key: p + "a", Delete: true}})
	require.ErrorIs(t, err, store.ErrConflict)
	create(t, st, p+"a", "again")
}

func testList(t *testing.T, st store.Store, p string) {
	for _, k := range []string{"c", "a", "b/x", "b"} {
		create(t, st, p+"in/"+k, "v"+k)
	}
	last := create(t, st, p+"inx", "outside the prefix")
	kvs, rev, err := st.List(ctxT(t), p+"in/")
	require.NoError(t, err)
	require.GreaterOrEqual(t, rev, last)
	var keys []string
	for _, kv := range kvs {
		keys = append(keys, kv.Key)
		require.Equal(t, "v"+kv.Key[len(p+"in/"):], string(kv.Value))
	}
	want := []string{p + "in/a", p + "in/b", p + "in/b/x", p + "in/c"}
	require.Equal(t, want, keys)
	onlyKeys, rev2, err := st.ListKeys(ctxT(t), p+"in/")
	require.NoError(t, err)
	require.Equal(t, want, onlyKeys)
	require.GreaterOrEqual(t, rev2, rev)
	empty, _, err := st.List(ctxT(t), p+"none/")
	require.NoError(t, err)
	require.Empty(t, empty)
}

func testTxnAtomic(t *testing.T, st store.Store, p string) {
	create(t, st, p+"exists", "v")
	// One failing cond: none of the ops may apply.
	_, err := st.Txn(ctxT(t),
		[]store.Cond{{Key: p + "new"}, {Key: p + "exists"}},
		[]store.Op{{Key: p + "new", Value: []byte("x")}, {Key: p + "exists", Delete: true}})
	require.ErrorIs(t, err, store.ErrConflict)
	_, err = st.Get(ctxT(t), p+"new")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.Get(ctxT(t), p+"exists")
	require.NoError(t, err)
	// All conds hold: every op applies at one revision.
	rev, err := st.Txn(ctxT(t), []store.Cond{{Key: p + "n1"}, {Key: p + "n2"}},
		[]store.Op{{Key: p + "n1", Value: []byte("1")}, {Key: p + "n2", Value: []byte("2")}})
	require.NoError(t, err)
	for _, k := range []string{"n1", "n2"} {
		kv, err := st.Get(ctxT(t), p+k)
		require.NoError(t, err)
		require.Equal(t, rev, kv.ModRevision)
	}
}

// testTxnPrefixCond checks conditions on a key range: "no key under the
// prefix" and "no key under the prefix created after a revision".
func testTxnPrefixCond(t *testing.T, st store.Store, p string) {
	mark := func(k string) store.Op { return store.Op{Key: p + k, Value: []byte("x")} }
	_, err := st.Txn(ctxT(t), []store.Cond{store.NoKeysUnder(p + "ports/")}, []store.Op{mark("done1")})
	require.NoError(t, err, "an empty range holds")
	create(t, st, p+"portsx", "a sibling outside the prefix")
	_, err = st.Txn(ctxT(t), []store.Cond{store.NoKeysUnder(p + "ports/")}, []store.Op{mark("done2")})
	require.NoError(t, err, "a key beside the prefix does not count")
	first := create(t, st, p+"ports/a", "v")
	_, err = st.Txn(ctxT(t), []store.Cond{store.NoKeysUnder(p + "ports/")}, []store.Op{mark("fail1")})
	require.ErrorIs(t, err, store.ErrConflict)
	_, err = st.Get(ctxT(t), p+"fail1")
	require.ErrorIs(t, err, store.ErrNotFound, "a failed range cond applies nothing")
	// Created at or before the revision: holds; updating a key keeps its
	// create revision; a later create breaks it.
	_, err = st.Txn(ctxT(t), []store.Cond{store.NoKeysCreatedUnder(p+"ports/", first)}, []store.Op{mark("done3")})
	require.NoError(t, err)
	_, err = st.Txn(ctxT(t), nil, []store.Op{{Key: p + "ports/a", Value: []byte("v2")}})
	require.NoError(t, err)
	_, err = st.Txn(ctxT(t), []store.Cond{store.NoKeysCreatedUnder(p+"ports/", first)}, []store.Op{mark("done4")})
	require.NoError(t, err, "an update is not a create")
	create(t, st, p+"ports/b", "v")
	_, err = st.Txn(ctxT(t), []store.Cond{store.NoKeysCreatedUnder(p+"ports/", first)}, []store.Op{mark("fail2")})
	require.ErrorIs(t, err, store.ErrConflict)
	_, err = st.Txn(ctxT(t), []store.Cond{store.NoKeysCreatedUnder(p+"ports/", first), {Key: p + "done1"}},
		[]store.Op{mark("fail3")})
	require.ErrorIs(t, err, store.ErrConflict)
}
