package clients_test

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/provider"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// networkClient logs in through vland's Keystone v3 with gophercloud and
// returns the network client built from the token's catalog.
func networkClient(t *testing.T, ctx context.Context, url, user, password, project string) *gophercloud.ServiceClient {
	t.Helper()
	pc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: url + "/v3", Username: user, Password: password,
		DomainName: "Default", TenantName: project,
	})
	if err != nil {
		t.Fatalf("gophercloud auth as %s: %v", user, err)
	}
	nc, err := openstack.NewNetworkV2(pc, gophercloud.EndpointOpts{Region: "RegionOne", Availability: gophercloud.AvailabilityPublic})
	if err != nil {
		t.Fatalf("network endpoint from the catalog: %v", err)
	}
	if want := url + "/v2.0/"; nc.ResourceBaseURL() != want {
		t.Fatalf("network resource base %q, want %q", nc.ResourceBaseURL(), want)
	}
	return nc
}

// providerNetwork asks for a provider segment with the single-segment
// attributes, as the openstack CLI does (gophercloud only has "segments").
type providerNetwork struct {
	Name    string
	Type    string
	Segment int
}

func (p providerNetwork) ToNetworkCreateMap() (map[string]any, error) {
	return map[string]any{"network": map[string]any{
		"name": p.Name, "provider:network_type": p.Type, "provider:segmentation_id": p.Segment,
	}}, nil
}

type networkWithProvider struct {
	networks.Network
	provider.NetworkProviderExt
}

// TestGophercloudLifecycle creates, lists, reads, updates and deletes
// networks, subnets and ports; gophercloud fails on any status code other
// than Neutron's (201, 200, 204).
func TestGophercloudLifecycle(t *testing.T) {
	env := sharedEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nc := networkClient(t, ctx, env.keystone.url, "admin", adminPassword, "admin")

	up := true
	net, err := networks.Create(ctx, nc, networks.CreateOpts{Name: prefix + "-gc", AdminStateUp: &up}).Extract()
	if err != nil {
		t.Fatalf("network create: %v", err)
	}
	if net.ProjectID != env.keystone.adminProjectID || net.TenantID != net.ProjectID || !net.AdminStateUp {
		t.Fatalf("network = %+v, want project %s", net, env.keystone.adminProjectID)
	}

	sub, err := subnets.Create(ctx, nc, subnets.CreateOpts{
		NetworkID: net.ID, CIDR: "10.2.0.0/24", IPVersion: gophercloud.IPv4, Name: prefix + "-gcsub",
	}).Extract()
	if err != nil {
		t.Fatalf("subnet create: %v", err)
	}
	if sub.CIDR != "10.2.0.0/24" || sub.GatewayIP != "10.2.0.1" || len(sub.AllocationPools) != 1 ||
		sub.AllocationPools[0].Start != "10.2.0.2" || sub.AllocationPools[0].End != "10.2.0.254" {
		t.Fatalf("subnet = %+v", sub)
	}

	port, err := ports.Create(ctx, nc, ports.CreateOpts{
		NetworkID: net.ID, Name: prefix + "-gcport",
		FixedIPs: []ports.IP{{SubnetID: sub.ID, IPAddress: "10.2.0.50"}},
	}).Extract()
	if err != nil {
		t.Fatalf("port create: %v", err)
	}
	if len(port.FixedIPs) != 1 || port.FixedIPs[0].IPAddress != "10.2.0.50" || !strings.HasPrefix(port.MACAddress, "fa:16:3e:") {
		t.Fatalf("port = %+v", port)
	}
	// The same fixed IP cannot be handed out twice.
	_, err = ports.Create(ctx, nc, ports.CreateOpts{NetworkID: net.ID, FixedIPs: []ports.IP{{SubnetID: sub.ID, IPAddress: "10.2.0.50"}}}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("second port on 10.2.0.50: %v, want 409", err)
	}
	auto, err := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: net.ID}).Extract()
	if err != nil {
		t.Fatalf("port create without fixed_ips: %v", err)
	}
	if ip, err := netip.ParseAddr(auto.FixedIPs[0].IPAddress); err != nil || !netip.MustParsePrefix("10.2.0.0/24").Contains(ip) ||
		ip.String() == "10.2.0.1" || ip.String() == "10.2.0.50" || auto.MACAddress == port.MACAddress {
		t.Fatalf("automatic port = %+v", auto)
	}

	got, err := networks.Get(ctx, nc, net.ID).Extract()
	if err != nil || len(got.Subnets) != 1 || got.Subnets[0] != sub.ID {
		t.Fatalf("network get = %+v, %v", got, err)
	}
	pages, err := networks.List(nc, networks.ListOpts{Name: net.Name}).AllPages(ctx)
	if err != nil {
		t.Fatalf("network list: %v", err)
	}
	listed, err := networks.ExtractNetworks(pages)
	if err != nil || len(listed) != 1 || listed[0].ID != net.ID {
		t.Fatalf("network list ?name= = %+v, %v", listed, err)
	}
	allPorts, err := ports.List(nc, ports.ListOpts{NetworkID: net.ID}).AllPages(ctx)
	if err != nil {
		t.Fatalf("port list: %v", err)
	}
	if ps, _ := ports.ExtractPorts(allPorts); len(ps) != 2 {
		t.Fatalf("ports of network = %d, want 2", len(ps))
	}

	newName := prefix + "-gc2"
	rev := got.RevisionNumber
	upd, err := networks.Update(ctx, nc, net.ID, networks.UpdateOpts{Name: &newName, RevisionNumber: &rev}).Extract()
	if err != nil || upd.Name != newName || upd.RevisionNumber <= rev {
		t.Fatalf("network update = %+v, %v", upd, err)
	}
	// A stale revision must fail with 412, as Neutron does.
	_, err = networks.Update(ctx, nc, net.ID, networks.UpdateOpts{Name: &newName, RevisionNumber: &rev}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusPreconditionFailed) {
		t.Fatalf("update with stale revision: %v, want 412", err)
	}

	for _, p := range []string{port.ID, auto.ID} {
		if err := ports.Delete(ctx, nc, p).ExtractErr(); err != nil {
			t.Fatalf("port delete: %v", err)
		}
	}
	if err := subnets.Delete(ctx, nc, sub.ID).ExtractErr(); err != nil {
		t.Fatalf("subnet delete: %v", err)
	}
	if err := networks.Delete(ctx, nc, net.ID).ExtractErr(); err != nil {
		t.Fatalf("network delete: %v", err)
	}
	if _, err := networks.Get(ctx, nc, net.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("get after delete: %v, want 404", err)
	}
}

// TestGophercloudProviderAndIsolation: a provider segment as admin, and a
// member that neither lists nor reads the admin's network.
func TestGophercloudProviderAndIsolation(t *testing.T) {
	env := sharedEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := networkClient(t, ctx, env.keystone.url, "admin", adminPassword, "admin")
	member := networkClient(t, ctx, env.keystone.url, memberUser, memberPassword, memberProject)

	var vx networkWithProvider
	err := networks.Create(ctx, admin, providerNetwork{Name: prefix + "-gcvx", Type: "vxlan", Segment: 112}).ExtractInto(&vx)
	if err != nil {
		t.Fatalf("provider network create: %v", err)
	}
	if vx.NetworkType != "vxlan" || vx.SegmentationID != "112" {
		t.Fatalf("provider network = %+v, want vxlan 112", vx.NetworkProviderExt)
	}
	// A member may not choose a segment.
	err = networks.Create(ctx, member, providerNetwork{Name: prefix + "-gcvx2", Type: "vxlan", Segment: 113}).Err
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Fatalf("member sets a provider segment: %v, want 403", err)
	}

	own, err := networks.Create(ctx, member, networks.CreateOpts{Name: prefix + "-gcmine"}).Extract()
	if err != nil || own.ProjectID != env.keystone.projectIDs[memberProject] {
		t.Fatalf("member network = %+v, %v", own, err)
	}
	pages, err := networks.List(member, nil).AllPages(ctx)
	if err != nil {
		t.Fatalf("member list: %v", err)
	}
	nets, _ := networks.ExtractNetworks(pages)
	for _, n := range nets {
		if n.ID == vx.ID || (n.ProjectID != own.ProjectID && !n.Shared) {
			t.Fatalf("member sees network %s of project %s", n.Name, n.ProjectID)
		}
	}
	if len(nets) == 0 {
		t.Fatal("member lists no network, want its own")
	}
	if _, err := networks.Get(ctx, member, vx.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("member reads admin's network: %v, want 404", err)
	}
	if err := networks.Delete(ctx, member, vx.ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("member deletes admin's network: %v, want 404", err)
	}
}
