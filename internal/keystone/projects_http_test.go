package keystone

import (
	"net/http"
	"testing"
)

func names(m map[string]any) []string {
	var out []string
	l, _ := m["projects"].([]any)
	for i := range l {
		n, _ := dig(l, i, "name").(string)
		out = append(out, n)
	}
	return out
}

func TestProjectsAPI(t *testing.T) {
	a := newTestAPI(t, ModeKeystone)
	admin := map[string]string{"X-Auth-Token": a.login("admin", "secret", "admin")}
	alice := map[string]string{"X-Auth-Token": a.login("alice", "alicepw", "projectA")}

	resp, m := a.do("GET", "/v3/projects", admin, "")
	if got := names(m); resp.StatusCode != 200 || len(got) != 3 || got[0] != "admin" || got[2] != "projectA" {
		t.Fatalf("admin lists %d %v", resp.StatusCode, got)
	}
	if _, m = a.do("GET", "/v3/projects?name=demo", admin, ""); len(names(m)) != 1 || dig(m, "projects", 0, "id") != ProjectID("demo") {
		t.Fatalf("?name=demo: %v", m)
	}
	if _, m = a.do("GET", "/v3/projects", alice, ""); len(names(m)) != 1 || names(m)[0] != "projectA" {
		t.Fatalf("alice lists %v", names(m))
	}
	if resp, _ = a.do("GET", "/v3/projects", nil, ""); resp.StatusCode != 401 {
		t.Fatalf("list without token: %d", resp.StatusCode)
	}
	// Clients resolving a name first GET it as an id: that must be a 404.
	if resp, m = a.do("GET", "/v3/projects/demo", admin, ""); resp.StatusCode != 404 || dig(m, "error", "code") != float64(404) {
		t.Fatalf("GET by name: %d %v", resp.StatusCode, m)
	}
	if resp, m = a.do("GET", "/v3/projects/"+ProjectID("demo"), admin, ""); resp.StatusCode != 200 || dig(m, "project", "name") != "demo" {
		t.Fatalf("GET by id: %d %v", resp.StatusCode, m)
	}
	if resp, _ = a.do("GET", "/v3/projects/"+ProjectID("demo"), alice, ""); resp.StatusCode != 403 {
		t.Fatalf("alice GETs demo: %d, want 403", resp.StatusCode)
	}

	create := `{"project":{"name":"newp","description":"d","domain_id":"default"}}`
	if resp, _ = a.do("POST", "/v3/projects", alice, create); resp.StatusCode != 403 {
		t.Fatalf("member creates a project: %d, want 403", resp.StatusCode)
	}
	resp, m = a.do("POST", "/v3/projects", admin, create)
	if resp.StatusCode != http.StatusCreated || dig(m, "project", "id") != ProjectID("newp") || dig(m, "project", "description") != "d" {
		t.Fatalf("create: %d %v", resp.StatusCode, m)
	}
	if resp, _ = a.do("POST", "/v3/projects", admin, create); resp.StatusCode != http.StatusConflict {
		t.Fatalf("create twice: %d, want 409", resp.StatusCode)
	}
	if resp, _ = a.do("POST", "/v3/projects", admin, `{"project":{"name":""}}`); resp.StatusCode != 400 {
		t.Fatalf("create nameless: %d, want 400", resp.StatusCode)
	}
	// The admin can now scope a token to the new project.
	a.login("admin", "secret", "newp")
}

func TestDomains(t *testing.T) {
	a := newTestAPI(t, ModeKeystone)
	admin := map[string]string{"X-Auth-Token": a.login("admin", "secret", "admin")}
	if resp, m := a.do("GET", "/v3/domains/default", admin, ""); resp.StatusCode != 200 || dig(m, "domain", "name") != "Default" {
		t.Fatalf("domain: %d %v", resp.StatusCode, m)
	}
	if resp, _ := a.do("GET", "/v3/domains/other", admin, ""); resp.StatusCode != 404 {
		t.Fatalf("other domain: %d", resp.StatusCode)
	}
	if _, m := a.do("GET", "/v3/domains?name=Default", admin, ""); dig(m, "domains", 0, "id") != "default" {
		t.Fatalf("domains: %v", m)
	}
}
