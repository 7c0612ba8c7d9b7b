package segment_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/segment"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
	"github.com/vland/vland/internal/store/storetest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// commit is the network transaction: compare-and-create the segment key.
func commit(ctx context.Context, st store.Store, seg segment.Segment, release segment.Release) error {
	var err error
	if key := seg.Key(); key != "" {
		_, err = st.Txn(ctx, []store.Cond{{Key: key}}, []store.Op{{Key: key, Value: []byte("net")}})
	}
	release(err == nil)
	return err
}

// tenant allocates a tenant segment, retrying on conflicts.
func tenant(ctx context.Context, a *segment.Allocator, st store.Store) (segment.Segment, int, error) {
	for attempt := 1; attempt <= 100; attempt++ {
		seg, release, err := a.ReserveTenant(ctx)
		if err != nil {
			return seg, attempt, err
		}
		err = commit(ctx, st, seg, release)
		if !errors.Is(err, store.ErrConflict) {
			return seg, attempt, err
		}
		a.MarkStale()
	}
	return segment.Segment{}, 100, errors.New("too many conflicts")
}

func newAlloc(t *testing.T, cfg segment.Config, st store.Store) *segment.Allocator {
	a, err := segment.NewAllocator(cfg, st)
	require.NoError(t, err)
	return a
}

func kind(t *testing.T, err error) string {
	t.Helper()
	var e *segment.Error
	require.ErrorAs(t, err, &e)
	return e.Kind
}

func TestTenantLowestFirstThenNextType(t *testing.T) {
	st := memstore.New()
	cfg := segment.DefaultConfig()
	cfg.TenantNetworkTypes = []string{"vxlan", "vlan"}
	cfg.VNIRanges = []segment.Range{{Min: 5, Max: 6}}
	cfg.NetworkVLANRanges = map[string][]segment.Range{"physnet2": {{Min: 10, Max: 10}}, "physnet1": {{Min: 20, Max: 20}}}
	a := newAlloc(t, cfg, st)
	var got []segment.Segment
	for range 4 {
		seg, _, err := tenant(ctxT(t), a, st)
		require.NoError(t, err)
		got = append(got, seg)
	}
	require.Equal(t, []segment.Segment{
		{NetworkType: "vxlan", SegmentationID: 5},
		{NetworkType: "vxlan", SegmentationID: 6},
		{NetworkType: "vlan", PhysicalNetwork: "physnet1", SegmentationID: 20}, // physnets in name order
		{NetworkType: "vlan", PhysicalNetwork: "physnet2", SegmentationID: 10},
	}, got)
	_, _, err := tenant(ctxT(t), a, st)
	require.Equal(t, segment.KindNoNetworkAvailable, kind(t, err))
	var e *segment.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, 503, e.Status)
	require.Equal(t, "Unable to create the network. No tenant network is available for allocation.", e.Message)
	// Freeing makes the ID available again.
	_, err = st.Txn(ctxT(t), nil, []store.Op{{Key: got[1].Key(), Delete: true}})
	require.NoError(t, err)
	a.Free(got[1])
	seg, _, err := tenant(ctxT(t), a, st)
	require.NoError(t, err)
	require.Equal(t, got[1], seg)
}

func TestTenantLocal(t *testing.T) {
	cfg := segment.DefaultConfig()
	cfg.TenantNetworkTypes = []string{"local"}
	a := newAlloc(t, cfg, memstore.New())
	seg, rel, err := a.ReserveTenant(ctxT(t))
	require.NoError(t, err)
	require.Equal(t, segment.Segment{NetworkType: "local"}, seg)
	require.Empty(t, seg.Key())
	rel(true)
}

func TestLoadsExistingAndStale(t *testing.T) {
	st := memstore.New()
	cfg := segment.DefaultConfig()
	for _, id := range []int{1000, 1002} {
		_, err := st.Txn(ctxT(t), nil, []store.Op{{Key: store.SegmentKey("vxlan", "", id), Value: []byte("old")}})
		require.NoError(t, err)
	}
	a, other := newAlloc(t, cfg, st), newAlloc(t, cfg, st)
	seg, _, err := tenant(ctxT(t), a, st)
	require.NoError(t, err)
	require.Equal(t, 1001, seg.SegmentationID)
	seg, _, err = tenant(ctxT(t), other, st) // other server takes 1003
	require.NoError(t, err)
	require.Equal(t, 1003, seg.SegmentationID)
	seg, attempts, err := tenant(ctxT(t), a, st)
	require.NoError(t, err)
	require.Equal(t, 1004, seg.SegmentationID)
	require.Equal(t, 2, attempts, "stale cache costs one conflict")
}

func TestReserveProvider(t *testing.T) {
	st := memstore.New()
	cfg := segment.DefaultConfig()
	cfg.NetworkVLANRanges = map[string][]segment.Range{"physnet1": {{Min: 100, Max: 101}}}
	cfg.FlatNetworks = []string{"*"}
	a := newAlloc(t, cfg, st)
	take := func(seg segment.Segment) (segment.Segment, error) {
		got, rel, err := a.ReserveProvider(ctxT(t), seg)
		if err != nil {
			return got, err
		}
		return got, commit(ctxT(t), st, got, rel)
	}
	vlan := segment.Segment{NetworkType: "vlan", PhysicalNetwork: "physnet1", SegmentationID: 100}
	_, err := take(vlan)
	require.NoError(t, err)
	_, err = take(vlan)
	require.Equal(t, segment.KindVlanIDInUse, kind(t, err))
	require.EqualError(t, err, "segment: Unable to create the network. The VLAN 100 on physical network physnet1 is in use.")
	// Partial vlan: physnet's lowest free id.
	got, err := take(segment.Segment{NetworkType: "vlan"})
	require.NoError(t, err)
	require.Equal(t, segment.Segment{NetworkType: "vlan", PhysicalNetwork: "physnet1", SegmentationID: 101}, got)
	_, err = take(segment.Segment{NetworkType: "vlan", PhysicalNetwork: "physnet1"})
	require.Equal(t, segment.KindNoNetworkAvailable, kind(t, err))
	// Admin ids outside tenant ranges are fine, once.
	_, err = take(segment.Segment{NetworkType: "vlan", PhysicalNetwork: "physnet1", SegmentationID: 4000})
	require.NoError(t, err)
	vx := segment.Segment{NetworkType: "vxlan", SegmentationID: 5000}
	_, err = take(vx)
	require.NoError(t, err)
	_, err = take(vx)
	require.Equal(t, segment.KindTunnelIDInUse, kind(t, err))
	// Tenant allocation is unaffected by admin ids outside its range.
	got, err = take(segment.Segment{NetworkType: "vxlan"})
	require.NoError(t, err)
	require.Equal(t, 1000, got.SegmentationID)
	flat := segment.Segment{NetworkType: "flat", PhysicalNetwork: "ext"}
	_, err = take(flat)
	require.NoError(t, err)
	_, err = take(flat)
	require.Equal(t, segment.KindFlatNetworkInUse, kind(t, err))
	_, err = take(segment.Segment{NetworkType: "vlan", PhysicalNetwork: "nope", SegmentationID: 5})
	require.Equal(t, segment.KindInvalidInput, kind(t, err))
	// In-flight provider reservations collide too.
	gre := segment.Segment{NetworkType: "gre", SegmentationID: 9}
	_, rel, err := a.ReserveProvider(ctxT(t), gre)
	require.NoError(t, err)
	_, _, err = a.ReserveProvider(ctxT(t), gre)
	require.Equal(t, segment.KindTunnelIDInUse, kind(t, err))
	rel(false)
	_, _, err = a.ReserveProvider(ctxT(t), gre)
	require.NoError(t, err)
}

func TestNewAllocatorRejectsBadConfig(t *testing.T) {
	cfg := segment.DefaultConfig()
	cfg.TenantNetworkTypes = []string{"bogus"}
	_, err := segment.NewAllocator(cfg, memstore.New())
	require.ErrorIs(t, err, segment.ErrConfig)
}

// TestConcurrentEtcd: 200 tenant networks created at once through two
// allocators (two servers) on a real etcd get 200 distinct VNIs, densely
// from the bottom of the range.
func TestConcurrentEtcd(t *testing.T) {
	st := storetest.NewEtcd(t)
	cfg := segment.DefaultConfig()
	servers := []*segment.Allocator{newAlloc(t, cfg, st), newAlloc(t, cfg, st)}
	const n = 200
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids []int
	)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seg, _, err := tenant(ctxT(t), servers[i%2], st)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			ids = append(ids, seg.SegmentationID)
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	sort.Ints(ids)
	want := make([]int, n)
	for i := range want {
		want[i] = 1000 + i
	}
	require.Equal(t, want, ids, "distinct and dense")
	keys, _, err := st.ListKeys(ctxT(t), store.SegmentsPrefix+"vxlan/")
	require.NoError(t, err)
	require.Len(t, keys, n)
	require.Equal(t, fmt.Sprint(store.SegmentKey("vxlan", "", 1000)), keys[0])
}
