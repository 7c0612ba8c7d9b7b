package etcdstore_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
	"github.com/vland/vland/internal/store/etcdstore/embedded"
	"github.com/vland/vland/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return storetest.NewEtcd(t) })
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestWatchCompacted(t *testing.T) {
	st := storetest.NewEtcd(t)
	var revs []int64
	for _, k := range []string{"/a", "/b", "/c"} {
		rev, err := st.Txn(ctxT(t), nil, []store.Op{{Key: k, Value: []byte("v")}})
		require.NoError(t, err)
		revs = append(revs, rev)
	}
	_, err := st.Client().Compact(ctxT(t), revs[1])
	require.NoError(t, err)
	ch := st.Watch(ctxT(t), "/", revs[0])
	ev, ok := <-ch
	require.True(t, ok)
	require.ErrorIs(t, ev.Err, store.ErrCompacted)
	_, ok = <-ch
	require.False(t, ok, "channel must close after the error")
	ev = <-st.Watch(ctxT(t), "/", revs[2])
	require.NoError(t, ev.Err)
	require.Equal(t, "/c", ev.KV.Key)
}

// TestRestartKeepsData restarts a node on the same data dir (with new
// automatic ports) and reads back what was written.
func TestRestartKeepsData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	e, err := embedded.Start(embedded.Config{DataDir: dir})
	require.NoError(t, err)
	st, err := etcdstore.Connect(e.RootClient())
	require.NoError(t, err)
	_, err = st.Txn(ctxT(t), nil, []store.Op{{Key: "/persist", Value: []byte("yes")}})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	require.NoError(t, e.Close())

	e2, err := embedded.Start(embedded.Config{DataDir: dir})
	require.NoError(t, err)
	defer e2.Close()
	st2, err := etcdstore.Connect(e2.RootClient())
	require.NoError(t, err)
	defer st2.Close()
	kv, err := st2.Get(ctxT(t), "/persist")
	require.NoError(t, err)
	require.Equal(t, "yes", string(kv.Value))
}

// TestDataDirInUse checks a second node on the same dir fails fast
// instead of blocking on etcd's own locks.
func TestDataDirInUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	first, err := embedded.Start(embedded.Config{DataDir: dir})
	require.NoError(t, err)
	defer first.Close()
	start := time.Now()
	_, err = embedded.Start(embedded.Config{DataDir: dir})
	require.ErrorContains(t, err, "in use")
	require.Less(t, time.Since(start), time.Second)
}

// TestFixedClientURLInUse: an explicit, occupied client URL is an error,
// not a silent move to another port.
func TestFixedClientURLInUse(t *testing.T) {
	e := storetest.NewEmbedded(t)
	_, err := embedded.Start(embedded.Config{
		DataDir: filepath.Join(t.TempDir(), "etcd"), ClientURL: e.Endpoints()[0]})
	require.Error(t, err)
}

// TestFixedURLs starts a node on explicitly given URLs.
func TestFixedURLs(t *testing.T) {
	url := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		return "http://" + l.Addr().String()
	}
	client, peer := url(), url()
	e, err := embedded.Start(embedded.Config{
		DataDir: filepath.Join(t.TempDir(), "etcd"), ClientURL: client, PeerURL: peer})
	require.NoError(t, err)
	defer e.Close()
	require.Equal(t, []string{client}, e.Endpoints())
	st, err := etcdstore.Connect(e.RootClient())
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Txn(ctxT(t), nil, []store.Op{{Key: "/x", Value: []byte("y")}})
	require.NoError(t, err)
}

func TestNewNoEndpoints(t *testing.T) {
	_, err := etcdstore.New(nil)
	require.Error(t, err)
}

// BenchmarkTxn measures create transactions from 16 concurrent goroutines
// on an embedded node (fsync on), reported as txn/s.
func BenchmarkTxn(b *testing.B) {
	const workers = 16
	st := storetest.NewEtcd(b)
	var n atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := n.Add(1)
				if i > int64(b.N) {
					return
				}
				key := fmt.Sprintf("/bench/%d", i)
				_, err := st.Txn(context.Background(), []store.Cond{{Key: key}}, []store.Op{{Key: key, Value: []byte("x")}})
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "txn/s")
}
