package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/segment"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

// TestSecGroupMigratesOldPorts: ports written before security groups
// (groups stored unchecked, no marker) get their project's default group
// at start-up, unless they have no port security or belong to the network.
func TestSecGroupMigratesOldPorts(t *testing.T) {
	st := memstore.New()
	defer st.Close()
	ctx := context.Background()
	old := func(id string, psec bool, owner string, groups []string) storedPort {
		return storedPort{Port: api.Port{ID: id, ProjectID: "p1", TenantID: "p1", NetworkID: "n1",
			MACAddress: "fa:16:3e:00:00:0" + id[len(id)-1:], PortSecurityEnabled: psec, DeviceOwner: owner,
			SecurityGroups: groups, FixedIPs: []api.FixedIP{}}}
	}
	ports := []storedPort{
		old("port1", true, "", []string{}),
		old("port2", false, "", []string{}),
		old("port3", true, "network:dhcp", []string{}),
		old("port4", true, "", []string{"no-such-group"}),
	}
	for _, p := range ports {
		if _, err := st.Txn(ctx, nil, []store.Op{{Key: store.PortKey(p.ID), Value: mustJSON(p)}}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(ctx, st, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	def := defaultSecGroupID("p1")
	want := map[string][]string{"port1": {def}, "port2": {}, "port3": {}, "port4": {def}}
	p1 := memberCtx("p1")
	for id, groups := range want {
		p, err := s.GetPort(p1, id)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(p.SecurityGroups) != fmt.Sprint(groups) {
			t.Errorf("%s: groups %v, want %v", id, p.SecurityGroups, groups)
		}
	}
	if _, err := s.GetSecurityGroup(p1, def); err != nil {
		t.Fatalf("default group not created: %v", err)
	}
	keys, _, err := st.ListKeys(ctx, store.SecGroupPortsOf(def))
	if err != nil || len(keys) != 2 {
		t.Fatalf("index keys %v %v, want port1 and port4", keys, err)
	}
	if err := s.DeleteSecurityGroup(adminCtx, def, -1); !errors.Is(err, ErrSecGroupInUse) {
		t.Fatalf("delete of the migrated ports' group: %v", err)
	}
}

// TestSecGroupDefaultOnce: concurrent first uses create one default group.
func TestSecGroupDefaultOnce(t *testing.T) {
	s := newTestService(t, segment.Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.ListSecurityGroups(memberCtx("p1"))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	gs, _ := s.ListSecurityGroups(memberCtx("p1"))
	if len(gs) != 1 || gs[0].Name != "default" || len(gs[0].SecurityGroupRules) != 4 {
		t.Fatalf("groups %+v", gs)
	}
	if n := s.cache.used("p1", quotaSecGroupRule); n != 4 {
		t.Fatalf("rule usage %d, want 4", n)
	}
}

// TestSecGroupDeleteRacesPortCreate: a port joining a group while the
// group is deleted: exactly one of them wins, never both.
func TestSecGroupDeleteRacesPortCreate(t *testing.T) {
	s := newTestService(t, segment.Config{})
	ctx := memberCtx("p1")
	n, err := s.CreateNetworks(ctx, []NetworkRequest{{}})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for i := 0; i < 30; i++ {
		g, err := s.CreateSecurityGroups(ctx, []SecurityGroupRequest{{Name: Some("g")}})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var portErr, delErr error
		var port []api.Port
		wg.Add(2)
		go func() {
			defer wg.Done()
			port, portErr = s.CreatePorts(ctx, []PortRequest{{NetworkID: Some(n[0].ID), SecurityGroups: Some([]string{g[0].ID})}})
		}()
		go func() { defer wg.Done(); delErr = s.DeleteSecurityGroup(ctx, g[0].ID, -1) }()
		wg.Wait()
		switch {
		case portErr == nil && errors.Is(delErr, ErrSecGroupInUse):
			outcomes["port"]++
			if err := s.DeletePort(ctx, port[0].ID, -1); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteSecurityGroup(ctx, g[0].ID, -1); err != nil {
				t.Fatal(err)
			}
		case delErr == nil && errors.Is(portErr, ErrSecGroupNotFound):
			outcomes["delete"]++
		default:
			t.Fatalf("port create %v, group delete %v", portErr, delErr)
		}
	}
	t.Logf("outcomes %v", outcomes)
}
