package server_test

import (
	"fmt"
	"slices"
	"testing"
)

// TestQuotaAPI: Neutron's quotas and quota_details: admins set and reset
// limits, members read only their own project's.
func TestQuotaAPI(t *testing.T) {
	p := member("proj-quota-api")
	exts := call(t, admin, "GET", "/v2.0/extensions", nil).want(t, 200).list(t, "extensions")
	var aliases []string
	for _, e := range exts {
		aliases = append(aliases, e["alias"].(string))
	}
	for _, a := range []string{"quotas", "quota_details"} {
		if !slices.Contains(aliases, a) {
			t.Fatalf("extension %s not listed", a)
		}
	}
	path := "/v2.0/quotas/proj-quota-api"
	call(t, p, "PUT", path, map[string]any{"quota": map[string]any{"network": 5}}).wantError(t, 403, "PolicyNotAuthorized")
	call(t, p, "DELETE", path, nil).wantError(t, 403, "PolicyNotAuthorized")
	call(t, p, "GET", "/v2.0/quotas/someone-else", nil).wantError(t, 403, "PolicyNotAuthorized")
	call(t, admin, "PUT", path, map[string]any{"quota": map[string]any{"network": -2}}).wantError(t, 400, "")
	call(t, admin, "PUT", path, map[string]any{"quota": map[string]any{"routerz": 1}}).wantError(t, 400, "HTTPBadRequest")
	q := call(t, admin, "PUT", path, map[string]any{"quota": map[string]any{"network": 2, "port": "3"}}).want(t, 200).obj(t, "quota")
	if q["network"] != 2.0 || q["port"] != 3.0 || q["subnet"] != -1.0 {
		t.Fatalf("quota after PUT: %v", q)
	}
	got := call(t, p, "GET", path, nil).want(t, 200).obj(t, "quota")
	if fmt.Sprint(got) != fmt.Sprint(q) {
		t.Fatalf("member GET %v, want %v", got, q)
	}
	netID := mkNetwork(t, p, map[string]any{"name": "q"})["id"].(string)
	d := call(t, p, "GET", path+"/details.json", nil).want(t, 200).obj(t, "quota")
	if fmt.Sprint(d["network"]) != "map[limit:2 reserved:0 used:1]" {
		t.Fatalf("details: %v", d)
	}
	listed := call(t, admin, "GET", "/v2.0/quotas", nil).want(t, 200).list(t, "quotas")
	if !slices.ContainsFunc(listed, func(q map[string]any) bool { return q["project_id"] == "proj-quota-api" }) {
		t.Fatalf("project missing from the quota list: %v", listed)
	}
	call(t, p, "GET", "/v2.0/quotas", nil).wantError(t, 403, "PolicyNotAuthorized")
	// Ports: 3 allowed, the 4th is over quota; a delete frees a place.
	var first string
	for range 3 {
		first = mkPort(t, p, netID, nil)["id"].(string)
	}
	call(t, p, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}).wantError(t, 409, "OverQuota")
	call(t, p, "POST", "/v2.0/ports", map[string]any{"ports": []map[string]any{{"network_id": netID}, {"network_id": netID}}}).
		wantError(t, 409, "OverQuota")
	call(t, p, "DELETE", "/v2.0/ports/"+first, nil).want(t, 204)
	mkPort(t, p, netID, nil)
	call(t, p, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}).wantError(t, 409, "OverQuota")
	call(t, admin, "DELETE", path, nil).want(t, 204)
	if q := call(t, p, "GET", path, nil).want(t, 200).obj(t, "quota"); q["port"] != -1.0 {
		t.Fatalf("quota after DELETE is not the default: %v", q)
	}
	mkPort(t, p, netID, nil)
}

// TestConcurrentCreatesCannotExceedQuota: creates racing through two
// servers get exactly the quota, the rest OverQuota (a member cannot take
// every free VNI).
func TestConcurrentCreatesCannotExceedQuota(t *testing.T) {
	p := member("proj-quota-race")
	by := alternate(t, p)
	call(t, admin, "PUT", "/v2.0/quotas/proj-quota-race", map[string]any{"quota": map[string]any{"network": 5, "port": 7}}).want(t, 200)
	count := func(statuses []int, errs []error) map[int]int {
		out := map[int]int{}
		for i, s := range statuses {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			out[s]++
		}
		return out
	}
	nets, errs := parallel(30, func(i int) (int, error) {
		r := call(t, by(i), "POST", "/v2.0/networks", map[string]any{"network": map[string]any{"name": "race"}})
		if r.status == 409 && r.neutronError(t) != "OverQuota" {
			return 0, fmt.Errorf("409 %s", r.raw)
		}
		return r.status, nil
	})
	if c := count(nets, errs); c[201] != 5 || c[409] != 25 {
		t.Fatalf("network creates: %v, want 5 created and 25 OverQuota", c)
	}
	// Its own network: other tests' shared networks are in the list too.
	netID := call(t, p, "GET", "/v2.0/networks?project_id="+p.project, nil).want(t, 200).list(t, "networks")[0]["id"].(string)
	mkSubnet(t, p, netID, "10.83.0.0/24", nil)
	ports, errs := parallel(30, func(i int) (int, error) {
		r := call(t, by(i), "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}})
		return r.status, nil
	})
	if c := count(ports, errs); c[201] != 7 || c[409] != 23 {
		t.Fatalf("port creates: %v, want 7 created and 23 OverQuota", c)
	}
	if got := len(call(t, p, "GET", "/v2.0/ports", nil).want(t, 200).list(t, "ports")); got != 7 {
		t.Fatalf("%d ports listed, want 7", got)
	}
}
