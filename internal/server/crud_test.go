package server_test

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"testing"
)

var (
	uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	timeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	macRE  = regexp.MustCompile(`^fa:16:3e(:[0-9a-f]{2}){3}$`)
	reqRE  = regexp.MustCompile(`^req-[0-9a-f-]{36}$`)
)

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func wantKeys(t *testing.T, what string, o map[string]any, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := keys(o); !slices.Equal(got, want) {
		t.Fatalf("%s attributes\n got %v\nwant %v", what, got, want)
	}
}

func TestVersionDocuments(t *testing.T) {
	r := call(t, admin, "GET", "/", nil).want(t, 200)
	v := r.list(t, "versions")
	if len(v) != 1 || v[0]["id"] != "v2.0" || v[0]["status"] != "CURRENT" {
		t.Fatalf("versions: %s", r.raw)
	}
	link := v[0]["links"].([]any)[0].(map[string]any)
	if link["rel"] != "self" || link["href"] != srv.URL()+"/v2.0/" {
		t.Fatalf("self link: %v", link)
	}
	res := call(t, admin, "GET", "/v2.0", nil).want(t, 200).list(t, "resources")
	if len(res) != 3 {
		t.Fatalf("resources: %v", res)
	}
	if !reqRE.MatchString(r.header.Get("X-Openstack-Request-Id")) || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers: %v", r.header)
	}
}

func TestExtensions(t *testing.T) {
	all := call(t, admin, "GET", "/v2.0/extensions", nil).want(t, 200).list(t, "extensions")
	var aliases []string
	for _, e := range all {
		aliases = append(aliases, e["alias"].(string))
	}
	for _, a := range []string{"provider", "external-net", "binding", "port-security", "pagination", "sorting", "revision-if-match", "standard-attr-tag", "tag-creation",
		"dhcp_agent_scheduler", "extra_dhcp_opt", "dns-integration"} {
		if !slices.Contains(aliases, a) {
			t.Errorf("extension %s missing from %v", a, aliases)
		}
	}
	call(t, admin, "GET", "/v2.0/extensions/provider", nil).want(t, 200).obj(t, "extension")
	for _, absent := range []string{"dvr", "address-group", "l3-ha", "dns-domain-ports"} {
		call(t, admin, "GET", "/v2.0/extensions/"+absent, nil).wantError(t, 404, "")
	}
}

func TestNetworkCRUD(t *testing.T) {
	p := member("proj-netcrud")
	n := mkNetwork(t, p, map[string]any{"name": "net1", "description": "d"})
	wantKeys(t, "member network", n, "admin_state_up", "availability_zone_hints", "availability_zones",
		"created_at", "description", "dns_domain", "id", "mtu", "name", "port_security_enabled", "project_id",
		"revision_number", "router:external", "shared", "status", "subnets", "tags", "tenant_id", "updated_at")
	id := n["id"].(string)
	switch {
	case !uuidRE.MatchString(id), n["project_id"] != "proj-netcrud", n["tenant_id"] != "proj-netcrud",
		n["status"] != "ACTIVE", n["admin_state_up"] != true, n["shared"] != false, n["mtu"] != 1450.0,
		n["port_security_enabled"] != true, n["revision_number"] != 1.0, !timeRE.MatchString(n["created_at"].(string)):
		t.Fatalf("network: %v", n)
	}
	// Admins see the provider attributes.
	a := call(t, admin, "GET", "/v2.0/networks/"+id, nil).want(t, 200).obj(t, "network")
	if a["provider:network_type"] != "vxlan" || a["provider:segmentation_id"] == nil || a["provider:physical_network"] != nil {
		t.Fatalf("admin view: %v", a)
	}
	u := call(t, p, "PUT", "/v2.0/networks/"+id, map[string]any{"network": map[string]any{"name": "net2", "mtu": "1400"}}).
		want(t, 200).obj(t, "network")
	if u["name"] != "net2" || u["mtu"] != 1400.0 || u["revision_number"] != 2.0 {
		t.Fatalf("updated: %v", u)
	}
	call(t, p, "PUT", "/v2.0/networks/"+id, map[string]any{"network": map[string]any{"name": "x"}},
		"If-Match", "revision_number=1").wantError(t, 412, "RevisionNumberConstraintFailed")
	call(t, p, "GET", "/v2.0/networks/net2", nil).wantError(t, 404, "NetworkNotFound")
	got := call(t, p, "GET", "/v2.0/networks?name=net2", nil).want(t, 200).list(t, "networks")
	if len(got) != 1 || got[0]["id"] != id {
		t.Fatalf("by name: %v", got)
	}
	r := call(t, p, "DELETE", "/v2.0/networks/"+id, nil, "If-Match", "revision_number=2").want(t, 204)
	if len(r.raw) != 0 {
		t.Fatalf("delete body %q", r.raw)
	}
	call(t, p, "GET", "/v2.0/networks/"+id, nil).wantError(t, 404, "NetworkNotFound")
	call(t, p, "DELETE", "/v2.0/networks/"+id, nil).wantError(t, 404, "NetworkNotFound")
}

func TestSubnetCRUD(t *testing.T) {
	p := member("proj-subcrud")
	n := mkNetwork(t, p, map[string]any{"name": "s"})
	netID := n["id"].(string)
	s := mkSubnet(t, p, netID, "10.9.0.0/24", map[string]any{"name": "sub", "dns_nameservers": []string{"8.8.8.8"}})
	wantKeys(t, "subnet", s, "allocation_pools", "cidr", "created_at", "description", "dns_nameservers",
		"enable_dhcp", "gateway_ip", "host_routes", "id", "ip_version", "ipv6_address_mode", "ipv6_ra_mode",
		"name", "network_id", "project_id", "revision_number", "subnetpool_id", "tags", "tenant_id", "updated_at")
	if s["gateway_ip"] != "10.9.0.1" || s["enable_dhcp"] != true || s["subnetpool_id"] != nil ||
		fmt.Sprint(s["allocation_pools"]) != "[map[end:10.9.0.254 start:10.9.0.2]]" {
		t.Fatalf("subnet: %v", s)
	}
	id := s["id"].(string)
	net := call(t, p, "GET", "/v2.0/networks/"+netID, nil).want(t, 200).obj(t, "network")
	if fmt.Sprint(net["subnets"]) != fmt.Sprint([]any{id}) {
		t.Fatalf("network subnets: %v", net["subnets"])
	}
	// Overlap in the same network is refused; a gateway of null is fine.
	r := call(t, p, "POST", "/v2.0/subnets", map[string]any{"subnet": map[string]any{"network_id": netID, "cidr": "10.9.0.128/25", "ip_version": 4}})
	r.wantError(t, 400, "InvalidInput")
	s2 := mkSubnet(t, p, netID, "10.8.0.0/24", map[string]any{"gateway_ip": nil,
		"allocation_pools": []map[string]string{{"start": "10.8.0.10", "end": "10.8.0.20"}}})
	if s2["gateway_ip"] != nil {
		t.Fatalf("null gateway: %v", s2)
	}
	u := call(t, p, "PUT", "/v2.0/subnets/"+id, map[string]any{"subnet": map[string]any{"name": "renamed", "gateway_ip": "10.9.0.254",
		"allocation_pools": []map[string]string{{"start": "10.9.0.10", "end": "10.9.0.100"}}}}).want(t, 200).obj(t, "subnet")
	if u["name"] != "renamed" || u["gateway_ip"] != "10.9.0.254" || u["revision_number"] != 2.0 {
		t.Fatalf("updated subnet: %v", u)
	}
	call(t, p, "PUT", "/v2.0/subnets/"+id, map[string]any{"subnet": map[string]any{"cidr": "10.7.0.0/24"}}).wantError(t, 400, "HTTPBadRequest")
	port := mkPort(t, p, netID, map[string]any{"fixed_ips": []map[string]string{{"subnet_id": id}}})
	if ips(port)[0] != "10.9.0.10" {
		t.Fatalf("port after pool update: %v", ips(port))
	}
	gwPort := mkPort(t, p, netID, map[string]any{"fixed_ips": []map[string]string{{"ip_address": "10.9.0.200"}}})
	call(t, p, "PUT", "/v2.0/subnets/"+id, map[string]any{"subnet": map[string]any{"gateway_ip": "10.9.0.200"}}).
		wantError(t, 409, "GatewayIpInUse")
	call(t, p, "DELETE", "/v2.0/ports/"+gwPort["id"].(string), nil).want(t, 204)
	call(t, p, "DELETE", "/v2.0/subnets/"+id, nil).wantError(t, 409, "SubnetInUse")
	call(t, p, "DELETE", "/v2.0/ports/"+port["id"].(string), nil).want(t, 204)
	call(t, p, "DELETE", "/v2.0/subnets/"+id, nil).want(t, 204)
	net = call(t, p, "GET", "/v2.0/networks/"+netID, nil).want(t, 200).obj(t, "network")
	if fmt.Sprint(net["subnets"]) != fmt.Sprint([]any{s2["id"]}) {
		t.Fatalf("network subnets after delete: %v", net["subnets"])
	}
	call(t, p, "DELETE", "/v2.0/networks/"+netID, nil).want(t, 204)
	call(t, p, "GET", "/v2.0/subnets/"+s2["id"].(string), nil).wantError(t, 404, "SubnetNotFound")
}

func TestPortCRUD(t *testing.T) {
	p := member("proj-portcrud")
	netID := mkNetwork(t, p, map[string]any{"name": "p"})["id"].(string)
	sub := mkSubnet(t, p, netID, "10.5.0.0/24", nil)
	subID := sub["id"].(string)
	port := mkPort(t, p, netID, map[string]any{"name": "vm1", "device_id": "dev1"})
	wantKeys(t, "member port", port, "admin_state_up", "allowed_address_pairs", "binding:vnic_type", "created_at",
		"description", "device_id", "device_owner", "dns_assignment", "dns_name", "extra_dhcp_opts", "fixed_ips", "id", "mac_address", "name", "network_id",
		"port_security_enabled", "project_id", "revision_number", "security_groups", "status", "tags", "tenant_id", "updated_at")
	if !macRE.MatchString(port["mac_address"].(string)) || port["status"] != "DOWN" || fmt.Sprint(ips(port)) != "[10.5.0.2]" {
		t.Fatalf("port: %v", port)
	}
	id := port["id"].(string)
	a := call(t, admin, "GET", "/v2.0/ports/"+id, nil).want(t, 200).obj(t, "port")
	if a["binding:vif_type"] != "unbound" || a["binding:host_id"] != "" || fmt.Sprint(a["binding:vif_details"]) != "map[]" {
		t.Fatalf("admin port view: %v", a)
	}
	// Explicit address; then move addresses around with an update.
	p2 := mkPort(t, p, netID, map[string]any{"fixed_ips": []map[string]string{{"ip_address": "10.5.0.50"}}})
	if fmt.Sprint(ips(p2)) != "[10.5.0.50]" {
		t.Fatalf("explicit: %v", ips(p2))
	}
	call(t, p, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID,
		"fixed_ips": []map[string]string{{"ip_address": "10.5.0.50"}}}}).wantError(t, 409, "IpAddressAlreadyAllocated")
	u := call(t, p, "PUT", "/v2.0/ports/"+id, map[string]any{"port": map[string]any{"fixed_ips": []map[string]string{
		{"subnet_id": subID, "ip_address": "10.5.0.2"}, {"ip_address": "10.5.0.60"}}}}).want(t, 200).obj(t, "port")
	if fmt.Sprint(ips(u)) != "[10.5.0.2 10.5.0.60]" {
		t.Fatalf("update add: %v", ips(u))
	}
	u = call(t, p, "PUT", "/v2.0/ports/"+id, map[string]any{"port": map[string]any{"fixed_ips": []map[string]string{
		{"ip_address": "10.5.0.60"}}}}).want(t, 200).obj(t, "port")
	if fmt.Sprint(ips(u)) != "[10.5.0.60]" {
		t.Fatalf("update remove: %v", ips(u))
	}
	// The freed address is handed out again.
	p3 := mkPort(t, p, netID, nil)
	if fmt.Sprint(ips(p3)) != "[10.5.0.2]" {
		t.Fatalf("freed address not reused: %v", ips(p3))
	}
	b := call(t, admin, "PUT", "/v2.0/ports/"+id, map[string]any{"port": map[string]any{"binding:host_id": "host1"}}).want(t, 200).obj(t, "port")
	if b["binding:host_id"] != "host1" || b["binding:vif_type"] != "ovs" {
		t.Fatalf("bound: %v", b)
	}
	call(t, p, "PUT", "/v2.0/ports/"+id, map[string]any{"port": map[string]any{"binding:host_id": "h"}}).wantError(t, 403, "PolicyNotAuthorized")
	mac := p2["mac_address"].(string)
	call(t, p, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID, "mac_address": mac}}).
		wantError(t, 409, "MacAddressInUse")
	call(t, p, "DELETE", "/v2.0/ports/"+p2["id"].(string), nil).want(t, 204)
	reuse := mkPort(t, p, netID, map[string]any{"mac_address": mac, "fixed_ips": []map[string]string{{"ip_address": "10.5.0.50"}}})
	if reuse["mac_address"] != mac {
		t.Fatalf("mac not reusable after delete: %v", reuse)
	}
	call(t, p, "DELETE", "/v2.0/networks/"+netID, nil).wantError(t, 409, "NetworkInUse")
	for _, pid := range []string{id, p3["id"].(string), reuse["id"].(string)} {
		call(t, p, "DELETE", "/v2.0/ports/"+pid, nil).want(t, 204)
	}
	mkPort(t, admin, netID, map[string]any{"device_owner": "network:dhcp"})
	call(t, p, "DELETE", "/v2.0/networks/"+netID, nil).want(t, 204)
	left := call(t, admin, "GET", "/v2.0/ports?network_id="+netID, nil).want(t, 200).list(t, "ports")
	if len(left) != 0 {
		t.Fatalf("ports left after network delete: %v", left)
	}
}

func TestBulkCreateIsAtomic(t *testing.T) {
	p := member("proj-bulk")
	r := call(t, p, "POST", "/v2.0/networks", map[string]any{"networks": []map[string]any{{"name": "b1"}, {"name": "b2"}}}).want(t, 201)
	if l := r.list(t, "networks"); len(l) != 2 || l[0]["name"] != "b1" || l[1]["name"] != "b2" {
		t.Fatalf("bulk: %s", r.raw)
	}
	netID := r.list(t, "networks")[0]["id"].(string)
	mkSubnet(t, p, netID, "10.6.0.0/24", nil)
	defaultGroup(t, p) // a port create makes it first (kept if the create fails)
	before := snapshot(t)
	call(t, p, "POST", "/v2.0/ports", map[string]any{"ports": []map[string]any{
		{"network_id": netID, "fixed_ips": []map[string]string{{"ip_address": "10.6.0.7"}}},
		{"network_id": netID, "fixed_ips": []map[string]string{{"ip_address": "10.6.0.7"}}},
	}}).wantError(t, 409, "IpAddressAlreadyAllocated")
	if after := snapshot(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("failed bulk create changed the store")
	}
}
