package clients_test

import (
	"strings"
	"testing"
)

// TestCLISubnetPools drives the openstack client's address scope, subnet
// pool, subnet --subnet-pool and ip availability commands; a member sees
// a shared pool but not another project's.
func TestCLISubnetPools(t *testing.T) {
	t.Parallel()
	env := sharedEnv(t)
	admin := passwordCLI(env.keystone.url, "admin", adminPassword, "admin")
	member := passwordCLI(env.keystone.url, memberUser, memberPassword, memberProject)
	scopeName, shared, private := prefix+"-scope", prefix+"-sharedpool", prefix+"-adminpool"

	var scope struct {
		ID        string `json:"id"`
		IPVersion int    `json:"ip_version"`
	}
	admin.json(t, &scope, "address", "scope", "create", scopeName, "--share")
	if scope.IPVersion != 4 {
		t.Fatalf("address scope %+v", scope)
	}
	type pool struct {
		ID               string   `json:"id"`
		Prefixes         []string `json:"prefixes"`
		DefaultPrefixLen int      `json:"default_prefixlen"`
		AddressScopeID   string   `json:"address_scope_id"`
		Shared           bool     `json:"shared"`
	}
	var sp pool
	admin.json(t, &sp, "subnet", "pool", "create", shared, "--pool-prefix", "10.70.0.0/24", "--pool-prefix", "10.70.1.0/24",
		"--default-prefix-length", "26", "--address-scope", scopeName, "--share")
	if strings.Join(sp.Prefixes, ",") != "10.70.0.0/23" || sp.DefaultPrefixLen != 26 || sp.AddressScopeID != scope.ID || !sp.Shared {
		t.Fatalf("subnet pool %+v", sp)
	}
	if msg := admin.fails(t, "subnet", "pool", "create", prefix+"-overlap", "--pool-prefix", "10.70.1.0/25", "--address-scope", scopeName); !strings.Contains(msg, "unique prefixes") {
		t.Fatalf("overlapping pool in the scope: %s", msg)
	}
	admin.ok(t, "subnet", "pool", "set", shared, "--pool-prefix", "10.70.8.0/24", "--min-prefix-length", "24")
	admin.json(t, &sp, "subnet", "pool", "show", shared)
	if strings.Join(sp.Prefixes, ",") != "10.70.0.0/23,10.70.8.0/24" {
		t.Fatalf("after set --pool-prefix: %v", sp.Prefixes)
	}
	var ap pool
	admin.json(t, &ap, "subnet", "pool", "create", private, "--pool-prefix", "10.71.0.0/16")

	// The member allocates from the shared pool and cannot see the other.
	member.fails(t, "subnet", "pool", "show", ap.ID)
	netName := prefix + "-poolnet"
	member.ok(t, "network", "create", netName)
	var sub struct {
		CIDR         string `json:"cidr"`
		SubnetPoolID string `json:"subnetpool_id"`
	}
	member.json(t, &sub, "subnet", "create", prefix+"-poolsub", "--network", netName, "--subnet-pool", shared, "--prefix-length", "25")
	if sub.CIDR != "10.70.8.0/25" || sub.SubnetPoolID != sp.ID {
		t.Fatalf("subnet from the pool: %+v, want 10.70.8.0/25 (the smallest free block that fits)", sub)
	}
	if msg := member.fails(t, "subnet", "create", prefix+"-poolsub2", "--network", netName, "--subnet-pool", shared, "--prefix-length", "23"); !strings.Contains(msg, "minimum allowed prefix is 24") {
		t.Fatalf("prefix length below the minimum: %s", msg)
	}

	var avail struct {
		TotalIPs int `json:"total_ips"`
		UsedIPs  int `json:"used_ips"`
	}
	admin.json(t, &avail, "ip", "availability", "show", netName)
	if avail.TotalIPs != 125 || avail.UsedIPs != 0 {
		t.Fatalf("ip availability %+v, want 125 total, 0 used", avail)
	}
	if msg := admin.fails(t, "subnet", "pool", "delete", shared); !strings.Contains(msg, "existing allocations") {
		t.Fatalf("deleting a pool in use: %s", msg)
	}
	member.ok(t, "network", "delete", netName)
	admin.ok(t, "subnet", "pool", "delete", shared, private)
	admin.ok(t, "address", "scope", "delete", scopeName)
}
