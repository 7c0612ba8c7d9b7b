package server_test

import "testing"

// TestTwoServersShareOneStore runs a second server on the first one's etcd:
// what one writes the other reads at once. (Concurrent allocation through
// both servers is in concurrency_test.go.)
func TestTwoServersShareOneStore(t *testing.T) {
	a := member("proj-two")
	b := onSecond(t, a)
	netID := mkNetwork(t, a, map[string]any{"name": "two"})["id"].(string)
	call(t, b, "GET", "/v2.0/networks/"+netID, nil).want(t, 200)
	subID := mkSubnet(t, b, netID, "10.70.0.0/24", nil)["id"].(string)
	call(t, a, "GET", "/v2.0/subnets/"+subID, nil).want(t, 200)
	port := mkPort(t, a, netID, map[string]any{"fixed_ips": []map[string]string{{"ip_address": "10.70.0.9"}}})
	// b's cache knows a's address at once: asking for it again conflicts.
	call(t, b, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID,
		"fixed_ips": []map[string]string{{"ip_address": "10.70.0.9"}}}}).wantError(t, 409, "IpAddressAlreadyAllocated")
	call(t, b, "DELETE", "/v2.0/ports/"+port["id"].(string), nil).want(t, 204)
	// A network deleted through one server is gone on the other.
	other := mkNetwork(t, b, map[string]any{"name": "gone"})["id"].(string)
	call(t, a, "DELETE", "/v2.0/networks/"+other, nil).want(t, 204)
	call(t, b, "GET", "/v2.0/networks/"+other, nil).wantError(t, 404, "NetworkNotFound")
}
