package agent

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

// recService records the snapshots it is synced with and fails on demand.
type recService struct {
	mu      sync.Mutex
	subnets []int
	fail    bool
	ran     bool
}

func (r *recService) Name() string { return "rec" }

func (r *recService) Sync(_ context.Context, snap Snapshot) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.subnets = append(r.subnets, len(snap.Subnets))
	if r.fail {
		return errors.New("boom")
	}
	return nil
}

func (r *recService) Run(ctx context.Context) {
	r.mu.Lock()
	r.ran = true
	r.mu.Unlock()
	<-ctx.Done()
}

func (r *recService) last() (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.subnets) == 0 {
		return -1, r.ran
	}
	return r.subnets[len(r.subnets)-1], r.ran
}

// TestServicesSynced: every reconcile syncs the services with the store
// snapshot (subnets included), their Run goes, and a failing service does
// not stop the data plane or the other services.
func TestServicesSynced(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	good, bad := &recService{}, &recService{fail: true}
	dp := newFakeDP("p1")
	runAgent(t, st, dp, func(c *Config) { c.Services = []Service{bad, good} })
	put(t, st, store.NetworkKey("n1"), vxlanNet("n1", 111))
	put(t, st, store.SubnetKey("s1"), api.Subnet{ID: "s1", NetworkID: "n1", IPVersion: 4, CIDR: "10.1.0.0/24", EnableDHCP: true})
	put(t, st, store.PortKey("p1"), vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.1.0.5", ""))
	require.Eventually(t, func() bool { n, ran := good.last(); return n == 1 && ran }, 2*time.Second, 10*time.Millisecond)
	waitStatus(t, st, "p1", "hostA/ACTIVE")
	n, _ := bad.last()
	require.Equal(t, 1, n)
}
