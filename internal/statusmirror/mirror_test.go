package statusmirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

var testLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// start runs the mirror until the test ends.
func start(t testing.TB, st store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- Run(ctx, st, testLog) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

func testPort(id, net string) *api.Port {
	return &api.Port{ID: id, NetworkID: net, BindingHostID: "h1", DeviceOwner: "compute:nova"}
}

// putPort stores a port as the server does (with its index keys).
func putPort(t testing.TB, st store.Store, p *api.Port) {
	b, err := json.Marshal(p)
	require.NoError(t, err)
	_, err = st.Txn(ctxT(t), nil, store.PortOps(nil, p, b))
	require.NoError(t, err)
}

func deletePort(t testing.TB, st store.Store, p *api.Port) {
	_, err := st.Txn(ctxT(t), nil, store.PortDeleteOps(p))
	require.NoError(t, err)
}

// putStatus writes a status record as host's agent does.
func putStatus(t testing.TB, st store.Store, host, id, status string) {
	_, err := st.Txn(ctxT(t), nil, []store.Op{{Key: store.PortStatusKey(host, id), Value: statusJSON(status)}})
	require.NoError(t, err)
}

func statusJSON(status string) []byte {
	return []byte(fmt.Sprintf(`{"status":%q}`, status))
}

func deleteStatus(t testing.TB, st store.Store, host, id string) {
	_, err := st.Txn(ctxT(t), nil, []store.Op{{Key: store.PortStatusKey(host, id), Delete: true}})
	require.NoError(t, err)
}

// copies is the network-status range, key → value.
func copies(t testing.TB, st store.Store) map[string]string {
	kvs, _, err := st.List(ctxT(t), store.NetworkStatusPrefix)
	require.NoError(t, err)
	out := map[string]string{}
	for _, kv := range kvs {
		out[kv.Key] = string(kv.Value)
	}
	return out
}

// waitCopies waits until the range holds exactly want.
func waitCopies(t testing.TB, st store.Store, want map[string]string) {
	t.Helper()
	var got map[string]string
	deadline := time.Now().Add(10 * time.Second)
	for got = copies(t, st); !maps.Equal(got, want) && time.Now().Before(deadline); got = copies(t, st) {
		time.Sleep(5 * time.Millisecond)
	}
	require.Equal(t, want, got)
}

func TestCopyUpdateDelete(t *testing.T) {
	st := memstore.New()
	start(t, st)
	putPort(t, st, testPort("p1", "n1"))
	putStatus(t, st, "h1", "p1", "DOWN")
	waitCopies(t, st, map[string]string{store.NetworkStatusKey("n1", "h1", "p1"): `{"status":"DOWN"}`})

	putStatus(t, st, "h1", "p1", "ACTIVE")
	putStatus(t, st, "h2", "p1", "BUILD") // the port moving to h2
	waitCopies(t, st, map[string]string{
		store.NetworkStatusKey("n1", "h1", "p1"): `{"status":"ACTIVE"}`,
		store.NetworkStatusKey("n1", "h2", "p1"): `{"status":"BUILD"}`,
	})

	deleteStatus(t, st, "h1", "p1")
	waitCopies(t, st, map[string]string{store.NetworkStatusKey("n1", "h2", "p1"): `{"status":"BUILD"}`})
}

func TestPortDeleteDropsCopies(t *testing.T) {
	st := memstore.New()
	start(t, st)
	p1, p2 := testPort("p1", "n1"), testPort("p2", "n2")
	putPort(t, st, p1)
	putPort(t, st, p2)
	putStatus(t, st, "h1", "p1", "ACTIVE")
	putStatus(t, st, "h2", "p1", "DOWN")
	putStatus(t, st, "h1", "p2", "ACTIVE")
	require.Eventually(t, func() bool { return len(copies(t, st)) == 3 }, 10*time.Second, 5*time.Millisecond)

	deletePort(t, st, p1) // its status records stay (the agents delete them later)
	waitCopies(t, st, map[string]string{store.NetworkStatusKey("n2", "h1", "p2"): `{"status":"ACTIVE"}`})
	putStatus(t, st, "h1", "p1", "DOWN") // a late write for the deleted port
	putStatus(t, st, "h1", "p2", "DOWN") // (once this is copied, the write before it was seen)
	waitCopies(t, st, map[string]string{store.NetworkStatusKey("n2", "h1", "p2"): `{"status":"DOWN"}`})
}

func TestStatusOfUnknownPort(t *testing.T) {
	st := memstore.New()
	start(t, st)
	putPort(t, st, testPort("p2", "n2"))
	putStatus(t, st, "h1", "p1", "DOWN") // p1 not created (yet)
	putStatus(t, st, "h1", "p2", "DOWN")
	want := map[string]string{store.NetworkStatusKey("n2", "h1", "p2"): `{"status":"DOWN"}`}
	waitCopies(t, st, want)

	putPort(t, st, testPort("p1", "n1")) // the record was kept: the copy follows the port
	want[store.NetworkStatusKey("n1", "h1", "p1")] = `{"status":"DOWN"}`
	waitCopies(t, st, want)
}

// TestNoStaleCopy: a port deleted, and a record rewritten, after the
// mirror saw them but before it wrote their copies (as with a status for
// a port being deleted, or a former leader still writing). The writes are
// conditioned on both, so no stale copy is left behind, whatever the
// watch shows later.
func TestNoStaleCopy(t *testing.T) {
	st := memstore.New()
	ctx := ctxT(t)
	p1, p2, p3 := testPort("p1", "n1"), testPort("p2", "n1"), testPort("p3", "n1")
	for _, p := range []*api.Port{p1, p2, p3} {
		putPort(t, st, p)
		putStatus(t, st, "h1", p.ID, "ACTIVE")
	}
	m := &mirror{st: st, log: testLog}
	kvs, _, err := st.List(ctx, watched)
	require.NoError(t, err)
	m.reset()
	for _, kv := range kvs {
		m.apply(store.Event{Type: store.EventPut, KV: kv})
	}
	// Not applied to m: the watch has not shown them yet.
	deletePort(t, st, p1)
	putStatus(t, st, "h1", "p3", "DOWN")

	require.NoError(t, m.flush(ctx))
	want := map[string]string{store.NetworkStatusKey("n1", "h1", "p2"): `{"status":"ACTIVE"}`}
	require.Equal(t, want, copies(t, st), "the batch failed on p1's and p3's conditions; p2's copy is written alone")
	require.Equal(t, map[string]bool{store.NetworkStatusKey("n1", "h1", "p1"): true, store.NetworkStatusKey("n1", "h1", "p3"): true},
		m.dirty, "p1's and p3's copies wait for the watch")
}

// TestRestartConverges: a mirror stopped half-way through, then a store
// changed meanwhile (ports and records deleted and rewritten, copies left
// under a wrong network or for nobody); the next Run puts every copy right.
func TestRestartConverges(t *testing.T) {
	st := memstore.New()
	var ports []*api.Port
	for i := range 300 {
		p := testPort(fmt.Sprintf("p%03d", i), fmt.Sprintf("n%d", i%7))
		ports = append(ports, p)
		putPort(t, st, p)
		putStatus(t, st, "h1", p.ID, "DOWN")
	}
	// The first mirror dies after one transaction of copies.
	cs := &countingStore{Store: st, failAfter: 1}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- Run(ctx, cs, testLog) }()
	require.Eventually(t, func() bool { return cs.txns.Load() >= 2 }, 10*time.Second, time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	require.Len(t, copies(t, st), maxOps/2, "the first mirror wrote one transaction only")

	want := map[string]string{}
	for i, p := range ports {
		switch i % 3 {
		case 0:
			deletePort(t, st, p)
		case 1:
			putStatus(t, st, "h1", p.ID, "ACTIVE")
			want[store.NetworkStatusKey(p.NetworkID, "h1", p.ID)] = `{"status":"ACTIVE"}`
		default:
			want[store.NetworkStatusKey(p.NetworkID, "h1", p.ID)] = `{"status":"DOWN"}`
		}
	}
	_, err := st.Txn(ctxT(t), nil, []store.Op{
		{Key: store.NetworkStatusKey("n9", "h1", "p002"), Value: []byte("wrong network")},
		{Key: store.NetworkStatusKey("n1", "h1", "nobody"), Value: []byte("no such port")},
		{Key: store.NetworkStatusPrefix + "junk", Value: []byte("not a copy key")},
	})
	require.NoError(t, err)
	start(t, st)
	waitCopies(t, st, want)
}

// TestWatchResumes: a broken watch resumes from the last revision applied
// (no listing); a compacted one lists again.
func TestWatchResumes(t *testing.T) {
	st := memstore.New()
	cs := &countingStore{Store: st}
	start(t, cs)
	putPort(t, st, testPort("p1", "n1"))
	putStatus(t, st, "h1", "p1", "DOWN")
	want := map[string]string{store.NetworkStatusKey("n1", "h1", "p1"): `{"status":"DOWN"}`}
	waitCopies(t, st, want)
	lists := cs.lists.Load()

	cs.breakWatches()
	putStatus(t, st, "h1", "p1", "ACTIVE")
	want[store.NetworkStatusKey("n1", "h1", "p1")] = `{"status":"ACTIVE"}`
	waitCopies(t, st, want)
	require.Equal(t, lists, cs.lists.Load(), "resumed without listing")

	cs.holdWatches(true) // the mirror cannot watch while its revision is compacted
	cs.breakWatches()
	putStatus(t, st, "h1", "p1", "DOWN")
	putStatus(t, st, "h2", "p1", "BUILD")
	st.Compact(st.Rev())
	cs.holdWatches(false)
	want[store.NetworkStatusKey("n1", "h1", "p1")] = `{"status":"DOWN"}`
	want[store.NetworkStatusKey("n1", "h2", "p1")] = `{"status":"BUILD"}`
	waitCopies(t, st, want)
	require.Equal(t, lists+2, cs.lists.Load(), "listed again (the watched range and the copies)")
}

// countingStore counts listings and transactions, fails every
// transaction after failAfter (if set), and breaks watches on demand.
type countingStore struct {
	store.Store
	lists, txns atomic.Int64
	forwarded   atomic.Int64 // watch events queued for the mirror
	watches     atomic.Int64
	failAfter   int64
	gate        chan struct{} // if set, transactions wait until it is closed

	mu   sync.Mutex
	brk  chan struct{}
	hold bool
}

func (c *countingStore) List(ctx context.Context, prefix string) ([]store.KV, int64, error) {
	c.lists.Add(1)
	return c.Store.List(ctx, prefix)
}

func (c *countingStore) Txn(ctx context.Context, conds []store.Cond, ops []store.Op) (int64, error) {
	if c.gate != nil {
		<-c.gate
	}
	if n := c.txns.Add(1); c.failAfter > 0 && n > c.failAfter {
		return 0, errors.New("injected: store gone")
	}
	return c.Store.Txn(ctx, conds, ops)
}

func (c *countingStore) breakWatches() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.brk != nil {
		close(c.brk)
	}
	c.brk = make(chan struct{})
}

// holdWatches makes new watches fail at once while on.
func (c *countingStore) holdWatches(on bool) {
	c.mu.Lock()
	c.hold = on
	c.mu.Unlock()
}

func (c *countingStore) Watch(ctx context.Context, prefix string, rev int64) <-chan store.Event {
	c.watches.Add(1)
	c.mu.Lock()
	if c.brk == nil {
		c.brk = make(chan struct{})
	}
	brk, hold := c.brk, c.hold
	c.mu.Unlock()
	out := make(chan store.Event, 2048) // buffered, as etcd's watch (memstore's is not)
	if hold {
		out <- store.Event{Err: errors.New("injected: no watch now")}
		close(out)
		return out
	}
	wctx, cancel := context.WithCancel(ctx)
	in := c.Store.Watch(wctx, prefix, rev)
	go func() {
		defer close(out)
		defer cancel()
		for {
			select {
			case ev, ok := <-in:
				if !ok {
					return
				}
				out <- ev
				c.forwarded.Add(1)
			case <-brk:
				out <- store.Event{Err: errors.New("injected: connection lost")}
				return
			}
		}
	}()
	return out
}

// TestBurstIsBatched: 1,000 records written while the mirror is busy
// (here: its first write held up), one transaction each as by the agents
// of 1,000 hosts, become a few full transactions, not 1,000.
func TestBurstIsBatched(t *testing.T) {
	st := memstore.New()
	want := map[string]string{}
	for i := range 1000 {
		p := testPort(fmt.Sprintf("p%04d", i), fmt.Sprintf("n%d", i%50))
		putPort(t, st, p)
		want[store.NetworkStatusKey(p.NetworkID, "h1", p.ID)] = `{"status":"ACTIVE"}`
	}
	cs := &countingStore{Store: st, gate: make(chan struct{})}
	start(t, cs)
	open := sync.OnceFunc(func() { close(cs.gate) })
	t.Cleanup(open) // (runs before start's, which waits for Run)
	require.Eventually(t, func() bool { return cs.watches.Load() == 1 }, 10*time.Second, time.Millisecond)
	putStatus(t, st, "h1", "p0000", "ACTIVE") // the write that holds the mirror up
	var wg sync.WaitGroup
	for g := range 10 {
		wg.Go(func() {
			for i := g; i < 1000; i += 10 {
				putStatus(t, st, "h1", fmt.Sprintf("p%04d", i), "ACTIVE")
			}
		})
	}
	wg.Wait()
	require.Eventually(t, func() bool { return cs.forwarded.Load() == 1001 }, 10*time.Second, time.Millisecond)
	open()
	waitCopies(t, st, want)
	t.Logf("1,000 status writes copied in %d transactions", cs.txns.Load())
	require.Less(t, cs.txns.Load(), int64(40), "the copies are batched (1,000/64 full transactions and a few partial ones, not 1,000)")
}

func TestWatchedCoversPortsAndStatusOnly(t *testing.T) {
	require.Equal(t, "/vland/port", watched)
	for _, p := range []string{store.NetworksPrefix, store.NetworkPortsPrefix, store.NetworkStatusPrefix,
		store.HostPortsPrefix, store.SecGroupPortsPrefix, store.PoolPrefixesPrefix} {
		require.False(t, strings.HasPrefix(p, watched), p)
	}
}
