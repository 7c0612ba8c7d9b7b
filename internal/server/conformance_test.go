package server_test

import (
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
