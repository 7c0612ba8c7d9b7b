package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/store"
)

func testLeaseUnknown(t *testing.T, st store.Store, p string) {
	_, err := st.Txn(ctxT(t), nil, []store.Op{{Key: p + "a", Value: []byte("x"), Lease: 0x7eadbeef}})
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, st.Revoke(ctxT(t), 0x7eadbeef), store.ErrNotFound)
}

func testLeaseRevoke(t *testing.T, st store.Store, p string) {
	lease, err := st.Grant(ctxT(t), time.Minute)
	require.NoError(t, err)
	rev, err := st.Txn(ctxT(t), nil, []store.Op{{Key: p + "a", Value: []byte("x"), Lease: lease}})
	require.NoError(t, err)
	kv, err := st.Get(ctxT(t), p+"a")
	require.NoError(t, err)
	require.Equal(t, lease, kv.Lease)
	ch := st.Watch(ctxT(t), p, rev+1)
	require.NoError(t, st.Revoke(ctxT(t), lease))
	_, err = st.Get(ctxT(t), p+"a")
	require.ErrorIs(t, err, store.ErrNotFound)
	ev := next(t, ch)
	require.Equal(t, store.EventDelete, ev.Type)
	require.Equal(t, p+"a", ev.KV.Key)
	// A revoked lease cannot be kept alive.
	require.Error(t, st.KeepAlive(ctxT(t), lease))
}

func testLeaseExpiry(t *testing.T, st store.Store, p string) {
	lease, err := st.Grant(ctxT(t), time.Second)
	require.NoError(t, err)
	_, err = st.Txn(ctxT(t), nil, []store.Op{{Key: p + "a", Value: []byte("x"), Lease: lease}})
	require.NoError(t, err)
	start := time.Now()
	require.Eventually(t, func() bool {
		_, err := st.Get(context.Background(), p+"a")
		return errors.Is(err, store.ErrNotFound)
	}, timeout, 50*time.Millisecond, "leased key never expired")
	require.GreaterOrEqual(t, time.Since(start), 500*time.Millisecond, "expired far too early")
}

func testLeaseKeepAlive(t *testing.T, st store.Store, p string) {
	lease, err := st.Grant(ctxT(t), time.Second)
	require.NoError(t, err)
	_, err = st.Txn(ctxT(t), nil, []store.Op{{Key: p + "a", Value: []byte("x"), Lease: lease}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.KeepAlive(ctx, lease) }()
	// Well past any TTL the store may round 1s up to (etcd: about 2s).
	time.Sleep(3500 * time.Millisecond)
	_, err = st.Get(ctxT(t), p+"a")
	require.NoError(t, err, "kept-alive key expired")
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "KeepAlive must return nil when its context ends")
	case <-time.After(timeout):
		t.Fatal("KeepAlive did not return after cancel")
	}
	require.NoError(t, st.Revoke(ctxT(t), lease))
}

// testLeaseDetach: a put without lease detaches the key from its old
// lease, so revoking that lease leaves the key alone.
func testLeaseDetach(t *testing.T, st store.Store, p string) {
	lease, err := st.Grant(ctxT(t), time.Minute)
	require.NoError(t, err)
	_, err = st.Txn(ctxT(t), nil, []store.Op{{Key: p + "a", Value: []byte("leased"), Lease: lease},
		{Key: p + "b", Value: []byte("leased"), Lease: lease}})
	require.NoError(t, err)
	_, err = st.Txn(ctxT(t), nil, []store.Op{{Key: p + "a", Value: []byte("plain")}})
	require.NoError(t, err)
	require.NoError(t, st.Revoke(ctxT(t), lease))
	kv, err := st.Get(ctxT(t), p+"a")
	require.NoError(t, err)
	require.Equal(t, "plain", string(kv.Value))
	require.Zero(t, kv.Lease)
	_, err = st.Get(ctxT(t), p+"b")
	require.ErrorIs(t, err, store.ErrNotFound)
}
