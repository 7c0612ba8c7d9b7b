package server_test

import (
	"fmt"
	"testing"
)

// Size limits: requests that would exceed etcd's transaction limits
// (1,024 operations, 1.5 MiB) are either split into several transactions
// without losing all-or-nothing, or refused up front with a 400.

func bulkPorts(netID string, n int, extra map[string]any) map[string]any {
	ports := make([]map[string]any, n)
	for i := range ports {
		ports[i] = map[string]any{"network_id": netID, "name": fmt.Sprintf("bulk-%d", i)}
		for k, v := range extra {
			ports[i][k] = v
		}
	}
	return map[string]any{"ports": ports}
}

func TestTooManyFixedIPsIs400(t *testing.T) {
	p := member("proj-many-ips")
	netID := mkNetwork(t, p, map[string]any{"name": "many"})["id"].(string)
	subID := mkSubnet(t, p, netID, "10.80.0.0/20", nil)["id"].(string)
	defaultGroup(t, p) // a port create makes it first (kept if the create fails)
	before := snapshot(t)
	for _, n := range []int{101, 1100} {
		fixed := make([]map[string]string, n)
		for i := range fixed {
			fixed[i] = map[string]string{"subnet_id": subID}
		}
		call(t, p, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID, "fixed_ips": fixed}}).
			wantError(t, 400, "InvalidInput")
	}
	if fmt.Sprint(snapshot(t)) != fmt.Sprint(before) {
		t.Fatal("a refused port changed the store")
	}
	fixed := make([]map[string]string, 100)
	for i := range fixed {
		fixed[i] = map[string]string{"subnet_id": subID}
	}
	port := call(t, p, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID, "fixed_ips": fixed}}).
		want(t, 201).obj(t, "port")
	if got := len(ips(port)); got != 100 {
		t.Fatalf("%d fixed ips, want 100", got)
	}
}

// TestBigBulkPortCreate: 300 ports in one request (about 1,500 store
// operations) are created, all at once; a bulk that fails on its last
// port leaves none.
func TestBigBulkPortCreate(t *testing.T) {
	p := member("proj-big-bulk")
	netID := mkNetwork(t, p, map[string]any{"name": "bulk"})["id"].(string)
	mkSubnet(t, p, netID, "10.81.0.0/22", nil)
	defaultGroup(t, p) // a port create makes it first (kept if the create fails)
	before := snapshot(t)
	bad := bulkPorts(netID, 300, nil)
	bad["ports"].([]map[string]any)[299]["fixed_ips"] = []map[string]string{{"ip_address": "10.81.0.2"}}
	call(t, p, "POST", "/v2.0/ports", bad).wantError(t, 409, "IpAddressAlreadyAllocated")
	if fmt.Sprint(snapshot(t)) != fmt.Sprint(before) {
		t.Fatal("a failed bulk create left keys behind")
	}
	got := call(t, p, "POST", "/v2.0/ports", bulkPorts(netID, 300, nil)).want(t, 201).list(t, "ports")
	if len(got) != 300 {
		t.Fatalf("%d ports created, want 300", len(got))
	}
	listed := call(t, p, "GET", "/v2.0/ports?network_id="+netID, nil).want(t, 200).list(t, "ports")
	if len(listed) != 300 {
		t.Fatalf("%d ports listed, want 300", len(listed))
	}
	// Tenant ports keep the network in use, however many there are.
	call(t, p, "DELETE", "/v2.0/networks/"+netID, nil).wantError(t, 409, "NetworkInUse")
}

// TestDeleteNetworkWith300DHCPPorts: network-owned ports cascade with the
// network, however many there are, and nothing is left behind.
func TestDeleteNetworkWith300DHCPPorts(t *testing.T) {
	p := member("proj-big-delete")
	netID := mkNetwork(t, p, map[string]any{"name": "big"})["id"].(string)
	subID := mkSubnet(t, p, netID, "10.82.0.0/22", nil)["id"].(string)
	got := call(t, p, "POST", "/v2.0/ports", bulkPorts(netID, 300, map[string]any{"device_owner": "network:dhcp"})).
		want(t, 201).list(t, "ports")
	f := netFixture{id: netID, ids: []string{netID, subID}}
	for _, port := range got {
		f.ids = append(f.ids, port["id"].(string))
	}
	call(t, p, "DELETE", "/v2.0/networks/"+netID, nil).want(t, 204)
	call(t, p, "GET", "/v2.0/networks/"+netID, nil).wantError(t, 404, "NetworkNotFound")
	if left := f.leftovers(snapshot(t)); len(left) > 0 {
		t.Fatalf("%d keys left after the delete, e.g. %v", len(left), left[:min(5, len(left))])
	}
}

// TestHugeBulkNetworkCreateIs400: a bulk network create too big for one
// transaction is refused up front, not a 500.
func TestHugeBulkNetworkCreateIs400(t *testing.T) {
	nets := make([]map[string]any, 1100)
	for i := range nets {
		nets[i] = map[string]any{"name": fmt.Sprintf("huge-%d", i), "provider:network_type": "local"}
	}
	before := snapshot(t)
	call(t, admin, "POST", "/v2.0/networks", map[string]any{"networks": nets}).wantError(t, 400, "InvalidInput")
	if fmt.Sprint(snapshot(t)) != fmt.Sprint(before) {
		t.Fatal("a refused bulk changed the store")
	}
}
