package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/store"
)

// next receives one event or fails the test.
func next(t *testing.T, ch <-chan store.Event) store.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		require.True(t, ok, "watch closed early")
		require.NoError(t, ev.Err)
		return ev
	case <-time.After(timeout):
		t.Fatal("no watch event")
		return store.Event{}
	}
}

// noEvent checks nothing arrives for a short while.
func noEvent(t *testing.T, ch <-chan store.Event) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
}

func testWatchFromRevision(t *testing.T, st store.Store, p string) {
	r1 := create(t, st, p+"w/a", "1")
	r2 := create(t, st, p+"w/b", "2")
	create(t, st, p+"other", "not watched")
	ch := st.Watch(ctxT(t), p+"w/", r1)
	ev := next(t, ch)
	require.Equal(t, store.EventPut, ev.Type)
	require.Equal(t, store.KV{Key: p + "w/a", Value: []byte("1"), CreateRevision: r1, ModRevision: r1}, ev.KV)
	ev = next(t, ch)
	require.Equal(t, p+"w/b", ev.KV.Key)
	require.Equal(t, r2, ev.KV.ModRevision)
	// Live events follow the replayed ones.
	r3, err := st.Txn(ctxT(t), []store.Cond{{Key: p + "w/a", ModRevision: r1}},
		[]store.Op{{Key: p + "w/a", Value: []byte("1b")}})
	require.NoError(t, err)
	ev = next(t, ch)
	require.Equal(t, store.KV{Key: p + "w/a", Value: []byte("1b"), CreateRevision: r1, ModRevision: r3}, ev.KV)
	noEvent(t, ch)
}

func testWatchFromNow(t *testing.T, st store.Store, p string) {
	create(t, st, p+"old", "x")
	// The watch is in place when Watch returns: no sleep needed.
	ch := st.Watch(ctxT(t), p, 0)
	rev := create(t, st, p+"new", "y")
	ev := next(t, ch)
	require.Equal(t, p+"new", ev.KV.Key)
	require.Equal(t, rev, ev.KV.ModRevision)
	noEvent(t, ch)
}

func testWatchDelete(t *testing.T, st store.Store, p string) {
	r1 := create(t, st, p+"a", "x")
	rdel, err := st.Txn(ctxT(t), nil, []store.Op{{Key: p + "a", Delete: true}})
	require.NoError(t, err)
	ch := st.Watch(ctxT(t), p, r1)
	require.Equal(t, store.EventPut, next(t, ch).Type)
	ev := next(t, ch)
	require.Equal(t, store.EventDelete, ev.Type)
	require.Equal(t, p+"a", ev.KV.Key)
	require.Equal(t, rdel, ev.KV.ModRevision)
	require.Empty(t, ev.KV.Value)
}

func testWatchCancel(t *testing.T, st store.Store, p string) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := st.Watch(ctx, p, 0)
	cancel()
	deadline := time.After(timeout)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("watch channel not closed after cancel")
		}
	}
}

// testWatchReplayMany replays more history than any internal buffer before
// the consumer starts reading, in order.
func testWatchReplayMany(t *testing.T, st store.Store, p string) {
	const n = 300
	first := create(t, st, p+"k000", "0")
	for i := 1; i < n; i++ {
		create(t, st, fmt.Sprintf("%sk%03d", p, i), fmt.Sprint(i))
	}
	ch := st.Watch(ctxT(t), p, first)
	for i := range n {
		ev := next(t, ch)
		require.Equal(t, fmt.Sprintf("%sk%03d", p, i), ev.KV.Key)
		require.Equal(t, fmt.Sprint(i), string(ev.KV.Value))
	}
	noEvent(t, ch)
}

// testWatchLastOfRev: only the last event of each transaction carries
// LastOfRev, so a follower can apply whole transactions.
func testWatchLastOfRev(t *testing.T, st store.Store, p string) {
	ch := st.Watch(ctxT(t), p+"t/", 0)
	_, err := st.Txn(ctxT(t), nil, []store.Op{
		{Key: p + "t/a", Value: []byte("1")}, {Key: p + "t/b", Value: []byte("2")},
		{Key: p + "t/c", Value: []byte("3")}, {Key: p + "unwatched", Value: []byte("4")}})
	require.NoError(t, err)
	create(t, st, p+"t/d", "5")
	var marks []bool
	for range 4 {
		marks = append(marks, next(t, ch).LastOfRev)
	}
	require.Equal(t, []bool{false, false, true, true}, marks)
}
