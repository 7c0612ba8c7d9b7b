package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/keystone"
)

// TestCLINetworkRBAC: network rbac create, list, show, set and delete, as
// `openstack network rbac` has them.
func TestCLINetworkRBAC(t *testing.T) {
	c := cli{t: t, url: startAPI(t)}
	var n map[string]any
	c.json(&n, "network", "create", "rnet", "--project", "tenantA")

	var p map[string]any
	c.json(&p, "network", "rbac", "create", "rnet", "--type", "network", "--action", "access_as_shared", "--target-project", "tenantB")
	assert.Equal(t, n["id"], p["object_id"])
	assert.Equal(t, "tenantB", p["target_tenant"])
	assert.Equal(t, "access_as_shared", p["action"])
	id := p["id"].(string)

	table := c.ok("network", "rbac", "list", "--long")
	assert.Regexp(t, `\| ID\s+\| Object Type\s+\| Object ID\s+\| Action\s+\| Target Project\s+\|`, table)
	assert.Contains(t, table, id)
	var list []map[string]any
	c.json(&list, "network", "rbac", "list", "--target-project", "tenantB", "--action", "access_as_shared")
	require.Len(t, list, 1)
	c.json(&list, "network", "rbac", "list", "--action", "access_as_external")
	assert.Empty(t, list)

	c.ok("network", "rbac", "set", id, "--target-project", "tenantC")
	c.json(&p, "network", "rbac", "show", id)
	assert.Equal(t, "tenantC", p["target_tenant"])

	var wild map[string]any
	c.json(&wild, "network", "rbac", "create", n["id"].(string), "--action", "access_as_shared", "--target-all-projects")
	assert.Equal(t, "*", wild["target_tenant"])
	c.json(&n, "network", "show", "rnet")
	assert.Equal(t, true, n["shared"], "a wildcard policy shares the network")

	_, _, err := c.run("network", "rbac", "create", "rnet", "--action", "access_as_owner", "--target-project", "x")
	assert.ErrorContains(t, err, "Invalid action")
	_, _, err = c.run("network", "rbac", "create", "rnet", "--action", "access_as_shared")
	assert.ErrorContains(t, err, "--target-project")
	_, _, err = c.run("network", "rbac", "create", "rnet", "--type", "qos_policy", "--action", "access_as_shared", "--target-project", "x")
	assert.Error(t, err)

	c.ok("network", "rbac", "delete", id, wild["id"].(string))
	c.json(&list, "network", "rbac", "list")
	assert.Empty(t, list)
	_, _, err = c.run("network", "rbac", "show", id)
	assert.ErrorContains(t, err, "not found")
}

// TestCLINetworkRBACKeystone: with Keystone, --target-project takes a
// project name, and an unknown one is an error (never created).
func TestCLINetworkRBACKeystone(t *testing.T) {
	url := startAPIMode(t, keystone.ModeKeystone)
	c := cli{t: t, url: url}
	login := []string{"--os-auth-url", url + "/v3", "--os-username", "admin", "--os-password", testAdminPassword,
		"--os-project-name", "admin"}
	var a, b map[string]any
	c.json(&a, append([]string{"network", "create", "ka", "--project", "tenantA"}, login...)...)
	c.json(&b, append([]string{"network", "create", "kb", "--project", "tenantB"}, login...)...)
	var p map[string]any
	c.json(&p, append([]string{"network", "rbac", "create", "ka", "--action", "access_as_shared", "--target-project", "tenantB"}, login...)...)
	assert.Equal(t, b["project_id"], p["target_tenant"], "the name was resolved to tenantB's ID")
	_, _, err := c.run(append([]string{"network", "rbac", "create", "ka", "--action", "access_as_shared", "--target-project", "nobody"}, login...)...)
	assert.ErrorContains(t, err, `no project found for "nobody"`)
}
