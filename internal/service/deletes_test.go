package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/segment"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

// laggingStore delivers watch events lag late, as an overloaded watch
// would; reads and transactions are immediate.
type laggingStore struct {
	*memstore.Store
	lag time.Duration
}

func (l *laggingStore) Watch(ctx context.Context, prefix string, fromRev int64) <-chan store.Event {
	in := l.Store.Watch(ctx, prefix, fromRev)
	out := make(chan store.Event, 1024)
	go func() {
		defer close(out)
		for ev := range in {
			select {
			case <-time.After(l.lag):
			case <-ctx.Done():
				return
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func startService(t *testing.T, st store.Store, cfg Config) *Service {
	t.Helper()
	s, err := New(context.Background(), st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// netWithPorts makes a network with a /22 subnet and n ports of owner.
func netWithPorts(t *testing.T, s *Service, n int, owner string) (api.Network, []api.Port) {
	t.Helper()
	nets, err := s.CreateNetworks(adminCtx, []NetworkRequest{{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSubnets(adminCtx, []SubnetRequest{{NetworkID: Some(nets[0].ID), CIDR: Some("10.9.0.0/22")}}); err != nil {
		t.Fatal(err)
	}
	reqs := make([]PortRequest, n)
	for i := range reqs {
		reqs[i] = PortRequest{NetworkID: Some(nets[0].ID), DeviceOwner: Some(owner)}
	}
	var ports []api.Port
	if n > 0 {
		if ports, err = s.CreatePorts(adminCtx, reqs); err != nil {
			t.Fatal(err)
		}
	}
	return nets[0], ports
}

// vlandKeys lists every key of the store that names one of ids.
func vlandKeys(t *testing.T, st store.Store, ids ...string) []string {
	t.Helper()
	kvs, _, err := st.List(context.Background(), rootPrefix)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range kvs {
		for _, id := range ids {
			if strings.Contains(kv.Key+" "+string(kv.Value), id) {
				out = append(out, kv.Key)
				break
			}
		}
	}
	return out
}

// TestLaggingCacheCannotDeleteNetworkInUse: a server whose watch lags 3 s
// (more than the cache's 2 s wait) must still see the port another
// server just created, because the emptiness check is in the delete's
// transaction.
func TestLaggingCacheCannotDeleteNetworkInUse(t *testing.T) {
	mem := memstore.New()
	fast := startService(t, mem, Config{})
	slow := startService(t, &laggingStore{Store: mem, lag: 3 * time.Second}, Config{})
	n, _ := netWithPorts(t, fast, 0, "")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := slow.GetNetwork(adminCtx, n.ID); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lagging server never saw the network")
		}
		time.Sleep(100 * time.Millisecond)
	}
	port, err := fast.CreatePorts(adminCtx, []PortRequest{{NetworkID: Some(n.ID)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := slow.DeleteNetwork(adminCtx, n.ID, -1); !errors.Is(err, ErrNetworkInUse) {
		t.Fatalf("delete through the lagging server: %v, want NetworkInUse", err)
	}
	if _, err := fast.GetPort(adminCtx, port[0].ID); err != nil {
		t.Fatalf("port after the refused delete: %v", err)
	}
	if _, err := fast.GetNetwork(adminCtx, n.ID); err != nil {
		t.Fatalf("network after the refused delete: %v", err)
	}
}

// TestCrashMidDeleteRecoveredAtStartup: a server dies between marking a
// big network deleting and deleting it; the next server to start
// finishes the delete, leaving nothing.
func TestCrashMidDeleteRecoveredAtStartup(t *testing.T) {
	mem := memstore.New()
	crash := errors.New("crash")
	cfg := Config{MaxTxnOps: 40, Fault: func(point string) error {
		if point == "network-marked" {
			return crash
		}
		return nil
	}}
	s1, err := New(context.Background(), mem, cfg)
	if err != nil {
		t.Fatal(err)
	}
	n, ports := netWithPorts(t, s1, 30, "network:dhcp")
	ids := []string{n.ID}
	for _, p := range ports {
		ids = append(ids, p.ID)
	}
	if err := s1.DeleteNetwork(adminCtx, n.ID, -1); !errors.Is(err, crash) {
		t.Fatalf("delete: %v, want the injected crash", err)
	}
	s1.Close()
	if v, err := mem.Get(context.Background(), store.NetworkKey(n.ID)); err != nil || !strings.Contains(string(v.Value), `"vland:deleting":true`) {
		t.Fatalf("the crash should leave the network marked: %s %v", v.Value, err)
	}
	s2 := startService(t, mem, Config{})
	if _, err := s2.GetNetwork(adminCtx, n.ID); !errors.Is(err, ErrNetworkNotFound) {
		t.Fatalf("network after recovery: %v", err)
	}
	if left := vlandKeys(t, mem, ids...); len(left) > 0 {
		t.Fatalf("keys left after recovery: %v", left)
	}
}

// TestCrashMidBulkRolledBackAtStartup: a server dies after writing the
// first part of a bulk create too big for one transaction; its ports
// were never visible, and start-up recovery removes them.
func TestCrashMidBulkRolledBackAtStartup(t *testing.T) {
	mem := memstore.New()
	crash := errors.New("crash")
	now := time.Now()
	cfg := Config{MaxTxnOps: 40, Now: func() time.Time { return now }}
	s1 := startService(t, mem, cfg)
	n, _ := netWithPorts(t, s1, 0, "")
	s1.cfg.Fault = func(point string) error {
		if point == "bulk-chunk-written" {
			return crash
		}
		return nil
	}
	reqs := make([]PortRequest, 30)
	for i := range reqs {
		reqs[i] = PortRequest{NetworkID: Some(n.ID), Name: Some(fmt.Sprintf("p%d", i))}
	}
	if _, err := s1.CreatePorts(adminCtx, reqs); !errors.Is(err, crash) {
		t.Fatalf("bulk: %v, want the injected crash", err)
	}
	written, _, _ := mem.ListKeys(context.Background(), store.PortsPrefix)
	if len(written) == 0 {
		t.Fatal("the first part of the bulk should be in the store")
	}
	if ports, err := s1.ListPorts(adminCtx); err != nil || len(ports) != 0 {
		t.Fatalf("ports of an unfinished bulk are visible: %d %v", len(ports), err)
	}
	s1.Close()
	later := now.Add(writeTimeout + time.Minute)
	startService(t, mem, Config{Now: func() time.Time { return later }})
	for _, prefix := range append([]string{store.PortsPrefix, store.BulksPrefix, store.MACsPrefix, store.QuotaSlotsPrefix + "admin/port/"}, store.PortIndexPrefixes...) {
		if left, _, _ := mem.ListKeys(context.Background(), prefix); len(left) > 0 {
			t.Fatalf("left under %s after recovery: %v", prefix, left)
		}
	}
}

// TestBulkRollsBackAndRetriesOnConflict: a later transaction of a split
// bulk create loses a race; the written part is rolled back and the bulk
// retried, so the client gets exactly its ports.
func TestBulkRollsBackAndRetriesOnConflict(t *testing.T) {
	mem := memstore.New()
	s := startService(t, mem, Config{MaxTxnOps: 40})
	n, _ := netWithPorts(t, s, 0, "")
	subs, err := s.ListSubnets(adminCtx)
	if err != nil || len(subs) != 1 {
		t.Fatalf("subnets %v %v", subs, err)
	}
	sub := subs[0].ID
	raced := false
	s.cfg.Fault = func(point string) error {
		if point == "bulk-chunk-written" && !raced {
			raced = true
			// Another server takes an address the next part will want.
			_, err := mem.Txn(context.Background(), nil, []store.Op{{Key: store.IPKey(sub, "10.9.0.29"), Value: []byte("other")}})
			return err
		}
		return nil
	}
	reqs := make([]PortRequest, 30)
	for i := range reqs {
		reqs[i] = PortRequest{NetworkID: Some(n.ID)}
	}
	got, err := s.CreatePorts(adminCtx, reqs)
	if err != nil || !raced {
		t.Fatalf("bulk: %v (raced %v)", err, raced)
	}
	listed, err := s.ListPorts(adminCtx)
	if err != nil || len(listed) != 30 || len(got) != 30 {
		t.Fatalf("%d ports returned, %d listed (%v), want 30", len(got), len(listed), err)
	}
	keys, _, _ := mem.ListKeys(context.Background(), store.PortsPrefix)
	if len(keys) != 30 {
		t.Fatalf("%d port keys in the store, want 30 (the first attempt's part is rolled back)", len(keys))
	}
}

// TestDefaultQuotaAndOverQuota: Neutron's defaults apply; a create beyond
// the limit is OverQuota and changes nothing.
func TestDefaultQuotaAndOverQuota(t *testing.T) {
	s := newTestService(t, segment.Config{})
	member := identity.WithContext(context.Background(), identity.Identity{ProjectID: "p1", Roles: []string{"member"}})
	q, err := s.GetQuota(member, "p1")
	if err != nil || q != (api.Quota{Network: 100, Subnet: 100, Port: 500, Router: 10, FloatingIP: 50, SecurityGroup: 10, SecurityGroupRule: 100}) {
		t.Fatalf("default quota %+v %v", q, err)
	}
	if _, err := s.UpdateQuota(member, "p1", QuotaRequest{Network: Some(1)}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("member update: %v", err)
	}
	if _, err := s.UpdateQuota(adminCtx, "p1", QuotaRequest{Network: Some(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateNetworks(member, []NetworkRequest{{}, {}}); !errors.Is(err, ErrOverQuota) {
		t.Fatalf("bulk of 2 over a quota of 1: %v", err)
	}
	if _, err := s.CreateNetworks(member, []NetworkRequest{{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateNetworks(member, []NetworkRequest{{}}); !errors.Is(err, ErrOverQuota) {
		t.Fatalf("second network over a quota of 1: %v", err)
	}
	d, err := s.QuotaDetails(member, "p1")
	if err != nil || d.Network != (api.QuotaUsage{Limit: 1, Used: 1}) {
		t.Fatalf("details %+v %v", d, err)
	}
}
