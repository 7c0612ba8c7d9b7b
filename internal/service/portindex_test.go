package service

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
	"github.com/vland/vland/internal/store/storetest"
)

// requireIndex checks the port index ranges against the ports in st: every
// index key a port has (store.PortIndexKeys) holds the port's stored
// bytes, and no other index key exists.
func requireIndex(t *testing.T, st store.Store, step string) {
	t.Helper()
	ctx := context.Background()
	ports, _, err := st.List(ctx, store.PortsPrefix)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, kv := range ports {
		var p api.Port
		if err := json.Unmarshal(kv.Value, &p); err != nil {
			t.Fatal(err)
		}
		for _, k := range store.PortIndexKeys(&p) {
			want[k] = string(kv.Value)
		}
	}
	got := map[string]string{}
	for _, prefix := range store.PortIndexPrefixes {
		kvs, _, err := st.List(ctx, prefix)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range kvs {
			got[kv.Key] = string(kv.Value)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: index key %s missing", step, k)
		} else if g != want[k] {
			t.Errorf("%s: index key %s holds %.80q, not its port's JSON", step, k, g)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: stale index key %s", step, k)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// hasKey reports whether key exists in st.
func hasKey(t *testing.T, st store.Store, key string) bool {
	t.Helper()
	keys, _, err := st.ListKeys(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(keys, key)
}

// must returns v, failing the test (by panic: it takes a call's two
// results as they are) on an error.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// onStores runs test on a memstore and on embedded etcd.
func onStores(t *testing.T, test func(t *testing.T, st store.Store)) {
	t.Run("memstore", func(t *testing.T) {
		mem := memstore.New()
		defer mem.Close()
		test(t, mem)
	})
	t.Run("etcd", func(t *testing.T) { test(t, storetest.NewEtcd(t)) })
}

// TestPortIndexFollowsEveryPortWrite runs every kind of port write the
// service makes and checks after each that the index ranges are exactly
// what store.PortOps describes.
func TestPortIndexFollowsEveryPortWrite(t *testing.T) {
	onStores(t, testPortIndexFollowsEveryPortWrite)
}

func testPortIndexFollowsEveryPortWrite(t *testing.T, mem store.Store) {
	s := startService(t, mem, Config{MaxTxnOps: 40})
	ctx := context.Background()
	n := must(s.CreateNetworks(adminCtx, []NetworkRequest{{}}))[0]
	sub := must(s.CreateSubnets(adminCtx, []SubnetRequest{{NetworkID: Some(n.ID), CIDR: Some("10.9.0.0/22")}}))[0]
	sub2 := must(s.CreateSubnets(adminCtx, []SubnetRequest{{NetworkID: Some(n.ID), CIDR: Some("10.10.0.0/24")}}))[0]
	g := must(s.CreateSecurityGroups(adminCtx, []SecurityGroupRequest{{Name: Some("g")}}))[0]

	p1 := must(s.CreatePorts(adminCtx, []PortRequest{{NetworkID: Some(n.ID), BindingHostID: Some("h1"),
		SecurityGroups: Some([]string{g.ID})}}))[0]
	requireIndex(t, mem, "create")
	for _, k := range []string{store.NetworkPortKey(n.ID, p1.ID), store.HostPortKey("h1", p1.ID), store.SecGroupPortKey(g.ID, p1.ID)} {
		if !hasKey(t, mem, k) {
			t.Fatalf("create: no %s", k)
		}
	}

	must(s.UpdatePort(adminCtx, p1.ID, PortRequest{BindingHostID: Some("h2"), SecurityGroups: Some([]string{})}, -1))
	requireIndex(t, mem, "update (moved to h2, left the group)")
	if hasKey(t, mem, store.HostPortKey("h1", p1.ID)) || hasKey(t, mem, store.SecGroupPortKey(g.ID, p1.ID)) {
		t.Fatal("update: the old host's or group's key is left")
	}

	reqs := make([]PortRequest, 30) // more than one transaction: a bulk
	for i := range reqs {
		reqs[i] = PortRequest{NetworkID: Some(n.ID), BindingHostID: Some("h1"), Name: Some(fmt.Sprintf("b%d", i))}
	}
	must(s.CreatePorts(adminCtx, reqs))
	requireIndex(t, mem, "bulk create")

	if err := s.AddTag(adminCtx, "ports", p1.ID, "red"); err != nil {
		t.Fatal(err)
	}
	requireIndex(t, mem, "tag")

	r := must(s.CreateRouters(adminCtx, []RouterRequest{{Name: Some("r")}}))[0]
	ri := must(s.AddRouterInterface(adminCtx, r.ID, InterfaceRequest{SubnetID: sub.ID}))
	requireIndex(t, mem, "router interface by subnet")
	if !hasKey(t, mem, store.RouterPortKey(r.ID, ri.PortID)) {
		t.Fatal("no router-ports key for the interface")
	}
	n2 := must(s.CreateNetworks(adminCtx, []NetworkRequest{{}}))[0]
	must(s.CreateSubnets(adminCtx, []SubnetRequest{{NetworkID: Some(n2.ID), CIDR: Some("10.20.0.0/24")}}))
	adopt := must(s.CreatePorts(adminCtx, []PortRequest{{NetworkID: Some(n2.ID)}}))[0]
	must(s.AddRouterInterface(adminCtx, r.ID, InterfaceRequest{PortID: adopt.ID}))
	requireIndex(t, mem, "router interface by port")
	if !hasKey(t, mem, store.RouterPortKey(r.ID, adopt.ID)) {
		t.Fatal("no router-ports key for the adopted port")
	}

	dhcp := must(s.CreatePorts(adminCtx, []PortRequest{{NetworkID: Some(n.ID), DeviceOwner: Some(DeviceOwnerDHCP),
		BindingHostID: Some("h3"), FixedIPs: Some([]api.FixedIP{{SubnetID: sub.ID}, {SubnetID: sub2.ID}})}}))[0]
	if err := s.DeleteSubnet(adminCtx, sub2.ID, -1); err != nil {
		t.Fatal(err)
	}
	requireIndex(t, mem, "subnet delete (the DHCP port loses its address)")

	// A port's status records and their per-network copies go with it.
	_, err := mem.Txn(ctx, nil, []store.Op{{Key: store.PortStatusKey("h2", p1.ID), Value: []byte(`{"status":"ACTIVE"}`)},
		{Key: store.NetworkStatusKey(n.ID, "h2", p1.ID), Value: []byte(`{"status":"ACTIVE"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cache.sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePort(adminCtx, p1.ID, -1); err != nil {
		t.Fatal(err)
	}
	requireIndex(t, mem, "delete")
	if hasKey(t, mem, store.PortStatusKey("h2", p1.ID)) || hasKey(t, mem, store.NetworkStatusKey(n.ID, "h2", p1.ID)) {
		t.Fatal("delete: the status record or its network copy is left")
	}

	must(s.RemoveRouterInterface(adminCtx, r.ID, InterfaceRequest{PortID: adopt.ID}))
	requireIndex(t, mem, "router interface removed")

	// Gateway and floating IP ports.
	ext := must(s.CreateNetworks(adminCtx, []NetworkRequest{{External: Some(true)}}))[0]
	must(s.CreateSubnets(adminCtx, []SubnetRequest{{NetworkID: Some(ext.ID), CIDR: Some("172.24.0.0/24")}}))
	must(s.UpdateRouter(adminCtx, r.ID, RouterRequest{ExternalGateway: Some(GatewayRequest{NetworkID: ext.ID})}, -1))
	fip := must(s.CreateFloatingIPs(adminCtx, []FloatingIPRequest{{FloatingNetworkID: Some(ext.ID)}}))[0]
	requireIndex(t, mem, "gateway and floating IP")
	if err := s.DeleteFloatingIP(adminCtx, fip.ID, -1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveRouterInterface(adminCtx, r.ID, InterfaceRequest{SubnetID: sub.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRouter(adminCtx, r.ID, -1); err != nil {
		t.Fatal(err)
	}
	requireIndex(t, mem, "router and floating IP deleted")
	if keys, _, _ := mem.ListKeys(ctx, store.RouterPortsOf(r.ID)); len(keys) > 0 {
		t.Fatalf("router-ports left: %v", keys)
	}

	// A network delete takes its network-owned ports along (it reads their
	// device_owner from the index copies).
	n3 := must(s.CreateNetworks(adminCtx, []NetworkRequest{{}}))[0]
	must(s.CreateSubnets(adminCtx, []SubnetRequest{{NetworkID: Some(n3.ID), CIDR: Some("10.30.0.0/24")}}))
	must(s.CreatePorts(adminCtx, []PortRequest{{NetworkID: Some(n3.ID), DeviceOwner: Some(DeviceOwnerDHCP), BindingHostID: Some("h3")}}))
	if err := s.DeleteNetwork(adminCtx, n3.ID, -1); err != nil {
		t.Fatal(err)
	}
	requireIndex(t, mem, "network deleted with its DHCP port")
	if err := s.DeletePort(adminCtx, dhcp.ID, -1); err != nil {
		t.Fatal(err)
	}
	requireIndex(t, mem, "DHCP port deleted")
}

// TestPortIndexMigration: a server starting on a store of the old layout
// (network-ports valued with the device_owner, secgroup-ports with the
// project, no host or router ranges, stale keys of ports gone or moved)
// brings the index ranges up to date, and a second start writes nothing.
func TestPortIndexMigration(t *testing.T) { onStores(t, testPortIndexMigration) }

func testPortIndexMigration(t *testing.T, mem store.Store) {
	ctx := context.Background()
	s1 := startService(t, mem, Config{})
	n := must(s1.CreateNetworks(adminCtx, []NetworkRequest{{}}))[0]
	sub := must(s1.CreateSubnets(adminCtx, []SubnetRequest{{NetworkID: Some(n.ID), CIDR: Some("10.9.0.0/22")}}))[0]
	g := must(s1.CreateSecurityGroups(adminCtx, []SecurityGroupRequest{{Name: Some("g")}}))[0]
	p1 := must(s1.CreatePorts(adminCtx, []PortRequest{{NetworkID: Some(n.ID), BindingHostID: Some("h1"),
		SecurityGroups: Some([]string{g.ID})}}))[0]
	p2 := must(s1.CreatePorts(adminCtx, []PortRequest{{NetworkID: Some(n.ID), BindingHostID: Some("h2")}}))[0]
	r := must(s1.CreateRouters(adminCtx, []RouterRequest{{Name: Some("r")}}))[0]
	must(s1.AddRouterInterface(adminCtx, r.ID, InterfaceRequest{SubnetID: sub.ID}))
	s1.Close()

	// Rewrite the index ranges as an older server left them.
	ports, _, err := mem.List(ctx, store.PortsPrefix)
	if err != nil {
		t.Fatal(err)
	}
	var ops []store.Op
	for _, prefix := range store.PortIndexPrefixes {
		keys, _, _ := mem.ListKeys(ctx, prefix)
		for _, k := range keys {
			ops = append(ops, store.Op{Key: k, Delete: true})
		}
	}
	if _, err := mem.Txn(ctx, nil, ops); err != nil {
		t.Fatal(err)
	}
	ops = nil
	for _, kv := range ports {
		var p api.Port
		if err := json.Unmarshal(kv.Value, &p); err != nil {
			t.Fatal(err)
		}
		ops = append(ops, store.Op{Key: store.NetworkPortKey(p.NetworkID, p.ID), Value: []byte(p.DeviceOwner)})
		for _, gid := range p.SecurityGroups {
			ops = append(ops, store.Op{Key: store.SecGroupPortKey(gid, p.ID), Value: []byte(p.ProjectID)})
		}
	}
	stale := []string{
		store.NetworkPortKey(n.ID, "gone"), store.HostPortKey("h1", "gone"), // a port deleted
		store.HostPortKey("h9", p2.ID), store.SecGroupPortKey(g.ID, p2.ID), // a port moved, left a group
		store.RouterPortKey("r-old", p1.ID),
	}
	for _, k := range stale {
		ops = append(ops, store.Op{Key: k, Value: []byte("x")})
	}
	ops = append(ops, store.Op{Key: store.HostPortKey("h1", p1.ID), Value: []byte(`{"id":"` + p1.ID + `","old":true}`)})
	if _, err := mem.Txn(ctx, nil, ops); err != nil {
		t.Fatal(err)
	}
	if v, err := mem.Get(ctx, store.NetworkPortKey(n.ID, p1.ID)); err != nil || string(v.Value) != "" {
		t.Fatalf("old layout not in place: %q %v", v.Value, err)
	}

	s2 := startService(t, mem, Config{})
	requireIndex(t, mem, "after the migration")
	for _, k := range stale {
		if hasKey(t, mem, k) {
			t.Errorf("stale %s kept", k)
		}
	}
	// The migrated index serves its readers: the group is in use, the
	// network has a tenant port.
	if err := s2.DeleteSecurityGroup(adminCtx, g.ID, -1); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("group delete: %v, want in use", err)
	}
	if err := s2.DeleteNetwork(adminCtx, n.ID, -1); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("network delete: %v, want in use", err)
	}
	s2.Close()

	_, before, err := mem.ListKeys(ctx, store.PortsPrefix)
	if err != nil {
		t.Fatal(err)
	}
	startService(t, mem, Config{}).Close()
	_, after, err := mem.ListKeys(ctx, store.PortsPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatalf("a second start wrote (store revision %d -> %d)", before, after)
	}
	requireIndex(t, mem, "after a second start")
}
