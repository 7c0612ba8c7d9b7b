package service

import (
	"context"
	"errors"
	"testing"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/ipam"
	"github.com/vland/vland/internal/segment"
	"github.com/vland/vland/internal/store/memstore"
)

var adminCtx = identity.WithContext(context.Background(), identity.Identity{ProjectID: "admin", Roles: []string{"admin"}})

func newTestService(t *testing.T, cfg segment.Config) *Service {
	t.Helper()
	st := memstore.New()
	s, err := New(context.Background(), st, Config{Segments: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); _ = st.Close() })
	return s
}

func TestSegmentTypesAndExhaustion(t *testing.T) {
	cfg := segment.DefaultConfig()
	cfg.TenantNetworkTypes = []string{"gre"}
	cfg.TunnelIDRanges = []segment.Range{{Min: 5, Max: 6}}
	cfg.FlatNetworks = []string{"ext"}
	s := newTestService(t, cfg)
	for _, want := range []int{5, 6} {
		n, err := s.CreateNetworks(adminCtx, []NetworkRequest{{}})
		if err != nil {
			t.Fatal(err)
		}
		if n[0].NetworkType != "gre" || *n[0].SegmentationID != want || n[0].MTU != 1458 {
			t.Fatalf("network %+v, want gre %d mtu 1458", n[0], want)
		}
	}
	if _, err := s.CreateNetworks(adminCtx, []NetworkRequest{{}}); !errors.Is(err, segment.ErrNoNetwork) {
		t.Fatalf("exhausted range: %v", err)
	}
	flat := NetworkRequest{NetworkType: Some("flat"), PhysicalNetwork: Some("ext")}
	n, err := s.CreateNetworks(adminCtx, []NetworkRequest{flat})
	if err != nil || n[0].MTU != 1500 || n[0].SegmentationID != nil {
		t.Fatalf("flat: %+v %v", n, err)
	}
	if _, err := s.CreateNetworks(adminCtx, []NetworkRequest{flat}); !errors.Is(err, segment.ErrFlatInUse) {
		t.Fatalf("second flat on ext: %v", err)
	}
	if err := s.DeleteNetwork(adminCtx, n[0].ID, -1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateNetworks(adminCtx, []NetworkRequest{flat}); err != nil {
		t.Fatalf("flat after its predecessor was deleted: %v", err)
	}
	local, err := s.CreateNetworks(adminCtx, []NetworkRequest{{NetworkType: Some("local")}})
	if err != nil || local[0].NetworkType != api.NetworkTypeLocal {
		t.Fatalf("local: %+v %v", local, err)
	}
	for _, bad := range []NetworkRequest{
		{NetworkType: Some("flat"), PhysicalNetwork: Some("nope")},
		{NetworkType: Some("vxlan"), PhysicalNetwork: Some("ext")},
		{NetworkType: Some("vxlan"), SegmentationID: Some(1 << 24)},
		{NetworkType: Some("vlan"), PhysicalNetwork: Some("unknown"), SegmentationID: Some(5)},
		{NetworkType: Some("bogus")},
	} {
		if _, err := s.CreateNetworks(adminCtx, []NetworkRequest{bad}); !errors.Is(err, fault.ErrInvalidInput) {
			t.Errorf("%+v: %v, want invalid input", bad, err)
		}
	}
}

func TestPoolExhaustionAndReuse(t *testing.T) {
	s := newTestService(t, segment.Config{})
	n, err := s.CreateNetworks(adminCtx, []NetworkRequest{{}})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.CreateSubnets(adminCtx, []SubnetRequest{{NetworkID: Some(n[0].ID), CIDR: Some("192.168.0.0/29"),
		AllocationPools: Some([]api.AllocationPool{{Start: "192.168.0.2", End: "192.168.0.3"}})}})
	if err != nil {
		t.Fatal(err)
	}
	var ports []api.Port
	for range 2 {
		p, err := s.CreatePorts(adminCtx, []PortRequest{{NetworkID: Some(n[0].ID)}})
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, p[0])
	}
	if _, err := s.CreatePorts(adminCtx, []PortRequest{{NetworkID: Some(n[0].ID)}}); !errors.Is(err, ipam.ErrIPExhausted) {
		t.Fatalf("exhausted pool: %v", err)
	}
	// Explicit addresses may lie outside the pools but inside the subnet.
	out, err := s.CreatePorts(adminCtx, []PortRequest{{NetworkID: Some(n[0].ID),
		FixedIPs: Some([]api.FixedIP{{SubnetID: sub[0].ID, IPAddress: "192.168.0.6"}})}})
	if err != nil || out[0].FixedIPs[0].IPAddress != "192.168.0.6" {
		t.Fatalf("explicit outside pool: %+v %v", out, err)
	}
	if err := s.DeletePort(adminCtx, ports[0].ID, -1); err != nil {
		t.Fatal(err)
	}
	again, err := s.CreatePorts(adminCtx, []PortRequest{{NetworkID: Some(n[0].ID)}})
	if err != nil || again[0].FixedIPs[0] != ports[0].FixedIPs[0] {
		t.Fatalf("freed address not handed out again: %+v %v", again, err)
	}
}

func TestNoIdentityIsUnauthenticated(t *testing.T) {
	s := newTestService(t, segment.Config{})
	if _, err := s.ListNetworks(context.Background()); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("no identity: %v", err)
	}
}

func TestDualStackPortGetsOneAddressPerVersion(t *testing.T) {
	s := newTestService(t, segment.Config{})
	n, err := s.CreateNetworks(adminCtx, []NetworkRequest{{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, cidr := range []string{"10.0.0.0/24", "10.0.1.0/24", "fd00::/64"} {
		if _, err := s.CreateSubnets(adminCtx, []SubnetRequest{{NetworkID: Some(n[0].ID), CIDR: Some(cidr)}}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.CreatePorts(adminCtx, []PortRequest{{NetworkID: Some(n[0].ID)}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range p[0].FixedIPs {
		got = append(got, f.IPAddress)
	}
	if len(got) != 2 || got[0] != "10.0.0.2" || got[1] != "fd00::2" {
		t.Fatalf("addresses %v, want [10.0.0.2 fd00::2]", got)
	}
}
