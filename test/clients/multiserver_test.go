package clients_test

import (
	"context"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/vland/vland/internal/keystone"
)

// TestSecondServerSharesIdentity: a second server on the same etcd accepts
// tokens the first issued and sees projects created through the first.
func TestSecondServerSharesIdentity(t *testing.T) {
	env := sharedEnv(t)
	second, err := startVlandOn(t.TempDir(), keystone.ModeKeystone, env.users, env.keystone.etcd)
	if err != nil {
		t.Fatalf("second server: %v", err)
	}
	t.Cleanup(second.close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Log in on the first server, create a project there.
	pc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: env.keystone.url + "/v3", Username: "admin", Password: adminPassword,
		DomainName: "Default", TenantName: "admin",
	})
	if err != nil {
		t.Fatal(err)
	}
	idc, err := openstack.NewIdentityV3(pc, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := projects.Create(ctx, idc, projects.CreateOpts{Name: prefix + "-shared", DomainID: "default"}).Extract()
	if err != nil {
		t.Fatalf("project create (must answer 201): %v", err)
	}

	// Use that token against the second server's Neutron API.
	nc := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: second.url + "/", ResourceBase: second.url + "/v2.0/"}
	net, err := networks.Create(ctx, nc, networks.CreateOpts{Name: prefix + "-second", ProjectID: p.ID}).Extract()
	if err != nil {
		t.Fatalf("second server rejects the first server's token: %v", err)
	}
	if net.ProjectID != p.ID {
		t.Fatalf("network project %s, want the new project %s", net.ProjectID, p.ID)
	}
	// The admin can scope a token to the new project on the second server.
	other, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: second.url + "/v3", Username: "admin", Password: adminPassword,
		DomainName: "Default", TenantID: p.ID,
	})
	if err != nil {
		t.Fatalf("scope to a project created on another server: %v", err)
	}
	onc, err := openstack.NewNetworkV2(other, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	own, err := networks.Create(ctx, onc, networks.CreateOpts{Name: prefix + "-scoped"}).Extract()
	if err != nil || own.ProjectID != p.ID {
		t.Fatalf("network made with the re-scoped token: %+v, %v; want project %s", own, err, p.ID)
	}
	if onc.ResourceBaseURL() != second.url+"/v2.0/" {
		t.Fatalf("second server's catalog points at %s", onc.ResourceBaseURL())
	}
}
