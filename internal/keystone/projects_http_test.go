package keystone

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
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
	if resp, _ = a.do("GET", "/v3/projects/"+ProjectID("demo"), alice, ""); resp.StatusCode != 404 {
		t.Fatalf("alice GETs demo: %d, want 404 (as a missing project)", resp.StatusCode)
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

// TestProjectsPolicyMatrix runs every project verb as every kind of caller:
// only admins see other projects, create and delete; others see their own
// project only, and another project answers exactly as a missing one.
func TestProjectsPolicyMatrix(t *testing.T) {
	a := newTestAPI(t, ModeKeystone)
	actors := map[string]map[string]string{
		"admin":         {"X-Auth-Token": a.login("admin", "secret", "admin")},
		"admin of demo": {"X-Auth-Token": a.login("root2", "rootpw", "demo")},
		"member of A":   {"X-Auth-Token": a.login("alice", "alicepw", "projectA")},
		"reader of A":   {"X-Auth-Token": a.login("rita", "ritapw", "projectA")},
	}
	isAdmin := func(actor string) bool { return actor == "admin" || actor == "admin of demo" }
	missing := ProjectID("no-such-project")
	n := 0
	fresh := func() string { // a project of nobody's to delete
		n++
		resp, m := a.do("POST", "/v3/projects", actors["admin"], fmt.Sprintf(`{"project":{"name":"victim-%d"}}`, n))
		if resp.StatusCode != 201 {
			t.Fatalf("create victim: %d %v", resp.StatusCode, m)
		}
		return dig(m, "project", "id").(string)
	}
	exists := func(id string) bool {
		resp, _ := a.do("GET", "/v3/projects/"+id, actors["admin"], "")
		return resp.StatusCode == 200
	}
	tried, leaked := map[string]int{}, map[string]int{}
	for actor, hdr := range actors {
		admin := isAdmin(actor)
		check := func(what string, cross bool, got, want int) {
			t.Helper()
			if cross {
				tried[actor]++
				if want >= 400 && (got < 400 || want == 404 && got != 404) {
					leaked[actor]++
				}
			}
			if got != want {
				t.Errorf("%s: %s = %d, want %d", actor, what, got, want)
			}
		}
		// list
		_, m := a.do("GET", "/v3/projects", hdr, "")
		got := names(m)
		if admin && len(got) < 3 || !admin && (len(got) != 1 || got[0] != "projectA") {
			t.Errorf("%s lists %v", actor, got)
		}
		tried[actor]++
		if !admin && len(got) != 1 {
			leaked[actor]++
		}
		// show: own, another, missing
		resp, _ := a.do("GET", "/v3/projects/"+ProjectID("projectA"), hdr, "")
		check("show own", false, resp.StatusCode, 200)
		other, m1 := a.do("GET", "/v3/projects/"+ProjectID("demo"), hdr, "")
		none, m2 := a.do("GET", "/v3/projects/"+missing, hdr, "")
		check("show another", true, other.StatusCode, map[bool]int{true: 200, false: 404}[admin])
		check("show missing", false, none.StatusCode, 404)
		if !admin && dig(m1, "error", "title") != dig(m2, "error", "title") {
			t.Errorf("%s: another project answers %v, a missing one %v", actor, m1, m2)
		}
		// create
		resp, _ = a.do("POST", "/v3/projects", hdr, `{"project":{"name":"made-by-`+strings.ReplaceAll(actor, " ", "-")+`"}}`)
		check("create", true, resp.StatusCode, map[bool]int{true: 201, false: 403}[admin])
		// delete: another, own, missing
		victim := fresh()
		resp, _ = a.do("DELETE", "/v3/projects/"+victim, hdr, "")
		check("delete another", true, resp.StatusCode, map[bool]int{true: 204, false: 403}[admin])
		if exists(victim) == admin {
			t.Errorf("%s: delete answered %d but the project exists=%v", actor, resp.StatusCode, exists(victim))
		}
		if !admin {
			resp, _ = a.do("DELETE", "/v3/projects/"+ProjectID("projectA"), hdr, "")
			check("delete own", false, resp.StatusCode, 403)
		}
		resp, _ = a.do("DELETE", "/v3/projects/"+missing, hdr, "")
		check("delete missing", true, resp.StatusCode, map[bool]int{true: 404, false: 403}[admin])
		resp, _ = a.do("DELETE", "/v3/projects/"+ProjectID("admin"), hdr, "")
		check("delete the admin project", true, resp.StatusCode, 403)
	}
	for _, actor := range slices.Sorted(maps.Keys(actors)) {
		t.Logf("projects: %-14s cross-project requests tried %d, leaked %d", actor, tried[actor], leaked[actor])
		if leaked[actor] != 0 {
			t.Errorf("%s: %d cross-project requests leaked", actor, leaked[actor])
		}
	}
	if !exists(ProjectID("projectA")) || !exists(ProjectID("admin")) {
		t.Fatal("a refused delete removed a project")
	}
}

// TestDeleteProject: a deleted project is gone for good (no token can be
// scoped to it) until an admin creates it again.
func TestDeleteProject(t *testing.T) {
	a := newTestAPI(t, ModeKeystone)
	admin := map[string]string{"X-Auth-Token": a.login("admin", "secret", "admin")}
	resp, raw := a.do("DELETE", "/v3/projects/"+ProjectID("projectA"), admin, "")
	if resp.StatusCode != http.StatusNoContent || raw != nil {
		t.Fatalf("delete: %d %v, want 204 without a body", resp.StatusCode, raw)
	}
	if resp, m := a.do("DELETE", "/v3/projects/"+ProjectID("projectA"), admin, ""); resp.StatusCode != 404 || dig(m, "error", "code") != float64(404) {
		t.Fatalf("delete twice: %d %v, want 404", resp.StatusCode, m)
	}
	if resp, _ := a.do("POST", "/v3/auth/tokens", nil, passwordAuth("alice", "alicepw", projectScope("projectA"))); resp.StatusCode != 401 {
		t.Fatalf("login to a deleted project: %d, want 401", resp.StatusCode)
	}
	// Ids derive from names: the project made again has the same id, and so
	// the Neutron resources the old one left behind (no cascade).
	resp, m := a.do("POST", "/v3/projects", admin, `{"project":{"name":"projectA"}}`)
	if resp.StatusCode != 201 || dig(m, "project", "id") != ProjectID("projectA") {
		t.Fatalf("create again: %d %v", resp.StatusCode, m)
	}
	a.login("alice", "alicepw", "projectA")
}
