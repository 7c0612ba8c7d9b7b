package service

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/segment"
)

// l3Setup makes an external network with a /29 subnet, a project network
// with a subnet and a router between them.
func l3Setup(t *testing.T, s *Service) (member context.Context, ext, sub, router string) {
	t.Helper()
	member = identity.WithContext(context.Background(), identity.Identity{ProjectID: "p1", Roles: []string{"member"}})
	n, err := s.CreateNetworks(adminCtx, []NetworkRequest{{External: Some(true)}})
	if err != nil {
		t.Fatal(err)
	}
	ext = n[0].ID
	if _, err := s.CreateSubnets(adminCtx, []SubnetRequest{{NetworkID: Some(ext), CIDR: Some("203.0.113.0/29"), IPVersion: Some(4)}}); err != nil {
		t.Fatal(err)
	}
	pn, err := s.CreateNetworks(member, []NetworkRequest{{}})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := s.CreateSubnets(member, []SubnetRequest{{NetworkID: Some(pn[0].ID), CIDR: Some("10.0.0.0/24"), IPVersion: Some(4)}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.CreateRouters(member, []RouterRequest{{ExternalGateway: Some(GatewayRequest{NetworkID: ext})}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddRouterInterface(member, r[0].ID, InterfaceRequest{SubnetID: ps[0].ID}); err != nil {
		t.Fatal(err)
	}
	return member, ext, ps[0].ID, r[0].ID
}

// TestFloatingIPsShareTheExternalSubnet: concurrent floating IP creates
// get distinct addresses until the external subnet is exhausted (the
// gateway took .2 of .2-.6), and the losers get 409, not a duplicate.
func TestFloatingIPsShareTheExternalSubnet(t *testing.T) {
	s := newTestService(t, segment.Config{})
	member, ext, _, _ := l3Setup(t, s)
	var mu sync.Mutex
	got := map[string]bool{}
	var wg sync.WaitGroup
	var failures int
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := s.CreateFloatingIPs(member, []FloatingIPRequest{{FloatingNetworkID: Some(ext)}})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failures++
				return
			}
			if got[f[0].FloatingIPAddress] {
				t.Errorf("address %s given twice", f[0].FloatingIPAddress)
			}
			got[f[0].FloatingIPAddress] = true
		}()
	}
	wg.Wait()
	if len(got) != 4 || failures != 4 {
		t.Fatalf("%d floating IPs (%v), %d failures; want 4 and 4", len(got), got, failures)
	}
}

// TestConcurrentPortForwardingsOnOneExternalPort: of two forwardings of
// the same external port created at once, exactly one wins.
func TestConcurrentPortForwardingsOnOneExternalPort(t *testing.T) {
	s := newTestService(t, segment.Config{})
	member, ext, sub, _ := l3Setup(t, s)
	f, err := s.CreateFloatingIPs(member, []FloatingIPRequest{{FloatingNetworkID: Some(ext)}})
	if err != nil {
		t.Fatal(err)
	}
	var ports []api.Port
	for range 2 {
		n, _ := s.cache.subnet(sub)
		p, err := s.CreatePorts(member, []PortRequest{{NetworkID: Some(n.obj.NetworkID)}})
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, p[0])
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.CreatePortForwarding(member, f[0].ID, PortForwardingRequest{Protocol: Some("tcp"),
				InternalPortID: Some(ports[i].ID), InternalPort: Some(80), ExternalPort: Some(8080)})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, ErrPortForwardingConflict) {
			t.Fatalf("loser's error %v, want a conflict", err)
		}
	}
	pfs, err := s.ListPortForwardings(member, f[0].ID)
	if ok != 1 || err != nil || len(pfs) != 1 {
		t.Fatalf("%d winners, forwardings %v (%v)", ok, pfs, err)
	}
}
