package neutron

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// object is one resource as it goes on the wire, as a map so that lists
// can be filtered, sorted and projected by attribute name.
type object = map[string]any

// toObject converts a resource to its wire map, without hidden attributes.
func toObject(v any, hidden []string) (object, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m object
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for _, h := range hidden {
		delete(m, h)
	}
	return m, nil
}

// withoutKeys returns v itself, or, when keys must be hidden, its JSON
// object without them (values stay raw: cheaper than toObject).
func withoutKeys(v any, keys []string) (any, error) {
	if len(keys) == 0 {
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for _, k := range keys {
		delete(m, k)
	}
	return m, nil
}

// Query parameters that are not attribute filters.
var listParams = map[string]bool{
	"fields": true, "limit": true, "marker": true, "page_reverse": true,
	"sort_key": true, "sort_dir": true,
}

// query is a parsed list request.
type query struct {
	filters  map[string][]string
	fields   []string
	sortKeys []string
	sortDesc []bool
	limit    int
	marker   string
	reverse  bool
}

// parseQuery validates a list query against the resource's attributes
// (Neutron's filter-validation, sorting and pagination).
func parseQuery(q url.Values, known map[string]bool) (*query, error) {
	out := &query{filters: map[string][]string{}, fields: q["fields"], marker: q.Get("marker")}
	for k, vs := range q {
		if listParams[k] {
			continue
		}
		if !known[k] && !(tagFilters[k] && known["tags"]) {
			return nil, badRequest(fmt.Sprintf("[%s] is invalid attribute for filtering", k))
		}
		out.filters[k] = vs
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, badRequest(fmt.Sprintf("Limit must be an integer 0 or greater and not '%s'", s))
		}
		out.limit = n
	}
	if s := q.Get("page_reverse"); s != "" {
		b, ok := parseBool(s)
		if !ok {
			return nil, badRequest(fmt.Sprintf("Invalid input for page_reverse. Reason: '%s' cannot be converted to boolean.", s))
		}
		out.reverse = b
	}
	return out, parseSort(out, q, known)
}

func parseSort(out *query, q url.Values, known map[string]bool) error {
	keys, dirs := q["sort_key"], q["sort_dir"]
	if len(dirs) > 0 && len(dirs) != len(keys) {
		return badRequest("The number of sort_keys and sort_dirs must be same")
	}
	for i, k := range keys {
		if !known[k] {
			return badRequest(fmt.Sprintf("%s is an invalid attribute for sort_keys", k))
		}
		desc := false
		if len(dirs) > 0 {
			switch dirs[i] {
			case "asc":
			case "desc":
				desc = true
			default:
				return badRequest(fmt.Sprintf("%s is an invalid value for sort_dirs, valid value is 'asc' and 'desc'", dirs[i]))
			}
		}
		out.sortKeys, out.sortDesc = append(out.sortKeys, k), append(out.sortDesc, desc)
	}
	return nil
}

// match reports whether an object passes every filter (values of one
// filter are ORed, filters are ANDed).
func (q *query) match(o object) (bool, error) {
	for k, vs := range q.filters {
		if tagFilters[k] {
			if !matchTags(k, o["tags"], vs) {
				return false, nil
			}
			continue
		}
		ok, err := matchAttr(k, o[k], vs)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func matchAttr(name string, have any, want []string) (bool, error) {
	if name == "fixed_ips" {
		return matchFixedIPs(have, want), nil
	}
	for _, w := range want {
		switch h := have.(type) {
		case bool:
			b, ok := parseBool(w)
			if !ok {
				return false, badRequest(fmt.Sprintf("Invalid input for %s. Reason: '%s' cannot be converted to boolean.", name, w))
			}
			if b == h {
				return true, nil
			}
		case float64:
			if n, err := strconv.ParseFloat(w, 64); err == nil && n == h {
				return true, nil
			}
		case string:
			if h == w {
				return true, nil
			}
		case []any:
			if slices.ContainsFunc(h, func(e any) bool { s, ok := e.(string); return ok && s == w }) {
				return true, nil
			}
		case nil:
			if w == "" {
				return true, nil
			}
		}
	}
	return false, nil
}

// matchFixedIPs implements fixed_ips=ip_address=X and
// fixed_ips=subnet_id=Y: per key the values are ORed, keys are ANDed, and
// each key must match some address of the port.
func matchFixedIPs(have any, want []string) bool {
	ips, _ := have.([]any)
	byKey := map[string][]string{}
	for _, w := range want {
		k, v, _ := strings.Cut(w, "=")
		byKey[k] = append(byKey[k], v)
	}
	for k, vs := range byKey {
		found := false
		for _, ip := range ips {
			m, _ := ip.(map[string]any)
			s, _ := m[k].(string)
			if k == "ip_address_substr" {
				s, _ = m["ip_address"].(string)
				found = found || slices.ContainsFunc(vs, func(v string) bool { return strings.Contains(s, v) })
				continue
			}
			found = found || slices.Contains(vs, s)
		}
		if !found {
			return false
		}
	}
	return true
}

// sort orders objects by the sort keys, then by id (Neutron appends id so
// that markers are unambiguous).
func (q *query) sort(objs []object) {
	keys, desc := append(q.sortKeys, "id"), append(q.sortDesc, len(q.sortDesc) > 0 && q.sortDesc[0])
	slices.SortStableFunc(objs, func(a, b object) int {
		for i, k := range keys {
			c := compareValues(a[k], b[k])
			if desc[i] {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
}

func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return cmp.Compare(x, y)
	case float64:
		y, _ := b.(float64)
		return cmp.Compare(x, y)
	case bool:
		y, _ := b.(bool)
		return cmp.Compare(boolInt(x), boolInt(y))
	case nil:
		if b == nil {
			return 0
		}
		return -1
	}
	if b == nil {
		return 1
	}
	return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// project keeps only the requested fields (all when none were asked).
func (q *query) project(o object) object {
	if len(q.fields) == 0 {
		return o
	}
	out := object{}
	for _, f := range q.fields {
		if v, ok := o[f]; ok {
			out[f] = v
		}
	}
	return out
}
