package server_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/networkipavailabilities"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/subnetpools"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// TestGophercloudSubnetPools drives subnet pools (with the prefix
// operations), a subnet from a pool and IP availability with gophercloud,
// which is strict about status codes and shapes.
func TestGophercloudSubnetPools(t *testing.T) {
	ctx := context.Background()
	base := srv.URL()
	c := &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{TokenID: "t", HTTPClient: http.Client{}},
		Endpoint: base + "/", ResourceBase: base + "/v2.0/"}
	p, err := subnetpools.Create(ctx, c, subnetpools.CreateOpts{Name: "gc-pool", Prefixes: []string{"10.130.0.0/24", "10.130.1.0/24"},
		DefaultPrefixLen: 26, MaxPrefixLen: 28}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Prefixes, []string{"10.130.0.0/23"}) || p.DefaultPrefixLen != 26 || p.MinPrefixLen != 8 || p.MaxPrefixLen != 28 || p.IPversion != 4 {
		t.Fatalf("pool %+v", p)
	}
	name := "gc-pool2"
	if p, err = subnetpools.Update(ctx, c, p.ID, subnetpools.UpdateOpts{Name: name}).Extract(); err != nil || p.Name != name || p.RevisionNumber != 2 {
		t.Fatalf("update: %+v %v", p, err)
	}
	prefixes, err := subnetpools.AddPrefixes(ctx, c, p.ID, subnetpools.PrefixesOpsOpts{Prefixes: []string{"10.130.4.0/24"}}).Extract()
	if err != nil || !slices.Equal(prefixes, []string{"10.130.0.0/23", "10.130.4.0/24"}) {
		t.Fatalf("add_prefixes: %v %v", prefixes, err)
	}
	if prefixes, err = subnetpools.RemovePrefixes(ctx, c, p.ID, subnetpools.PrefixesOpsOpts{Prefixes: []string{"10.130.4.0/24"}}).Extract(); err != nil || len(prefixes) != 1 {
		t.Fatalf("remove_prefixes: %v %v", prefixes, err)
	}
	pages, err := subnetpools.List(c, subnetpools.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if all, err := subnetpools.ExtractSubnetPools(pages); err != nil || len(all) != 1 || all[0].ID != p.ID {
		t.Fatalf("list: %+v %v", all, err)
	}

	n, err := networks.Create(ctx, c, networks.CreateOpts{Name: "gc-pool-net"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	s, err := subnets.Create(ctx, c, subnets.CreateOpts{NetworkID: n.ID, IPVersion: gophercloud.IPv4, SubnetPoolID: p.ID, Prefixlen: 27}).Extract()
	if err != nil || s.CIDR != "10.130.0.0/27" || s.SubnetPoolID != p.ID {
		t.Fatalf("subnet from the pool: %+v %v", s, err)
	}
	a, err := networkipavailabilities.Get(ctx, c, n.ID).Extract()
	if err != nil || a.TotalIPs != "29" || a.UsedIPs != "0" || len(a.SubnetIPAvailabilities) != 1 {
		t.Fatalf("ip availability: %+v %v", a, err)
	}
	if _, err := networkipavailabilities.List(c, networkipavailabilities.ListOpts{IPVersion: "4"}).AllPages(ctx); err != nil {
		t.Fatalf("ip availability list: %v", err)
	}
	if err := subnetpools.Delete(ctx, c, p.ID).ExtractErr(); err == nil {
		t.Fatal("deleted a pool with a subnet")
	}
	if err := networks.Delete(ctx, c, n.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := subnetpools.Delete(ctx, c, p.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
}
