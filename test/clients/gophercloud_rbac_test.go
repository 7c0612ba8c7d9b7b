package clients_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/rbacpolicies"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// TestGophercloudRBAC: gophercloud's rbacpolicies against vland: the
// admin shares a network of project demo with alice's project; alice
// sees it and plugs a port in; the policy cannot be deleted while her
// port is there, retargeting it is refused too, and after her port is
// gone the delete works and the network is hidden from her again.
func TestGophercloudRBAC(t *testing.T) {
	env := sharedEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := networkClient(t, ctx, env.keystone.url, "admin", adminPassword, "admin")
	alice := networkClient(t, ctx, env.keystone.url, memberUser, memberPassword, memberProject)
	aliceID := env.keystone.projectIDs[memberProject]

	n, err := networks.Create(ctx, admin, networks.CreateOpts{Name: prefix + "-gcrbac", TenantID: env.keystone.projectIDs[demoProject]}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	defer networks.Delete(ctx, admin, n.ID)
	if _, err := subnets.Create(ctx, admin, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.67.0.0/24", IPVersion: gophercloud.IPv4,
		TenantID: env.keystone.projectIDs[demoProject]}).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := networks.Get(ctx, alice, n.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("alice reads the network before the grant: %v, want 404", err)
	}
	p, err := rbacpolicies.Create(ctx, admin, rbacpolicies.CreateOpts{Action: rbacpolicies.ActionAccessShared,
		ObjectType: "network", ObjectID: n.ID, TargetTenant: aliceID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if p.ObjectID != n.ID || p.TargetTenant != aliceID || p.Action != rbacpolicies.ActionAccessShared || p.ObjectType != "network" {
		t.Fatalf("created %+v", p)
	}
	pages, err := rbacpolicies.List(admin, rbacpolicies.ListOpts{ObjectID: n.ID}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := rbacpolicies.ExtractRBACPolicies(pages); len(l) != 1 || l[0].ID != p.ID {
		t.Fatalf("list by object_id: %+v", l)
	}
	seen, err := networks.Get(ctx, alice, n.ID).Extract()
	if err != nil || !seen.Shared {
		t.Fatalf("alice reads the shared network: %+v, %v", seen, err)
	}
	port, err := ports.Create(ctx, alice, ports.CreateOpts{NetworkID: n.ID}).Extract()
	if err != nil {
		t.Fatalf("alice's port on the shared network: %v", err)
	}
	if err := rbacpolicies.Delete(ctx, admin, p.ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("delete while in use: %v, want 409", err)
	}
	_, err = rbacpolicies.Update(ctx, admin, p.ID, rbacpolicies.UpdateOpts{TargetTenant: env.keystone.projectIDs[demoProject]}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("retarget while in use: %v, want 409", err)
	}
	if err := ports.Delete(ctx, alice, port.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := rbacpolicies.Delete(ctx, admin, p.ID).ExtractErr(); err != nil {
		t.Fatalf("delete once unused: %v", err)
	}
	if _, err := networks.Get(ctx, alice, n.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("alice reads the network after the revoke: %v, want 404", err)
	}
}
