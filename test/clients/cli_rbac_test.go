package clients_test

import (
	"strings"
	"testing"
)

// TestCLINetworkRBAC: `openstack network rbac` shares the admin's network
// of project demo with alice's project only: alice then sees it and plugs
// a port in; revoking is refused while her port is there and accepted
// once it is gone, after which she no longer sees the network.
func TestCLINetworkRBAC(t *testing.T) {
	t.Parallel()
	env := sharedEnv(t)
	admin := passwordCLI(env.keystone.url, "admin", adminPassword, "admin")
	alice := passwordCLI(env.keystone.url, memberUser, memberPassword, memberProject)

	var net cliNetwork
	admin.json(t, &net, "network", "create", prefix+"-rbac", "--project", demoProject)
	admin.ok(t, "subnet", "create", prefix+"-rbac-sub", "--network", net.ID, "--subnet-range", "10.66.0.0/24")
	alice.fails(t, "network", "show", net.ID)

	var pol struct {
		ID           string `json:"id"`
		ObjectID     string `json:"object_id"`
		TargetTenant string `json:"target_project_id"`
		Action       string `json:"action"`
	}
	admin.json(t, &pol, "network", "rbac", "create", "--type", "network", "--action", "access_as_shared",
		"--target-project", memberProject, net.ID)
	if pol.ObjectID != net.ID || pol.TargetTenant != env.keystone.projectIDs[memberProject] || pol.Action != "access_as_shared" {
		t.Fatalf("created policy %+v", pol)
	}
	var rows []map[string]any
	admin.json(t, &rows, "network", "rbac", "list", "--long")
	found := false
	for _, r := range rows {
		found = found || r["ID"] == pol.ID
	}
	if !found {
		t.Fatalf("rbac list misses %s: %v", pol.ID, rows)
	}
	admin.json(t, &pol, "network", "rbac", "show", pol.ID)

	var seen map[string]any
	alice.json(t, &seen, "network", "show", net.ID)
	if seen["is_shared"] != true && seen["shared"] != true {
		t.Fatalf("alice sees the network as %v", seen)
	}
	var port cliPort
	alice.json(t, &port, "port", "create", prefix+"-rbac-port", "--network", net.ID)

	if msg := admin.fails(t, "network", "rbac", "delete", pol.ID); !strings.Contains(msg, "409") && !strings.Contains(msg, "depend on it") {
		t.Fatalf("revoking a policy in use: %s", msg)
	}
	alice.ok(t, "port", "delete", port.ID)
	admin.ok(t, "network", "rbac", "delete", pol.ID)
	alice.fails(t, "network", "show", net.ID)
	alice.fails(t, "port", "create", prefix+"-rbac-port2", "--network", net.ID)
	admin.ok(t, "network", "delete", net.ID)
}
