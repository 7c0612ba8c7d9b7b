package server_test

import (
	"reflect"
	"testing"
)

// Behaviours tempest.api.network checks beyond the API reference; each test
// here fixes one that `make conformance` found.

// A wrong method on a path the API serves is 405 with Allow, as in Neutron;
// only unknown paths are 404.
func TestWrongMethodIs405WithAllow(t *testing.T) {
	who := member("p-conf-405")
	netID := mkNetwork(t, who, map[string]any{"name": "n"})["id"].(string)
	for _, c := range []struct{ method, path, allow string }{
		{"PATCH", "/v2.0/networks/" + netID, "GET, PUT, DELETE"},
		{"POST", "/v2.0/networks/" + netID, "GET, PUT, DELETE"},
		{"DELETE", "/v2.0/networks", "GET, POST"},
		{"PUT", "/v2.0/ports", "GET, POST"},
		{"DELETE", "/v2.0/rbac-policies", "GET, POST"},
		{"POST", "/v2.0/agents", "GET"},
		{"DELETE", "/v2.0/extensions/agent", "GET"},
		{"POST", "/v2.0/extensions", "GET"},
		{"POST", "/v2.0/networks/" + netID + "/tags/x", "GET, PUT, DELETE"},
	} {
		r := call(t, who, c.method, c.path, "{}")
		r.wantError(t, 405, "HTTPMethodNotAllowed")
		if got := r.header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
	for _, p := range []string{"/v2.0/networks/" + netID + "/nope", "/v2.0/nope", "/v2.0/nope/" + netID} {
		call(t, who, "GET", p, nil).wantError(t, 404, "HTTPNotFound")
		call(t, who, "POST", p, "{}").wantError(t, 404, "HTTPNotFound")
	}
}

// GET /v2.0/extensions/{alias} answers the very entry of the list
// (test_extensions compares them).
func TestExtensionShowEqualsListEntry(t *testing.T) {
	who := member("p-conf-ext")
	all := call(t, who, "GET", "/v2.0/extensions", nil).want(t, 200).list(t, "extensions")
	if len(all) == 0 {
		t.Fatal("no extensions listed")
	}
	for _, e := range all {
		alias := e["alias"].(string)
		one := call(t, who, "GET", "/v2.0/extensions/"+alias, nil).want(t, 200).obj(t, "extension")
		if !reflect.DeepEqual(one, e) {
			t.Errorf("extension %s: show %v, list entry %v", alias, one, e)
		}
	}
	call(t, who, "GET", "/v2.0/extensions/security-group", nil).wantError(t, 404, "ExtensionNotFound")
}

// fields= narrows a show as it narrows a list, on every collection.
func TestFieldsOnShow(t *testing.T) {
	who := member("p-conf-fields")
	net := mkNetwork(t, who, map[string]any{"name": "n"})
	sub := mkSubnet(t, who, net["id"].(string), "10.9.0.0/24", nil)
	port := mkPort(t, who, net["id"].(string), nil)
	for _, c := range []struct{ coll, singular, id string }{
		{"networks", "network", net["id"].(string)},
		{"subnets", "subnet", sub["id"].(string)},
		{"ports", "port", port["id"].(string)},
	} {
		o := call(t, who, "GET", "/v2.0/"+c.coll+"/"+c.id+"?fields=id&fields=name", nil).want(t, 200).obj(t, c.singular)
		wantKeys(t, c.singular, o, "id", "name")
		if o["id"] != c.id {
			t.Errorf("%s: id %v, want %s", c.singular, o["id"], c.id)
		}
	}
}

// A sub-resource of a missing resource is that resource's 404, and a
// missing sub-resource of an existing one is 404 too.
func TestSubResourceOfMissingResourceIs404(t *testing.T) {
	who := member("p-conf-sub")
	missing := "00000000-0000-4000-8000-000000000000"
	for _, c := range []struct{ method, path, typ string }{
		{"GET", "/v2.0/networks/" + missing + "/tags", "NetworkNotFound"},
		{"PUT", "/v2.0/subnets/" + missing + "/tags/x", "SubnetNotFound"},
		{"DELETE", "/v2.0/ports/" + missing + "/tags/x", "PortNotFound"},
		{"GET", "/v2.0/agents/" + missing, "AgentNotFound"},
	} {
		call(t, who, c.method, c.path, nil).wantError(t, 404, c.typ)
	}
	netID := mkNetwork(t, who, map[string]any{"name": "n"})["id"].(string)
	call(t, who, "GET", "/v2.0/networks/"+netID+"/tags/absent", nil).wantError(t, 404, "TagNotFound")
	call(t, who, "GET", "/v2.0/networks/"+netID+"/l3-agents", nil).wantError(t, 404, "HTTPNotFound")
}

// Members list no agents (200, empty) instead of 403, and do not see the
// subnets of an external network they do not own unless it is shared.
func TestMemberViewsTempestExpects(t *testing.T) {
	who := member("p-conf-view")
	if a := call(t, who, "GET", "/v2.0/agents", nil).want(t, 200).list(t, "agents"); len(a) != 0 {
		t.Fatalf("member sees agents: %v", a)
	}
	ext := mkNetwork(t, admin, map[string]any{"name": "conf-ext", "router:external": true})
	sub := mkSubnet(t, admin, ext["id"].(string), "172.30.9.0/24", nil)
	t.Cleanup(func() { call(t, admin, "DELETE", "/v2.0/networks/"+ext["id"].(string), nil) })
	call(t, who, "GET", "/v2.0/networks/"+ext["id"].(string), nil).want(t, 200)
	for _, s := range call(t, who, "GET", "/v2.0/subnets", nil).want(t, 200).list(t, "subnets") {
		if s["id"] == sub["id"] {
			t.Fatalf("member sees the external network's subnet %v", s)
		}
	}
	call(t, who, "GET", "/v2.0/subnets/"+sub["id"].(string), nil).wantError(t, 404, "SubnetNotFound")
}
