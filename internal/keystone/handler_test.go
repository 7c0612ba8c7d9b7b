package keystone

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store/memstore"
)

// testAPI is a keystone service with its /v3 routes and, at /v2.0/whoami,
// a handler behind the auth middleware that echoes the caller's identity.
type testAPI struct {
	*testing.T
	svc *Service
	srv *httptest.Server
}

func newTestAPI(t *testing.T, mode Mode) *testAPI {
	svc := newService(t, memstore.New(), testConfig())
	mux := http.NewServeMux()
	svc.Routes(mux)
	mux.HandleFunc("GET /v2.0/whoami", func(w http.ResponseWriter, r *http.Request) {
		id, ok := identity.FromContext(r.Context())
		if !ok {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(id)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "versions") })
	srv := httptest.NewServer(svc.Middleware(mode)(mux))
	t.Cleanup(srv.Close)
	return &testAPI{T: t, svc: svc, srv: srv}
}

// do sends a request and decodes a JSON answer into a generic map.
func (a *testAPI) do(method, path string, hdr map[string]string, body string) (*http.Response, map[string]any) {
	a.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, strings.NewReader(body))
	if err != nil {
		a.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(bytes.TrimSpace(raw)) > 0 && json.Unmarshal(raw, &m) != nil {
		m = map[string]any{"raw": string(raw)}
	}
	return resp, m
}

func passwordAuth(user, pw, scope string) string {
	return `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"` + user +
		`","domain":{"name":"Default"},"password":"` + pw + `"}}}` + scope + `}}`
}

func projectScope(name string) string {
	return `,"scope":{"project":{"name":"` + name + `","domain":{"name":"Default"}}}`
}

// login returns a token for user scoped to project (name).
func (a *testAPI) login(user, pw, project string) string {
	a.Helper()
	resp, _ := a.do("POST", "/v3/auth/tokens", nil, passwordAuth(user, pw, projectScope(project)))
	if resp.StatusCode != http.StatusCreated {
		a.Fatalf("login %s: status %d", user, resp.StatusCode)
	}
	return resp.Header.Get("X-Subject-Token")
}

// dig walks a decoded JSON document: dig(m, "token", "project", "name").
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestVersionDocument(t *testing.T) {
	a := newTestAPI(t, ModeKeystone)
	for _, p := range []string{"/v3", "/v3/"} {
		resp, m := a.do("GET", p, nil, "")
		if resp.StatusCode != 200 || dig(m, "version", "status") != "stable" ||
			dig(m, "version", "links", 0, "href") != a.srv.URL+"/v3/" {
			t.Fatalf("GET %s = %d %v", p, resp.StatusCode, m)
		}
	}
}

func TestPasswordTokenBody(t *testing.T) {
	a := newTestAPI(t, ModeKeystone)
	resp, m := a.do("POST", "/v3/auth/tokens", nil, passwordAuth("admin", "secret", projectScope("admin")))
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("X-Subject-Token") == "" {
		t.Fatalf("status %d, token %q", resp.StatusCode, resp.Header.Get("X-Subject-Token"))
	}
	checks := map[string][2]any{
		"user":         {dig(m, "token", "user", "name"), "admin"},
		"project id":   {dig(m, "token", "project", "id"), ProjectID("admin")},
		"domain":       {dig(m, "token", "project", "domain", "id"), "default"},
		"method":       {dig(m, "token", "methods", 0), "password"},
		"role":         {dig(m, "token", "roles", 0, "name"), "admin"},
		"network type": {dig(m, "token", "catalog", 0, "type"), "network"},
		"network url":  {dig(m, "token", "catalog", 0, "endpoints", 0, "url"), a.srv.URL},
		"interface":    {dig(m, "token", "catalog", 0, "endpoints", 0, "interface"), "public"},
		"region":       {dig(m, "token", "catalog", 0, "endpoints", 0, "region"), "RegionOne"},
		"region_id":    {dig(m, "token", "catalog", 0, "endpoints", 2, "region_id"), "RegionOne"},
		"identity url": {dig(m, "token", "catalog", 1, "endpoints", 0, "url"), a.srv.URL + "/v3"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %v, want %v", name, c[0], c[1])
		}
	}
	if exp, _ := dig(m, "token", "expires_at").(string); len(exp) != len("2026-01-02T15:04:05.000000Z") {
		t.Errorf("expires_at = %q", exp)
	}
}

func TestAuthFailuresUseKeystoneErrors(t *testing.T) {
	a := newTestAPI(t, ModeKeystone)
	cases := map[string]struct {
		body string
		code int
	}{
		"wrong password":    {passwordAuth("alice", "nope", ""), 401},
		"unknown user":      {passwordAuth("mallory", "x", ""), 401},
		"foreign project":   {passwordAuth("alice", "alicepw", projectScope("demo")), 401},
		"missing project":   {passwordAuth("admin", "secret", projectScope("nosuch")), 401},
		"domain scope":      {passwordAuth("admin", "secret", `,"scope":{"domain":{"id":"default"}}`), 401},
		"other user domain": {strings.Replace(passwordAuth("admin", "secret", ""), "Default", "Other", 1), 401},
		"bad token":         {`{"auth":{"identity":{"methods":["token"],"token":{"id":"forged"}}}}`, 401},
		"no method":         {`{"auth":{"identity":{"methods":[]}}}`, 401},
		"not json":          {`{"auth":`, 400},
	}
	for name, c := range cases {
		resp, m := a.do("POST", "/v3/auth/tokens", nil, c.body)
		if resp.StatusCode != c.code || dig(m, "error", "code") != float64(c.code) || dig(m, "error", "title") == nil {
			t.Errorf("%s: %d %v, want %d in Keystone's format", name, resp.StatusCode, m, c.code)
		}
		if resp.Header.Get("X-Subject-Token") != "" {
			t.Errorf("%s: a token was issued", name)
		}
	}
}

func TestRescopeAndValidate(t *testing.T) {
	a := newTestAPI(t, ModeKeystone)
	admin := a.login("admin", "secret", "admin")
	body := `{"auth":{"identity":{"methods":["token"],"token":{"id":"` + admin + `"}},` +
		`"scope":{"project":{"id":"` + ProjectID("demo") + `"}}}}`
	resp, m := a.do("POST", "/v3/auth/tokens", nil, body)
	if resp.StatusCode != 201 || dig(m, "token", "project", "name") != "demo" || dig(m, "token", "methods", 0) != "token" {
		t.Fatalf("re-scope: %d %v", resp.StatusCode, m)
	}
	demoTok := resp.Header.Get("X-Subject-Token")
	resp, m = a.do("GET", "/v3/auth/tokens", map[string]string{"X-Auth-Token": admin, "X-Subject-Token": demoTok}, "")
	if resp.StatusCode != 200 || dig(m, "token", "project", "id") != ProjectID("demo") {
		t.Fatalf("validate: %d %v", resp.StatusCode, m)
	}
	resp, _ = a.do("GET", "/v3/auth/tokens", map[string]string{"X-Auth-Token": admin, "X-Subject-Token": demoTok + "x"}, "")
	if resp.StatusCode != 404 {
		t.Fatalf("validate tampered subject: %d, want 404", resp.StatusCode)
	}
	resp, _ = a.do("GET", "/v3/auth/tokens", map[string]string{"X-Subject-Token": demoTok}, "")
	if resp.StatusCode != 401 {
		t.Fatalf("validate without X-Auth-Token: %d, want 401", resp.StatusCode)
	}
	alice := a.login("alice", "alicepw", "projectA")
	resp, _ = a.do("GET", "/v3/auth/tokens", map[string]string{"X-Auth-Token": alice, "X-Subject-Token": demoTok}, "")
	if resp.StatusCode != 403 {
		t.Fatalf("alice validating admin's token: %d, want 403", resp.StatusCode)
	}
	body = strings.Replace(body, admin, alice, 1)
	if resp, _ = a.do("POST", "/v3/auth/tokens", nil, body); resp.StatusCode != 401 {
		t.Fatalf("alice re-scoping to demo: %d, want 401", resp.StatusCode)
	}
}
