package server_test

import (
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
)

// tagsOf is GET .../tags, sorted.
func tagsOf(t *testing.T, who caller, path string) []string {
	t.Helper()
	r := call(t, who, "GET", path+"/tags", nil).want(t, 200)
	return sortedStrings(t, r.body["tags"])
}

func sortedStrings(t *testing.T, v any) []string {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("not a list: %v", v)
	}
	out := make([]string, len(l))
	for i, e := range l {
		out[i] = e.(string)
	}
	sort.Strings(out)
	return out
}

// revAndTime are a resource's revision_number and updated_at.
func revAndTime(t *testing.T, who caller, coll, singular, id string) (float64, string) {
	t.Helper()
	o := call(t, who, "GET", "/v2.0/"+coll+"/"+id, nil).want(t, 200).obj(t, singular)
	return o["revision_number"].(float64), o["updated_at"].(string)
}

// TestTagVerbs runs every tag verb on each taggable resource and checks
// that tags show on the resource and bump its revision.
func TestTagVerbs(t *testing.T) {
	p := member("tags-verbs")
	net := mkNetwork(t, p, map[string]any{"name": "tv"})
	sub := mkSubnet(t, p, net["id"].(string), "10.77.0.0/24", nil)
	port := mkPort(t, p, net["id"].(string), nil)
	for _, res := range []struct{ coll, singular, id string }{
		{"networks", "network", net["id"].(string)},
		{"subnets", "subnet", sub["id"].(string)},
		{"ports", "port", port["id"].(string)},
	} {
		t.Run(res.coll, func(t *testing.T) {
			path := "/v2.0/" + res.coll + "/" + res.id
			if got := tagsOf(t, p, path); len(got) != 0 {
				t.Fatalf("new resource has tags %v", got)
			}
			rev0, _ := revAndTime(t, p, res.coll, res.singular, res.id)

			// Add one tag: 201 with no body; adding it again changes nothing.
			r := call(t, p, "PUT", path+"/tags/red", nil).want(t, 201)
			if len(r.raw) != 0 {
				t.Fatalf("PUT tag answered a body: %s", r.raw)
			}
			rev1, _ := revAndTime(t, p, res.coll, res.singular, res.id)
			if rev1 != rev0+1 {
				t.Fatalf("adding a tag: revision %v -> %v, want +1", rev0, rev1)
			}
			call(t, p, "PUT", path+"/tags/red", nil).want(t, 201)
			if rev, _ := revAndTime(t, p, res.coll, res.singular, res.id); rev != rev1 {
				t.Fatalf("re-adding a tag bumped the revision to %v", rev)
			}
			call(t, p, "GET", path+"/tags/red", nil).want(t, 204)
			call(t, p, "GET", path+"/tags/blue", nil).wantError(t, 404, "TagNotFound")

			// Replace all: 200 with the new list, shown on the resource.
			r = call(t, p, "PUT", path+"/tags", map[string]any{"tags": []string{"a b", "c/d", "e"}}).want(t, 200)
			if got := sortedStrings(t, r.body["tags"]); !slices.Equal(got, []string{"a b", "c/d", "e"}) {
				t.Fatalf("PUT tags answered %v", got)
			}
			o := call(t, p, "GET", path, nil).want(t, 200).obj(t, res.singular)
			if got := sortedStrings(t, o["tags"]); !slices.Equal(got, []string{"a b", "c/d", "e"}) {
				t.Fatalf("resource shows tags %v", got)
			}
			if o["revision_number"].(float64) != rev1+1 {
				t.Fatalf("replacing tags: revision %v, want %v", o["revision_number"], rev1+1)
			}
			call(t, p, "GET", path+"/tags/red", nil).wantError(t, 404, "TagNotFound")
			call(t, p, "GET", path+"/tags/"+url.PathEscape("c/d"), nil).want(t, 204)

			// Remove one: 204, then 404 for a tag it lacks.
			call(t, p, "DELETE", path+"/tags/e", nil).want(t, 204)
			call(t, p, "DELETE", path+"/tags/e", nil).wantError(t, 404, "TagNotFound")
			if got := tagsOf(t, p, path); !slices.Equal(got, []string{"a b", "c/d"}) {
				t.Fatalf("after removing e: %v", got)
			}

			// Remove all: 204 and an empty list.
			call(t, p, "DELETE", path+"/tags", nil).want(t, 204)
			if got := tagsOf(t, p, path); len(got) != 0 {
				t.Fatalf("after removing all: %v", got)
			}
			if rev, _ := revAndTime(t, p, res.coll, res.singular, res.id); rev != rev1+3 {
				t.Fatalf("revision after 4 changes is %v, want %v", rev, rev1+3)
			}
			// Tags are not an attribute of PUT on the resource itself.
			call(t, p, "PUT", path, map[string]any{res.singular: map[string]any{"tags": []string{"x"}}}).wantError(t, 400, "")
		})
	}
}

// TestTagsOnCreate: networks, subnets and ports (also in bulk) take tags
// when created (tag-creation, tag-ports-during-bulk-creation).
func TestTagsOnCreate(t *testing.T) {
	p := member("tags-create")
	net := mkNetwork(t, p, map[string]any{"tags": []string{"n1", "n2"}})
	if got := sortedStrings(t, net["tags"]); !slices.Equal(got, []string{"n1", "n2"}) {
		t.Fatalf("network tags %v", got)
	}
	sub := mkSubnet(t, p, net["id"].(string), "10.78.0.0/24", map[string]any{"tags": []string{"s"}})
	if got := sortedStrings(t, sub["tags"]); !slices.Equal(got, []string{"s"}) {
		t.Fatalf("subnet tags %v", got)
	}
	r := call(t, p, "POST", "/v2.0/ports", map[string]any{"ports": []any{
		map[string]any{"network_id": net["id"], "tags": []string{"p1"}},
		map[string]any{"network_id": net["id"], "tags": []string{"p2", "p3"}},
	}}).want(t, 201)
	ports := r.list(t, "ports")
	if a, b := sortedStrings(t, ports[0]["tags"]), sortedStrings(t, ports[1]["tags"]); !slices.Equal(a, []string{"p1"}) || !slices.Equal(b, []string{"p2", "p3"}) {
		t.Fatalf("bulk port tags %v %v", a, b)
	}
	if got := tagsOf(t, p, "/v2.0/ports/"+ports[1]["id"].(string)); !slices.Equal(got, []string{"p2", "p3"}) {
		t.Fatalf("stored port tags %v", got)
	}
	// Bad tags on create fail the whole create.
	long := strings.Repeat("x", 256)
	for _, bad := range []any{[]string{"d", "d"}, []string{long}, []any{1}, "notalist"} {
		call(t, p, "POST", "/v2.0/networks", map[string]any{"network": map[string]any{"tags": bad}}).wantError(t, 400, "")
	}
}

// TestTagFilters: tags (all), tags-any (one), not-tags (not all),
// not-tags-any (none), comma-separated and repeated.
func TestTagFilters(t *testing.T) {
	p := member("tags-filters")
	byTags := map[string][]string{"n-red": {"red"}, "n-blue": {"blue"}, "n-rb": {"red", "blue"}, "n-none": {}}
	for name, tags := range byTags {
		mkNetwork(t, p, map[string]any{"name": name, "tags": tags})
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"tags=red", []string{"n-rb", "n-red"}},
		{"tags=red,blue", []string{"n-rb"}},
		{"tags=red&tags=blue", []string{"n-rb"}},
		{"tags-any=red,blue", []string{"n-blue", "n-rb", "n-red"}},
		{"tags-any=green", nil},
		{"not-tags=red,blue", []string{"n-blue", "n-none", "n-red"}},
		{"not-tags-any=red,blue", []string{"n-none"}},
		{"not-tags-any=red", []string{"n-blue", "n-none"}},
		{"tags=blue&not-tags=red", []string{"n-blue"}},
		{"tags-any=red&name=n-rb", []string{"n-rb"}},
	} {
		// Other tests' shared networks are visible too: keep this test's.
		var got []string
		for _, n := range names(call(t, p, "GET", "/v2.0/networks?"+tc.query, nil).want(t, 200).list(t, "networks")) {
			if _, mine := byTags[n]; mine {
				got = append(got, n)
			}
		}
		sort.Strings(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.query, got, tc.want)
		}
	}
	// The filters exist on subnets and ports too, not on agents.
	net := mkNetwork(t, p, map[string]any{"name": "n-ports"})
	mkPort(t, p, net["id"].(string), map[string]any{"name": "pt", "tags": []string{"x"}})
	mkPort(t, p, net["id"].(string), map[string]any{"name": "pu"})
	if got := names(call(t, p, "GET", "/v2.0/ports?not-tags-any=x", nil).want(t, 200).list(t, "ports")); !slices.Equal(got, []string{"pu"}) {
		t.Errorf("ports not-tags-any=x: %v", got)
	}
	call(t, p, "GET", "/v2.0/subnets?tags-any=x", nil).want(t, 200)
	call(t, admin, "GET", "/v2.0/agents?tags=x", nil).wantError(t, 400, "HTTPBadRequest")
}

// TestBadTags: too long, not strings, duplicates, bad bodies are 400.
func TestBadTags(t *testing.T) {
	p := member("tags-bad")
	net := mkNetwork(t, p, map[string]any{})
	path := "/v2.0/networks/" + net["id"].(string) + "/tags"
	long := strings.Repeat("x", 256)
	call(t, p, "PUT", path+"/"+strings.Repeat("x", 255), nil).want(t, 201)
	call(t, p, "PUT", path+"/"+long, nil).wantError(t, 400, "InvalidInput")
	call(t, p, "GET", path+"/"+long, nil).wantError(t, 400, "InvalidInput")
	call(t, p, "DELETE", path+"/"+long, nil).wantError(t, 400, "InvalidInput")
	for _, body := range []any{
		map[string]any{"tags": []string{long}},
		map[string]any{"tags": []string{"a", "a"}},
		map[string]any{"tags": []any{"a", 1}},
		map[string]any{"tags": []any{nil}},
		map[string]any{"tags": "a"},
		map[string]any{"tags": nil},
		map[string]any{"tag": []string{"a"}},
		"[]", "not json", "",
	} {
		r := call(t, p, "PUT", path, body)
		r.wantError(t, 400, "")
	}
	// Nothing of that changed the tags.
	if got := tagsOf(t, p, "/v2.0/networks/"+net["id"].(string)); len(got) != 1 || got[0] != strings.Repeat("x", 255) {
		t.Fatalf("tags after bad requests: %v", got)
	}
}

// TestTagPolicy: another project sees 404, a reader reads but may not
// change (403), the admin may do anything.
func TestTagPolicy(t *testing.T) {
	owner, reader, other := member("tags-pol"), caller{project: "tags-pol", roles: "reader"}, member("tags-pol-other")
	net := mkNetwork(t, owner, map[string]any{"tags": []string{"t"}})
	port := mkPort(t, owner, net["id"].(string), nil)
	for _, path := range []string{"/v2.0/networks/" + net["id"].(string), "/v2.0/ports/" + port["id"].(string)} {
		call(t, owner, "PUT", path+"/tags/t", nil).want(t, 201)
		notFound := "NetworkNotFound"
		if strings.Contains(path, "ports") {
			notFound = "PortNotFound"
		}
		for _, c := range []struct{ method, suffix string }{
			{"GET", "/tags"}, {"GET", "/tags/t"}, {"PUT", "/tags/u"}, {"DELETE", "/tags/t"}, {"DELETE", "/tags"}, {"PUT", "/tags"},
		} {
			var body any
			if c.method == "PUT" && c.suffix == "/tags" {
				body = map[string]any{"tags": []string{"v"}}
			}
			call(t, other, c.method, path+c.suffix, body).wantError(t, 404, notFound)
			if c.method == "GET" {
				call(t, reader, c.method, path+c.suffix, body).want(t, map[string]int{"/tags": 200, "/tags/t": 204}[c.suffix])
			} else {
				call(t, reader, c.method, path+c.suffix, body).wantError(t, 403, "PolicyNotAuthorized")
			}
		}
		if got := tagsOf(t, owner, path); !slices.Equal(got, []string{"t"}) {
			t.Fatalf("tags changed by refused requests: %v", got)
		}
		call(t, admin, "PUT", path+"/tags/adm", nil).want(t, 201)
		if got := tagsOf(t, owner, path); !slices.Equal(got, []string{"adm", "t"}) {
			t.Fatalf("admin tag: %v", got)
		}
	}
	call(t, owner, "GET", "/v2.0/networks/00000000-0000-0000-0000-000000000000/tags", nil).wantError(t, 404, "NetworkNotFound")
	call(t, owner, "PUT", "/v2.0/subnets/nope/tags/x", nil).wantError(t, 404, "SubnetNotFound")
	// Filters only see what the caller may see.
	if got := call(t, other, "GET", "/v2.0/networks?tags=t", nil).want(t, 200).list(t, "networks"); len(got) != 0 {
		t.Fatalf("other project's network listed by tag: %v", got)
	}
}
