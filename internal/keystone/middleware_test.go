package keystone

import (
	"errors"
	"testing"
)

func TestAuthenticateMiddleware(t *testing.T) {
	a := newTestAPI(t, ModeKeystone)
	for _, tok := range []string{"", "notused", a.login("alice", "alicepw", "projectA") + "x"} {
		resp, m := a.do("GET", "/v2.0/whoami", map[string]string{"X-Auth-Token": tok}, "")
		if resp.StatusCode != 401 || dig(m, "NeutronError", "type") != "HTTPUnauthorized" || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("token %q: %d %v, want 401 in Neutron format", tok, resp.StatusCode, m)
		}
	}
	if resp, m := a.do("GET", "/", nil, ""); resp.StatusCode != 200 || m["raw"] != "versions" {
		t.Errorf("GET / without token: %d %v", resp.StatusCode, m)
	}
	tok := a.login("alice", "alicepw", "projectA")
	resp, m := a.do("GET", "/v2.0/whoami", map[string]string{"X-Auth-Token": tok}, "")
	if resp.StatusCode != 200 || m["ProjectID"] != ProjectID("projectA") || m["UserName"] != "alice" || dig(m, "Roles", 0) != "member" {
		t.Fatalf("whoami: %d %v", resp.StatusCode, m)
	}
	// Headers are not trusted in keystone mode.
	resp, m = a.do("GET", "/v2.0/whoami", map[string]string{"X-Auth-Token": tok, "X-Project-Id": "p", "X-Roles": "admin"}, "")
	if m["ProjectID"] != ProjectID("projectA") || dig(m, "Roles", 0) != "member" {
		t.Fatalf("keystone mode trusted headers: %v", m)
	}
}

func TestNoAuthMiddleware(t *testing.T) {
	a := newTestAPI(t, ModeNoAuth)
	// What `openstack --os-auth-type none` sends.
	resp, m := a.do("GET", "/v2.0/whoami", map[string]string{"X-Auth-Token": "notused"}, "")
	if resp.StatusCode != 200 || m["ProjectID"] != a.svc.AdminProjectID() || m["ProjectName"] != "admin" || dig(m, "Roles", 0) != "admin" {
		t.Fatalf("no headers: %d %v", resp.StatusCode, m)
	}
	_, m = a.do("GET", "/v2.0/whoami", map[string]string{"X-Tenant-Id": "t1", "X-User-Id": "u1"}, "")
	if m["ProjectID"] != "t1" || m["UserID"] != "u1" || dig(m, "Roles", 0) != "member" || dig(m, "Roles", 1) != nil {
		t.Fatalf("X-Tenant-Id: %v", m)
	}
	_, m = a.do("GET", "/v2.0/whoami", map[string]string{"X-Project-Id": "p1", "X-Tenant-Id": "t1", "X-Roles": " reader, admin ,"}, "")
	if m["ProjectID"] != "p1" || dig(m, "Roles", 0) != "reader" || dig(m, "Roles", 1) != "admin" || dig(m, "Roles", 2) != nil {
		t.Fatalf("X-Project-Id + X-Roles: %v", m)
	}
	tok := a.login("alice", "alicepw", "projectA")
	if _, m = a.do("GET", "/v2.0/whoami", map[string]string{"X-Auth-Token": tok}, ""); m["UserName"] != "alice" {
		t.Fatalf("valid token in noauth mode: %v", m)
	}
}

func TestParseMode(t *testing.T) {
	for _, s := range []string{"keystone", "noauth"} {
		if m, err := ParseMode(s); err != nil || string(m) != s {
			t.Errorf("ParseMode(%q) = %q, %v", s, m, err)
		}
	}
	if _, err := ParseMode("none"); !errors.Is(err, ErrMode) {
		t.Errorf("ParseMode(none) = %v", err)
	}
}
