package server_test

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
)

func names(objs []map[string]any) []string {
	var out []string
	for _, o := range objs {
		out = append(out, fmt.Sprint(o["name"]))
	}
	return out
}

func TestListFiltersFieldsSorting(t *testing.T) {
	p := member("proj-query")
	for i, name := range []string{"q-c", "q-a", "q-b", "q-d"} {
		mkNetwork(t, p, map[string]any{"name": name, "admin_state_up": i%2 == 0})
	}
	list := func(q string) []map[string]any {
		t.Helper()
		return call(t, p, "GET", "/v2.0/networks?"+q, nil).want(t, 200).list(t, "networks")
	}
	if got := names(list("name=q-a&name=q-c&sort_key=name")); !slices.Equal(got, []string{"q-a", "q-c"}) {
		t.Fatalf("ORed names: %v", got)
	}
	if got := names(list("admin_state_up=false&sort_key=name&sort_dir=desc")); !slices.Equal(got, []string{"q-d", "q-a"}) {
		t.Fatalf("bool filter desc: %v", got)
	}
	if got := names(list("admin_state_up=True&name=q-c")); !slices.Equal(got, []string{"q-c"}) {
		t.Fatalf("ANDed filters: %v", got)
	}
	only := list("name=q-d&fields=name&fields=mtu")
	if len(only) != 1 || len(only[0]) != 2 || only[0]["mtu"] != 1450.0 {
		t.Fatalf("fields: %v", only)
	}
	one := call(t, p, "GET", "/v2.0/networks/"+list("name=q-a")[0]["id"].(string)+"?fields=id", nil).want(t, 200).obj(t, "network")
	if len(one) != 1 {
		t.Fatalf("fields on show: %v", one)
	}
}

func TestPagination(t *testing.T) {
	p := member("proj-page")
	var want []string
	for i := range 5 {
		want = append(want, mkNetwork(t, p, map[string]any{"name": fmt.Sprintf("pg-%d", i)})["name"].(string))
	}
	var got []string
	path := "/v2.0/networks?limit=2&sort_key=name&sort_dir=asc&project_id=proj-page"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		r := call(t, p, "GET", path, nil).want(t, 200)
		got = append(got, names(r.list(t, "networks"))...)
		path = ""
		links, _ := r.body["networks_links"].([]any)
		for _, l := range links {
			m := l.(map[string]any)
			if m["rel"] == "next" {
				u, err := url.Parse(m["href"].(string))
				if err != nil {
					t.Fatal(err)
				}
				path = u.RequestURI()
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages gave %v, want %v", got, want)
	}
	// Going back from the last page.
	r := call(t, p, "GET", "/v2.0/networks?sort_key=name&name=pg-4", nil).want(t, 200)
	last := r.list(t, "networks")[0]["id"].(string)
	back := call(t, p, "GET", "/v2.0/networks?sort_key=name&limit=2&page_reverse=true&marker="+last, nil).want(t, 200)
	if got := names(back.list(t, "networks")); !slices.Equal(got, []string{"pg-2", "pg-3"}) {
		t.Fatalf("reverse page: %v", got)
	}
}

func TestPortFixedIPFilter(t *testing.T) {
	p := member("proj-fixedfilter")
	netID := mkNetwork(t, p, map[string]any{"name": "ff"})["id"].(string)
	subID := mkSubnet(t, p, netID, "10.44.0.0/24", nil)["id"].(string)
	a := mkPort(t, p, netID, map[string]any{"fixed_ips": []map[string]string{{"ip_address": "10.44.0.5"}}})
	mkPort(t, p, netID, map[string]any{"fixed_ips": []map[string]string{{"ip_address": "10.44.0.6"}}})
	got := call(t, p, "GET", "/v2.0/ports?fixed_ips=ip_address%3D10.44.0.5", nil).want(t, 200).list(t, "ports")
	if len(got) != 1 || got[0]["id"] != a["id"] {
		t.Fatalf("by ip: %v", got)
	}
	got = call(t, p, "GET", "/v2.0/ports?fixed_ips=subnet_id%3D"+subID, nil).want(t, 200).list(t, "ports")
	if len(got) != 2 {
		t.Fatalf("by subnet: %d ports", len(got))
	}
	got = call(t, p, "GET", "/v2.0/ports?device_owner=&network_id="+netID, nil).want(t, 200).list(t, "ports")
	if len(got) != 2 {
		t.Fatalf("empty device_owner: %d ports", len(got))
	}
}
