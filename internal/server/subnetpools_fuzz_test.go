package server_test

import (
	"strings"
	"testing"
)

// FuzzCreateSubnetFromPool: whatever a subnet create from a pool (or a
// pool create) asks, the answer is 201 or a Neutron 4xx, never a 500.
func FuzzCreateSubnetFromPool(f *testing.F) {
	p := member("proj-fuzz-pools")
	netID := mkNetwork(f, p, map[string]any{"name": "fuzz-pools"})["id"].(string)
	poolID := call(f, p, "POST", "/v2.0/subnetpools", map[string]any{"subnetpool": map[string]any{
		"prefixes": []string{"10.140.0.0/16"}, "default_prefixlen": 28}}).want(f, 201).obj(f, "subnetpool")["id"].(string)
	for _, seed := range []string{
		`{"subnet": {"network_id": "NET", "subnetpool_id": "POOL"}}`,
		`{"subnet": {"network_id": "NET", "subnetpool_id": "POOL", "prefixlen": 30}}`,
		`{"subnet": {"network_id": "NET", "subnetpool_id": "POOL", "prefixlen": -1}}`,
		`{"subnet": {"network_id": "NET", "subnetpool_id": "POOL", "prefixlen": "x"}}`,
		`{"subnet": {"network_id": "NET", "subnetpool_id": "POOL", "cidr": "10.140.9.0/24", "gateway_ip": "1.2.3.4"}}`,
		`{"subnet": {"network_id": "NET", "subnetpool_id": "POOL", "ip_version": 6}}`,
		`{"subnet": {"network_id": "NET", "use_default_subnetpool": true, "ip_version": 6}}`,
		`{"subnet": {"network_id": "NET", "subnetpool_id": null, "prefixlen": 24}}`,
		`{"subnetpool": {"prefixes": ["10.0.0.0/8"], "min_prefixlen": 40}}`,
		`{"subnetpool": {"prefixes": ["::/0"], "default_quota": 5, "address_scope_id": null}}`,
		`{"subnetpool": {"prefixes": "10.0.0.0/8"}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		body = strings.ReplaceAll(strings.ReplaceAll(body, "NET", netID), "POOL", poolID)
		path := "/v2.0/subnets"
		if strings.Contains(body, `"subnetpool"`) {
			path = "/v2.0/subnetpools"
		}
		r := call(t, p, "POST", path, body)
		switch {
		case r.status == 201:
		case r.status >= 400 && r.status < 500:
			r.neutronError(t)
		default:
			t.Fatalf("status %d: %s", r.status, r.raw)
		}
	})
}
