package statusmirror

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/storetest"
)

// TestEtcd runs the mirror on a real etcd and measures it: the latency
// from a status write to its copy (one write at a time), and a burst of
// 1,000 writes (one transaction each, 20 writers, as agents write them)
// with the copies batched and, for comparison, one per transaction.
func TestEtcd(t *testing.T) {
	st := storetest.NewEtcd(t)
	const n = 1000
	for i := range n {
		putPort(t, st, testPort(fmt.Sprintf("p%04d", i), fmt.Sprintf("n%d", i%50)))
	}
	seen := watchCopies(t, st)
	cs := &countingStore{Store: st}
	stop := startStoppable(t, cs)

	var lats, writes []time.Duration
	for i := range 100 {
		id := fmt.Sprintf("p%04d", i)
		t0 := time.Now()
		putStatus(t, st, "h1", id, "DOWN")
		writes = append(writes, time.Since(t0))
		require.Equal(t, store.NetworkStatusKey(fmt.Sprintf("n%d", i%50), "h1", id), <-seen)
		lats = append(lats, time.Since(t0)-writes[i])
	}
	t.Logf("one status write at a time: the write itself p50 %v p99 %v; then until its copy reaches a watcher p50 %v p99 %v",
		pct(writes, 50), pct(writes, 99), pct(lats, 50), pct(lats, 99))
	stop()

	burst := func(status string, ops int) (time.Duration, int64) {
		defer func(old int) { maxOps = old }(maxOps)
		maxOps = ops
		cs := &countingStore{Store: st}
		stop := startStoppable(t, cs)
		defer stop()
		require.Eventually(t, func() bool { return cs.watches.Load() == 1 }, 10*time.Second, time.Millisecond)
		t0 := time.Now()
		var wg sync.WaitGroup
		for g := range 20 {
			wg.Go(func() {
				for i := g; i < n; i += 20 {
					putStatus(t, st, "h1", fmt.Sprintf("p%04d", i), status)
				}
			})
		}
		for range n {
			select {
			case <-seen:
			case <-time.After(time.Minute):
				t.Fatal("not every copy was written")
			}
		}
		d := time.Since(t0)
		wg.Wait()
		return d, cs.txns.Load()
	}
	d1, txns1 := burst("ACTIVE", 128)
	d2, txns2 := burst("BUILD", 1)
	want := map[string]string{}
	for i := range n {
		want[store.NetworkStatusKey(fmt.Sprintf("n%d", i%50), "h1", fmt.Sprintf("p%04d", i))] = `{"status":"BUILD"}`
	}
	require.Equal(t, want, copies(t, st))
	t.Logf("burst of %d status writes -> every copy seen: %v batched (%d mirror transactions), %v one per transaction (%d)",
		n, d1.Round(time.Millisecond), txns1, d2.Round(time.Millisecond), txns2)
	require.Less(t, txns1, int64(n/4), "the copies are batched")
}

// startStoppable runs the mirror until stop (or the test's end).
func startStoppable(t testing.TB, st store.Store) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- Run(ctx, st, testLog) }()
	stop = sync.OnceFunc(func() {
		cancel()
		require.NoError(t, <-done)
	})
	t.Cleanup(stop)
	return stop
}

// watchCopies sends the key of every copy written, from now on.
func watchCopies(t testing.TB, st store.Store) <-chan string {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch := st.Watch(ctx, store.NetworkStatusPrefix, 0)
	out := make(chan string, 4096)
	go func() {
		for ev := range ch {
			if ev.Type == store.EventPut {
				out <- ev.KV.Key
			}
		}
	}()
	return out
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Sorted(slices.Values(d))
	return s[len(s)*p/100].Round(10 * time.Microsecond)
}
