package server_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestBadInput sends malformed or invalid requests: each must get a 4xx in
// Neutron's format and leave the store exactly as it was.
func TestBadInput(t *testing.T) {
	p := member("proj-bad")
	netID := mkNetwork(t, p, map[string]any{"name": "bad"})["id"].(string)
	subID := mkSubnet(t, p, netID, "10.30.0.0/24", nil)["id"].(string)
	portID := mkPort(t, p, netID, nil)["id"].(string)
	other := mkNetwork(t, member("proj-bad-other"), map[string]any{"name": "other"})["id"].(string)
	huge := `{"network": {"name": "` + strings.Repeat("x", 1<<20) + `"}}`
	net := func(attrs string) string { return `{"network": {` + attrs + `}}` }
	sub := func(attrs string) string {
		return fmt.Sprintf(`{"subnet": {"network_id": %q, "ip_version": 4, %s}}`, netID, attrs)
	}
	port := func(attrs string) string { return fmt.Sprintf(`{"port": {"network_id": %q %s}}`, netID, attrs) }
	cases := []struct {
		name, method, path, body string
		status                   int
		typ                      string
	}{
		{"malformed json", "POST", "/v2.0/networks", `{"network": {`, 400, "HTTPBadRequest"},
		{"not an object", "POST", "/v2.0/networks", `[1,2]`, 400, "HTTPBadRequest"},
		{"empty body", "POST", "/v2.0/networks", ``, 400, "HTTPBadRequest"},
		{"no wrapper", "POST", "/v2.0/networks", `{"name": "x"}`, 400, "HTTPBadRequest"},
		{"wrapper not object", "POST", "/v2.0/networks", `{"network": "x"}`, 400, "HTTPBadRequest"},
		{"empty bulk", "POST", "/v2.0/networks", `{"networks": []}`, 400, "HTTPBadRequest"},
		{"unknown attribute", "POST", "/v2.0/networks", net(`"foo": 1`), 400, "HTTPBadRequest"},
		{"read-only status", "POST", "/v2.0/networks", net(`"status": "DOWN"`), 400, "HTTPBadRequest"},
		{"id in post", "POST", "/v2.0/networks", net(`"id": "x"`), 400, "HTTPBadRequest"},
		{"bool as string junk", "POST", "/v2.0/networks", net(`"admin_state_up": "maybe"`), 400, "HTTPBadRequest"},
		{"name not string", "POST", "/v2.0/networks", net(`"name": 5`), 400, "HTTPBadRequest"},
		{"name too long", "POST", "/v2.0/networks", net(`"name": "` + strings.Repeat("n", 256) + `"`), 400, "HTTPBadRequest"},
		{"mtu junk", "POST", "/v2.0/networks", net(`"mtu": "big"`), 400, "HTTPBadRequest"},
		{"mtu too big", "POST", "/v2.0/networks", net(`"mtu": 9000`), 400, "InvalidInput"},
		{"member provider", "POST", "/v2.0/networks", net(`"provider:network_type": "vxlan"`), 403, "PolicyNotAuthorized"},
		{"member external", "POST", "/v2.0/networks", net(`"router:external": true`), 403, "PolicyNotAuthorized"},
		{"member other project", "POST", "/v2.0/networks", net(`"project_id": "someone"`), 400, "HTTPBadRequest"},
		{"project tenant mismatch", "POST", "/v2.0/networks", net(`"project_id": "proj-bad", "tenant_id": "x"`), 400, "HTTPBadRequest"},
		{"oversized body", "POST", "/v2.0/networks", huge, 413, "HTTPRequestEntityTooLarge"},
		{"update read-only", "PUT", "/v2.0/networks/" + netID, net(`"status": "DOWN"`), 400, "HTTPBadRequest"},
		{"update provider", "PUT", "/v2.0/networks/" + netID, net(`"provider:network_type": "gre"`), 403, "PolicyNotAuthorized"},
		{"bad if-match", "PUT", "/v2.0/networks/" + netID, net(`"name": "y"`), 400, "HTTPBadRequest"},
		{"stale if-match delete", "DELETE", "/v2.0/networks/" + netID + "#rev", ``, 412, "RevisionNumberConstraintFailed"},
		{"update missing", "PUT", "/v2.0/networks/nope", net(`"name": "y"`), 404, "NetworkNotFound"},
		{"other project's network", "GET", "/v2.0/networks/" + other, ``, 404, "NetworkNotFound"},
		{"subnet missing network", "POST", "/v2.0/subnets", `{"subnet": {"cidr": "10.0.0.0/24", "ip_version": 4}}`, 400, "HTTPBadRequest"},
		{"subnet missing cidr", "POST", "/v2.0/subnets", sub(`"name": "x"`), 400, "HTTPBadRequest"},
		{"subnet bad cidr", "POST", "/v2.0/subnets", sub(`"cidr": "10.0.0.0/33"`), 400, "HTTPBadRequest"},
		{"subnet host bits", "POST", "/v2.0/subnets", sub(`"cidr": "10.0.0.5/24"`), 400, "HTTPBadRequest"},
		{"subnet version mismatch", "POST", "/v2.0/subnets", `{"subnet": {"network_id": "` + netID + `", "ip_version": 6, "cidr": "10.0.0.0/24"}}`, 400, "InvalidInput"},
		{"subnet overlap", "POST", "/v2.0/subnets", sub(`"cidr": "10.30.0.0/16"`), 400, "InvalidInput"},
		{"subnet bad gateway", "POST", "/v2.0/subnets", sub(`"cidr": "10.31.0.0/24", "gateway_ip": "banana"`), 400, "HTTPBadRequest"},
		{"subnet pool outside", "POST", "/v2.0/subnets", sub(`"cidr": "10.31.0.0/24", "allocation_pools": [{"start": "10.32.0.1", "end": "10.32.0.9"}]`), 400, "InvalidAllocationPool"},
		{"subnet pool reversed", "POST", "/v2.0/subnets", sub(`"cidr": "10.31.0.0/24", "allocation_pools": [{"start": "10.31.0.9", "end": "10.31.0.1"}]`), 400, "InvalidAllocationPool"},
		{"subnet pools overlap", "POST", "/v2.0/subnets", sub(`"cidr": "10.31.0.0/24", "allocation_pools": [{"start": "10.31.0.2", "end": "10.31.0.9"}, {"start": "10.31.0.5", "end": "10.31.0.20"}]`), 400, "OverlappingAllocationPools"},
		{"subnet pool bad key", "POST", "/v2.0/subnets", sub(`"cidr": "10.31.0.0/24", "allocation_pools": [{"begin": "10.31.0.2"}]`), 400, "HTTPBadRequest"},
		{"subnet gateway in pool", "POST", "/v2.0/subnets", sub(`"cidr": "10.31.0.0/24", "gateway_ip": "10.31.0.5", "allocation_pools": [{"start": "10.31.0.2", "end": "10.31.0.9"}]`), 409, "GatewayConflictWithAllocationPools"},
		{"subnet bad dns", "POST", "/v2.0/subnets", sub(`"cidr": "10.31.0.0/24", "dns_nameservers": ["x"]`), 400, "HTTPBadRequest"},
		{"subnet on foreign network", "POST", "/v2.0/subnets", `{"subnet": {"network_id": "` + other + `", "ip_version": 4, "cidr": "10.40.0.0/24"}}`, 404, "NetworkNotFound"},
		{"port missing network", "POST", "/v2.0/ports", `{"port": {"name": "x"}}`, 400, "HTTPBadRequest"},
		{"port unknown network", "POST", "/v2.0/ports", `{"port": {"network_id": "nope"}}`, 404, "NetworkNotFound"},
		{"port foreign network", "POST", "/v2.0/ports", `{"port": {"network_id": "` + other + `"}}`, 404, "NetworkNotFound"},
		{"port bad mac", "POST", "/v2.0/ports", port(`, "mac_address": "zz:16:3e:00:00:01"`), 400, "HTTPBadRequest"},
		{"port multicast mac", "POST", "/v2.0/ports", port(`, "mac_address": "01:00:5e:00:00:01"`), 400, "HTTPBadRequest"},
		{"port ip outside subnet", "POST", "/v2.0/ports", port(`, "fixed_ips": [{"subnet_id": "` + subID + `", "ip_address": "10.99.0.5"}]`), 400, "InvalidIpForSubnet"},
		{"port ip on no subnet", "POST", "/v2.0/ports", port(`, "fixed_ips": [{"ip_address": "10.99.0.5"}]`), 400, "InvalidIpForSubnet"},
		{"port broadcast ip", "POST", "/v2.0/ports", port(`, "fixed_ips": [{"ip_address": "10.30.0.255"}]`), 400, "InvalidIpForSubnet"},
		{"port gateway ip", "POST", "/v2.0/ports", port(`, "fixed_ips": [{"ip_address": "10.30.0.1"}]`), 409, "IpAddressAlreadyAllocated"},
		{"port bad ip", "POST", "/v2.0/ports", port(`, "fixed_ips": [{"ip_address": "ten"}]`), 400, "HTTPBadRequest"},
		{"port fixed_ips not list", "POST", "/v2.0/ports", port(`, "fixed_ips": "10.30.0.4"`), 400, "HTTPBadRequest"},
		{"port unknown subnet", "POST", "/v2.0/ports", port(`, "fixed_ips": [{"subnet_id": "nope"}]`), 404, "SubnetNotFound"},
		{"port binding by member", "POST", "/v2.0/ports", port(`, "binding:host_id": "h1"`), 403, "PolicyNotAuthorized"},
		{"port vif read-only", "POST", "/v2.0/ports", port(`, "binding:vif_type": "ovs"`), 400, "HTTPBadRequest"},
		{"port pairs without security", "POST", "/v2.0/ports", port(`, "port_security_enabled": false, "allowed_address_pairs": [{"ip_address": "10.30.0.9"}]`), 400, "InvalidInput"},
		{"port update network", "PUT", "/v2.0/ports/" + portID, `{"port": {"network_id": "x"}}`, 400, "HTTPBadRequest"},
		{"bad limit", "GET", "/v2.0/networks?limit=abc", ``, 400, "HTTPBadRequest"},
		{"negative limit", "GET", "/v2.0/networks?limit=-1", ``, 400, "HTTPBadRequest"},
		{"bad marker", "GET", "/v2.0/networks?limit=1&marker=nope", ``, 404, "HTTPNotFound"},
		{"bad sort key", "GET", "/v2.0/networks?sort_key=bogus", ``, 400, "HTTPBadRequest"},
		{"bad sort dir", "GET", "/v2.0/networks?sort_key=name&sort_dir=up", ``, 400, "HTTPBadRequest"},
		{"unknown filter", "GET", "/v2.0/ports?bogus=1", ``, 400, "HTTPBadRequest"},
		{"bad bool filter", "GET", "/v2.0/networks?shared=perhaps", ``, 400, "HTTPBadRequest"},
		{"unknown collection", "GET", "/v2.0/routerz", ``, 404, "HTTPNotFound"},
		{"method not routed", "PATCH", "/v2.0/networks/" + netID, ``, 405, "HTTPMethodNotAllowed"},
		{"agent by member", "GET", "/v2.0/agents/any", ``, 404, "AgentNotFound"},
	}
	before := snapshot(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hdr []string
			switch c.name {
			case "bad if-match":
				hdr = []string{"If-Match", "rev=1"}
			case "stale if-match delete":
				hdr = []string{"If-Match", "revision_number=99"}
			}
			path, _, _ := strings.Cut(c.path, "#")
			call(t, p, c.method, path, c.body, hdr...).wantError(t, c.status, c.typ)
		})
	}
	if after := snapshot(t); fmt.Sprint(after) != fmt.Sprint(before) {
		for k, v := range after {
			if before[k] != v {
				t.Errorf("changed: %s", k)
			}
		}
		t.Fatal("bad input changed the store")
	}
}
