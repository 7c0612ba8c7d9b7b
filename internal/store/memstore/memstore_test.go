package memstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
	"github.com/vland/vland/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		st := memstore.New()
		t.Cleanup(func() { _ = st.Close() })
		return st
	})
}

func TestWatchCompacted(t *testing.T) {
	t.Parallel()
	st := memstore.New()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var revs []int64
	for _, k := range []string{"/a", "/b", "/c"} {
		rev, err := st.Txn(ctx, nil, []store.Op{{Key: k, Value: []byte("v")}})
		require.NoError(t, err)
		revs = append(revs, rev)
	}
	st.Compact(revs[1])
	ch := st.Watch(ctx, "/", revs[0])
	ev, ok := <-ch
	require.True(t, ok)
	require.ErrorIs(t, ev.Err, store.ErrCompacted)
	_, ok = <-ch
	require.False(t, ok, "channel must close after the error")
	// After the compaction point history is still there.
	ev = <-st.Watch(ctx, "/", revs[2])
	require.NoError(t, ev.Err)
	require.Equal(t, "/c", ev.KV.Key)
}
