package ipam_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/ipam"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
	"github.com/vland/vland/internal/store/storetest"
)

var pool24 = []ipam.Range{{Start: netip.MustParseAddr("10.0.0.2"), End: netip.MustParseAddr("10.0.0.254")}}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// allocate is the service's loop: reserve, compare-and-create the IP key,
// release, and retry on conflict after marking the cache stale.
func allocate(ctx context.Context, a *ipam.Allocator, st store.Store, subnet string, pools []ipam.Range, owner string) (netip.Addr, int, error) {
	for attempt := 1; attempt <= 100; attempt++ {
		ip, release, err := a.Reserve(ctx, subnet, pools)
		if err != nil {
			return netip.Addr{}, attempt, err
		}
		key := store.IPKey(subnet, ip.String())
		_, err = st.Txn(ctx, []store.Cond{{Key: key}}, []store.Op{{Key: key, Value: []byte(owner)}})
		release(err == nil)
		if err == nil {
			return ip, attempt, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return netip.Addr{}, attempt, err
		}
		a.MarkStale(subnet)
	}
	return netip.Addr{}, 100, errors.New("too many conflicts")
}

func mustAlloc(t *testing.T, a *ipam.Allocator, st store.Store, subnet string, pools []ipam.Range) string {
	t.Helper()
	ip, _, err := allocate(ctxT(t), a, st, subnet, pools, "port")
	require.NoError(t, err)
	return ip.String()
}

func TestSequentialLowestFirst(t *testing.T) {
	st := memstore.New()
	a := ipam.NewAllocator(st)
	for _, want := range []string{"10.0.0.2", "10.0.0.3", "10.0.0.4"} {
		require.Equal(t, want, mustAlloc(t, a, st, "s1", pool24))
	}
	// Another subnet with the same CIDR (another project) starts over.
	require.Equal(t, "10.0.0.2", mustAlloc(t, a, st, "s2", pool24))
}

func TestReleaseUncommittedAndFree(t *testing.T) {
	st := memstore.New()
	a := ipam.NewAllocator(st)
	ip1, rel1, err := a.Reserve(ctxT(t), "s", pool24)
	require.NoError(t, err)
	ip2, rel2, err := a.Reserve(ctxT(t), "s", pool24)
	require.NoError(t, err)
	require.Equal(t, "10.0.0.2", ip1.String())
	require.Equal(t, "10.0.0.3", ip2.String(), "in-flight reservations must not collide")
	rel1(false)
	rel1(true) // second call is a no-op
	rel2(true)
	ip3, rel3, err := a.Reserve(ctxT(t), "s", pool24)
	require.NoError(t, err)
	require.Equal(t, "10.0.0.2", ip3.String(), "an uncommitted address is free again")
	rel3(true)
	a.Free("s", ip2)
	ip4, _, err := a.Reserve(ctxT(t), "s", pool24)
	require.NoError(t, err)
	require.Equal(t, "10.0.0.3", ip4.String(), "a freed address is reused")
}

func TestLoadsExistingAllocations(t *testing.T) {
	st := memstore.New()
	for _, ip := range []string{"10.0.0.2", "10.0.0.4"} {
		_, err := st.Txn(ctxT(t), nil, []store.Op{{Key: store.IPKey("s", ip), Value: []byte("old")}})
		require.NoError(t, err)
	}
	a := ipam.NewAllocator(st)
	require.Equal(t, "10.0.0.3", mustAlloc(t, a, st, "s", pool24))
	require.Equal(t, "10.0.0.5", mustAlloc(t, a, st, "s", pool24))
}

// TestStaleCacheRetries: another server allocates behind this one's back;
// the conflict makes it reload and take the next address.
func TestStaleCacheRetries(t *testing.T) {
	st := memstore.New()
	a, other := ipam.NewAllocator(st), ipam.NewAllocator(st)
	require.Equal(t, "10.0.0.2", mustAlloc(t, a, st, "s", pool24))
	require.Equal(t, "10.0.0.3", mustAlloc(t, other, st, "s", pool24))
	ip, attempts, err := allocate(ctxT(t), a, st, "s", pool24, "p")
	require.NoError(t, err)
	require.Equal(t, "10.0.0.4", ip.String())
	require.Equal(t, 2, attempts, "first try hits the stale .3")
}

func TestExhaustion(t *testing.T) {
	st := memstore.New()
	a := ipam.NewAllocator(st)
	small := []ipam.Range{
		{Start: netip.MustParseAddr("10.0.0.2"), End: netip.MustParseAddr("10.0.0.3")},
		{Start: netip.MustParseAddr("10.0.0.9"), End: netip.MustParseAddr("10.0.0.9")},
	}
	var got []string
	for range 3 {
		got = append(got, mustAlloc(t, a, st, "s", small))
	}
	require.Equal(t, []string{"10.0.0.2", "10.0.0.3", "10.0.0.9"}, got)
	_, _, err := a.Reserve(ctxT(t), "s", small)
	var e *ipam.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, ipam.KindIPAddressGenerationFailure, e.Kind)
	require.Equal(t, 409, e.Status)
	// Edge of the address space: iteration must stop, not wrap.
	top := []ipam.Range{{Start: netip.MustParseAddr("255.255.255.255"), End: netip.MustParseAddr("255.255.255.255")}}
	mustAlloc(t, a, st, "top", top)
	_, _, err = a.Reserve(ctxT(t), "top", top)
	require.ErrorAs(t, err, &e)
}

func TestReserveExplicit(t *testing.T) {
	st := memstore.New()
	a := ipam.NewAllocator(st)
	ip := netip.MustParseAddr("10.0.0.50")
	rel, err := a.ReserveExplicit(ctxT(t), "s", ip)
	require.NoError(t, err)
	_, err = a.ReserveExplicit(ctxT(t), "s", ip)
	var e *ipam.Error
	require.ErrorAs(t, err, &e, "in flight")
	require.Equal(t, ipam.KindIPAddressAlreadyAllocated, e.Kind)
	rel(true)
	_, err = a.ReserveExplicit(ctxT(t), "s", ip)
	require.ErrorAs(t, err, &e, "committed")
	// Automatic allocation skips what was explicitly taken.
	_, err = st.Txn(ctxT(t), nil, []store.Op{{Key: store.IPKey("s", "10.0.0.2")}})
	require.NoError(t, err)
	a.MarkStale("s")
	ip2, _, err := a.Reserve(ctxT(t), "s", pool24)
	require.NoError(t, err)
	require.Equal(t, "10.0.0.3", ip2.String())
}

func TestLoadError(t *testing.T) {
	a := ipam.NewAllocator(failLister{})
	_, _, err := a.Reserve(context.Background(), "s", pool24)
	require.ErrorIs(t, err, errBoom)
	// The failed load leaves the subnet usable once the store recovers.
	_, err = a.ReserveExplicit(context.Background(), "s", pool24[0].Start)
	require.ErrorIs(t, err, errBoom)
}

var errBoom = errors.New("boom")

type failLister struct{}

func (failLister) ListKeys(context.Context, string) ([]string, int64, error) { return nil, 0, errBoom }

// TestConcurrentEtcd: 200 port creates race on one subnet through two
// allocators (two API servers) sharing a real etcd: 200 distinct
// addresses, densely .2 to .201.
func TestConcurrentEtcd(t *testing.T) {
	st := storetest.NewEtcd(t)
	servers := []*ipam.Allocator{ipam.NewAllocator(st), ipam.NewAllocator(st)}
	const n = 200
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		got      = map[netip.Addr]string{}
		attempts int
	)
	errs := make(chan error, n)
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("port-%d", i)
			ip, tries, err := allocate(ctxT(t), servers[i%2], st, "subnet-1", pool24, owner)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			attempts += tries
			if prev, dup := got[ip]; dup {
				errs <- fmt.Errorf("%s given to %s and %s", ip, prev, owner)
			}
			got[ip] = owner
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	t.Logf("%d allocations in %s, %d txn attempts", n, time.Since(start), attempts)
	require.Len(t, got, n)
	keys, _, err := st.ListKeys(ctxT(t), store.IPKey("subnet-1", ""))
	require.NoError(t, err)
	require.Len(t, keys, n)
	var ips []netip.Addr
	for ip := range got {
		ips = append(ips, ip)
	}
	sort.Slice(ips, func(i, j int) bool { return ips[i].Less(ips[j]) })
	require.Equal(t, "10.0.0.2", ips[0].String())
	require.Equal(t, "10.0.0.201", ips[n-1].String())
}
