package service

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/segment"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

func memberCtx(project string) context.Context {
	return identity.WithContext(context.Background(), identity.Identity{ProjectID: project, Roles: []string{"member"}})
}

// TestRBACRevokeSeesPortCreatedMeanwhile: a port the target creates
// between the revoke's check and its write (possibly through another
// server, whose cache this one has not seen) fails the revoke's
// transaction; the retry finds the port and answers RbacPolicyInUse.
func TestRBACRevokeSeesPortCreatedMeanwhile(t *testing.T) {
	s := newTestService(t, segment.Config{})
	owner, target := memberCtx("owner"), memberCtx("target")
	n, err := s.CreateNetworks(owner, []NetworkRequest{{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSubnets(owner, []SubnetRequest{{NetworkID: Some(n[0].ID), CIDR: Some("10.9.0.0/24")}}); err != nil {
		t.Fatal(err)
	}
	p, err := s.CreateRBACPolicies(owner, []RBACRequest{{ObjectType: Some("network"), ObjectID: Some(n[0].ID),
		Action: Some(api.RBACAccessShared), TargetTenant: Some("target")}})
	if err != nil {
		t.Fatal(err)
	}
	raced := false
	s.cfg.Fault = func(point string) error {
		if point == "rbac-revoke-checked" && !raced {
			raced = true
			if _, err := s.CreatePorts(target, []PortRequest{{NetworkID: Some(n[0].ID)}}); err != nil {
				t.Errorf("port create inside the race window: %v", err)
			}
		}
		return nil
	}
	if err := s.DeleteRBACPolicy(owner, p[0].ID, -1); !errors.Is(err, ErrRBACPolicyInUse) {
		t.Fatalf("revoke racing with a port create: %v, want RbacPolicyInUse", err)
	}
	if !raced {
		t.Fatal("the fault point was never reached")
	}
	if _, err := s.GetRBACPolicy(owner, p[0].ID); err != nil {
		t.Fatalf("the refused revoke lost the policy: %v", err)
	}
}

// TestRBACLegacyNetworks: networks stored before vland had RBAC (shared
// and external flags, no policies) read as having the wildcard policies,
// with stable ids, which can be deleted like any other.
func TestRBACLegacyNetworks(t *testing.T) {
	mem := memstore.New()
	old, _ := json.Marshal(api.Network{ID: "legacy-net", ProjectID: "owner", TenantID: "owner", Shared: true, External: true,
		Subnets: []string{}, RevisionNumber: 1})
	if _, err := mem.Txn(context.Background(), nil, []store.Op{{Key: store.NetworkKey("legacy-net"), Value: old}}); err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), mem, Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); _ = mem.Close() })
	other := memberCtx("other")
	if n, err := s.GetNetwork(other, "legacy-net"); err != nil || !n.Shared || !n.External {
		t.Fatalf("another project sees the legacy shared network as %+v, %v", n, err)
	}
	list := func() []api.RBACPolicy {
		l, err := s.ListRBACPolicies(memberCtx("owner"))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	first := list()
	if len(first) != 2 || first[0].TargetTenant != "*" || first[1].TargetTenant != "*" {
		t.Fatalf("legacy policies %+v", first)
	}
	if again := list(); again[0].ID != first[0].ID || again[1].ID != first[1].ID {
		t.Fatalf("legacy policy ids change: %+v then %+v", first, again)
	}
	for _, p := range first {
		if err := s.DeleteRBACPolicy(memberCtx("owner"), p.ID, -1); err != nil {
			t.Fatalf("delete %s: %v", p.Action, err)
		}
	}
	if _, err := s.GetNetwork(other, "legacy-net"); !errors.Is(err, ErrNetworkNotFound) {
		t.Fatalf("after deleting its policies another project still sees the network: %v", err)
	}
	if n, err := s.GetNetwork(memberCtx("owner"), "legacy-net"); err != nil || n.Shared || !n.External {
		t.Fatalf("owner sees %+v, %v (shared off, external kept)", n, err)
	}
}
