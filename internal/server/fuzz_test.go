package server_test

import (
	"strings"
	"testing"
)

// FuzzCreatePort posts arbitrary port bodies to the real server ("NET" and
// "SUB" are replaced by a real network and subnet): never a 5xx, and every
// error in Neutron's format.
func FuzzCreatePort(f *testing.F) {
	p := member("proj-fuzz")
	netID := mkNetwork(f, p, map[string]any{"name": "fuzz"})["id"].(string)
	subID := mkSubnet(f, p, netID, "10.60.0.0/24", nil)["id"].(string)
	for _, seed := range []string{
		`{"port": {"network_id": "NET"}}`,
		`{"port": {"network_id": "NET", "fixed_ips": [{"subnet_id": "SUB", "ip_address": "10.60.0.77"}]}}`,
		`{"port": {"network_id": "NET", "fixed_ips": [{"ip_address": "10.60.0.0"}]}}`,
		`{"port": {"network_id": "NET", "fixed_ips": [{"ip_address": "::1"}]}}`,
		`{"port": {"network_id": "NET", "fixed_ips": [{"subnet_id": "SUB"}, {"subnet_id": "SUB"}]}}`,
		`{"port": {"network_id": "NET", "mac_address": "FA:16:3E:AA:BB:CC"}}`,
		`{"port": {"network_id": "NET", "mac_address": "ff:ff:ff:ff:ff:ff"}}`,
		`{"port": {"network_id": "NET", "allowed_address_pairs": [{"ip_address": "10.0.0.0/8"}]}}`,
		`{"port": {"network_id": "NET", "binding:vnic_type": "direct"}}`,
		`{"ports": [{"network_id": "NET"}, {"network_id": "nope"}]}`,
		`{"port": {"network_id": 7}}`, `{"port": {}}`, `{"port": []}`, `nonsense`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		body = strings.ReplaceAll(strings.ReplaceAll(body, "NET", netID), "SUB", subID)
		r := call(t, p, "POST", "/v2.0/ports", body)
		switch {
		case r.status == 201:
		case r.status >= 400 && r.status < 500:
			r.neutronError(t)
		default:
			t.Fatalf("status %d: %s", r.status, r.raw)
		}
	})
}
