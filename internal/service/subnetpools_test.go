package service

import (
	"context"
	"errors"
	"testing"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/ipam"
	"github.com/vland/vland/internal/segment"
)

func TestSubnetPoolAllocation(t *testing.T) {
	s := newTestService(t, segment.Config{})
	ctx := identity.WithContext(context.Background(), identity.Identity{ProjectID: "p1", Roles: []string{"member"}})
	pools, err := s.CreateSubnetPools(ctx, []SubnetPoolRequest{{Prefixes: Some([]string{"10.1.0.0/24"}), DefaultPrefixLen: Some(26),
		DefaultQuota: Some(128)}})
	if err != nil {
		t.Fatal(err)
	}
	pool := pools[0]
	if pool.MinPrefixLen != 8 || pool.MaxPrefixLen != 32 || *pool.DefaultQuota != 128 {
		t.Fatalf("pool %+v", pool)
	}
	nets, err := s.CreateNetworks(ctx, []NetworkRequest{{}})
	if err != nil {
		t.Fatal(err)
	}
	req := func(len int) SubnetRequest {
		return SubnetRequest{NetworkID: Some(nets[0].ID), SubnetPoolID: Some(pool.ID), Prefixlen: Some(len)}
	}
	// Quota 128 addresses: a /26 and a /27 fit, then nothing more.
	a, err := s.CreateSubnets(ctx, []SubnetRequest{req(26)})
	if err != nil || a[0].CIDR != "10.1.0.0/26" || *a[0].GatewayIP != "10.1.0.1" || len(a[0].AllocationPools) != 1 {
		t.Fatalf("first: %+v %v", a, err)
	}
	if b, err := s.CreateSubnets(ctx, []SubnetRequest{req(27)}); err != nil || b[0].CIDR != "10.1.0.64/27" {
		t.Fatalf("second: %+v %v", b, err)
	}
	if _, err := s.CreateSubnets(ctx, []SubnetRequest{req(26)}); !errors.Is(err, ErrPoolQuotaExceeded) {
		t.Fatalf("over quota: %v", err)
	}
	// In one bulk create, the earlier subnets count too (3 × 16 > the 32 left).
	if _, err := s.CreateSubnets(ctx, []SubnetRequest{req(28), req(28), req(28)}); !errors.Is(err, ErrPoolQuotaExceeded) {
		t.Fatalf("bulk over quota: %v", err)
	}
	// A failed attempt (bad allocation pool) gives its prefix back.
	bad := req(27)
	bad.AllocationPools = Some([]api.AllocationPool{{Start: "192.0.2.2", End: "192.0.2.5"}})
	if _, err := s.CreateSubnets(ctx, []SubnetRequest{bad}); !errors.Is(err, ipam.ErrInvalidPool) {
		t.Fatalf("allocation pool outside the subnet: %v", err)
	}
	if _, err := s.UpdateSubnetPool(ctx, pool.ID, SubnetPoolRequest{DefaultQuota: Opt[int]{Set: true, Null: true}}, -1); err != nil {
		t.Fatal(err)
	}
	if c, err := s.CreateSubnets(ctx, []SubnetRequest{req(27)}); err != nil || c[0].CIDR != "10.1.0.96/27" {
		t.Fatalf("after the failed attempt: %+v %v", c, err)
	}
	// Prefixes in use cannot be removed; free ones can.
	if _, err := s.RemovePrefixes(ctx, pool.ID, []string{"10.1.0.64/26"}); !errors.Is(err, ErrPoolUpdate) {
		t.Fatalf("removing a used prefix: %v", err)
	}
	if _, err := s.AddPrefixes(ctx, pool.ID, []string{"10.2.0.0/24"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.RemovePrefixes(ctx, pool.ID, []string{"10.2.0.128/25"}); err != nil || len(got) != 2 || got[1] != "10.2.0.0/25" {
		t.Fatalf("remove a free prefix: %v %v", got, err)
	}
	if err := s.DeleteSubnetPool(ctx, pool.ID, -1); !errors.Is(err, ErrPoolDelete) {
		t.Fatalf("deleting a pool in use: %v", err)
	}
	if err := s.DeleteNetwork(ctx, nets[0].ID, -1); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSubnetPool(ctx, pool.ID, -1); err != nil {
		t.Fatalf("deleting an unused pool: %v", err)
	}
}

func TestAddressScopeInUse(t *testing.T) {
	s := newTestService(t, segment.Config{})
	scopes, err := s.CreateAddressScopes(adminCtx, []AddressScopeRequest{{IPVersion: Some(6)}})
	if err != nil {
		t.Fatal(err)
	}
	id := scopes[0].ID
	pools, err := s.CreateSubnetPools(adminCtx, []SubnetPoolRequest{
		{Prefixes: Some([]string{"fd00:1::/48"}), AddressScopeID: Some(id)},
		{Prefixes: Some([]string{"fd00:2::/48"}), AddressScopeID: Some(id)},
	})
	if err != nil || pools[0].MinPrefixLen != 64 || pools[0].MaxPrefixLen != 128 {
		t.Fatalf("pools %+v %v", pools, err)
	}
	if _, err := s.CreateSubnetPools(adminCtx, []SubnetPoolRequest{
		{Prefixes: Some([]string{"fd00:3::/48"}), AddressScopeID: Some(id)},
		{Prefixes: Some([]string{"fd00:3:0:1::/64"}), AddressScopeID: Some(id)},
	}); !errors.Is(err, ErrScopePrefixConflict) {
		t.Fatalf("overlapping pools in one bulk create: %v", err)
	}
	if err := s.DeleteAddressScope(adminCtx, id, -1); !errors.Is(err, ErrScopeInUse) {
		t.Fatalf("deleting a scope in use: %v", err)
	}
	for _, p := range pools {
		if err := s.DeleteSubnetPool(adminCtx, p.ID, -1); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteAddressScope(adminCtx, id, -1); err != nil {
		t.Fatal(err)
	}
}
