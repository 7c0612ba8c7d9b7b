package server_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// TestGophercloud drives the API with gophercloud, which is strict about
// status codes and shapes (noauth: the token is not checked).
func TestGophercloud(t *testing.T) {
	ctx := context.Background()
	base := srv.URL()
	c := &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{TokenID: "t", HTTPClient: http.Client{}},
		Endpoint: base + "/", ResourceBase: base + "/v2.0/"}
	up := true
	n, err := networks.Create(ctx, c, networks.CreateOpts{Name: "gc-net", AdminStateUp: &up}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	s, err := subnets.Create(ctx, c, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.80.0.0/24", IPVersion: gophercloud.IPv4}).Extract()
	if err != nil || s.GatewayIP != "10.80.0.1" {
		t.Fatalf("subnet %+v: %v", s, err)
	}
	p, err := ports.Create(ctx, c, ports.CreateOpts{NetworkID: n.ID, Name: "gc-port"}).Extract()
	if err != nil || len(p.FixedIPs) != 1 || p.FixedIPs[0].IPAddress != "10.80.0.2" {
		t.Fatalf("port %+v: %v", p, err)
	}
	name := "gc-net2"
	rev := n.RevisionNumber + 1 // the subnet create bumped it once
	if _, err := networks.Update(ctx, c, n.ID, networks.UpdateOpts{Name: &name, RevisionNumber: &rev}).Extract(); err != nil {
		t.Fatal(err)
	}
	stale := 1
	_, err = networks.Update(ctx, c, n.ID, networks.UpdateOpts{Name: &name, RevisionNumber: &stale}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusPreconditionFailed) {
		t.Fatalf("stale revision: %v", err)
	}
	var seen int
	err = ports.List(c, ports.ListOpts{NetworkID: n.ID}).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
		all, err := ports.ExtractPorts(page)
		seen += len(all)
		return true, err
	})
	if err != nil || seen != 1 {
		t.Fatalf("list: %d ports, %v", seen, err)
	}
	if err := ports.Delete(ctx, c, p.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := networks.Delete(ctx, c, n.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	_, err = networks.Get(ctx, c, n.ID).Extract()
	var unexpected gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &unexpected) || unexpected.Actual != http.StatusNotFound {
		t.Fatalf("get after delete: %v", err)
	}
}

// TestGophercloudQuotas: gophercloud's networking quotas (get, details,
// update) against the quotas extension.
func TestGophercloudQuotas(t *testing.T) {
	ctx := context.Background()
	base := srv.URL()
	c := &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{TokenID: "t", HTTPClient: http.Client{}},
		Endpoint: base + "/", ResourceBase: base + "/v2.0/"}
	four := 4
	q, err := quotas.Update(ctx, c, "proj-gc-quota", quotas.UpdateOpts{Network: &four}).Extract()
	if err != nil || q.Network != 4 || q.Port != -1 {
		t.Fatalf("update: %+v %v", q, err)
	}
	if q, err = quotas.Get(ctx, c, "proj-gc-quota").Extract(); err != nil || q.Network != 4 {
		t.Fatalf("get: %+v %v", q, err)
	}
	d, err := quotas.GetDetail(ctx, c, "proj-gc-quota").Extract()
	if err != nil || d.Network.Limit != 4 || d.Network.Used != 0 {
		t.Fatalf("details: %+v %v", d, err)
	}
}
