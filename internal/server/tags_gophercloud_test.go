package server_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
)

// TestGophercloudTags drives the tag API with gophercloud's attributestags
// (strict about status codes) and its list filters.
func TestGophercloudTags(t *testing.T) {
	ctx := context.Background()
	base := srv.URL()
	c := &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{TokenID: "t", HTTPClient: http.Client{}},
		Endpoint: base + "/", ResourceBase: base + "/v2.0/"}
	n, err := networks.Create(ctx, c, networks.CreateOpts{Name: "gc-tags"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	defer networks.Delete(ctx, c, n.ID)
	tags, err := attributestags.ReplaceAll(ctx, c, "networks", n.ID, attributestags.ReplaceAllOpts{Tags: []string{"gc-a", "gc-b"}}).Extract()
	slices.Sort(tags)
	if err != nil || !slices.Equal(tags, []string{"gc-a", "gc-b"}) {
		t.Fatalf("replace all: %v %v", tags, err)
	}
	if err := attributestags.Add(ctx, c, "networks", n.ID, "gc-c").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if ok, err := attributestags.Confirm(ctx, c, "networks", n.ID, "gc-c").Extract(); err != nil || !ok {
		t.Fatalf("confirm gc-c: %v %v", ok, err)
	}
	if err := attributestags.Delete(ctx, c, "networks", n.ID, "gc-a").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := attributestags.Confirm(ctx, c, "networks", n.ID, "gc-a").Extract(); ok {
		t.Fatal("deleted tag still confirmed")
	}
	list := func(opts networks.ListOpts) []string {
		pages, err := networks.List(c, opts).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		all, err := networks.ExtractNetworks(pages)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, x := range all {
			ids = append(ids, x.ID)
		}
		return ids
	}
	if ids := list(networks.ListOpts{Tags: "gc-b,gc-c"}); !slices.Equal(ids, []string{n.ID}) {
		t.Fatalf("tags=gc-b,gc-c: %v", ids)
	}
	if ids := list(networks.ListOpts{TagsAny: "gc-a,gc-c"}); !slices.Equal(ids, []string{n.ID}) {
		t.Fatalf("tags-any=gc-a,gc-c: %v", ids)
	}
	if ids := list(networks.ListOpts{NotTagsAny: "gc-b"}); slices.Contains(ids, n.ID) {
		t.Fatalf("not-tags-any=gc-b lists the network")
	}
	if ids := list(networks.ListOpts{NotTags: "gc-b,gc-x"}); !slices.Contains(ids, n.ID) {
		t.Fatalf("not-tags=gc-b,gc-x leaves out the network")
	}
	if err := attributestags.DeleteAll(ctx, c, "networks", n.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if tags, err := attributestags.List(ctx, c, "networks", n.ID).Extract(); err != nil || len(tags) != 0 {
		t.Fatalf("after delete all: %v %v", tags, err)
	}
}
