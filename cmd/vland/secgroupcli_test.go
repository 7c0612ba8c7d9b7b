package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCLISecurityGroups: security group and rule commands as `openstack
// security group` has them, and ports joining and leaving groups.
func TestCLISecurityGroups(t *testing.T) {
	c := cli{t: t, url: startAPI(t)}
	var g map[string]any
	c.json(&g, "security", "group", "create", "web", "--description", "web tier", "--stateless", "--tag", "t1")
	assert.Equal(t, "web tier", g["description"])
	assert.Equal(t, false, g["stateful"])
	assert.Len(t, g["security_group_rules"], 2, "a new group has the two egress rules")
	id := g["id"].(string)

	var r map[string]any
	c.json(&r, "security", "group", "rule", "create", "web", "--protocol", "tcp", "--dst-port", "8000:8080", "--remote-ip", "10.0.0.0/8")
	assert.Equal(t, float64(8000), r["port_range_min"])
	assert.Equal(t, float64(8080), r["port_range_max"])
	assert.Equal(t, "ingress", r["direction"])
	var icmp map[string]any
	c.json(&icmp, "security", "group", "rule", "create", "web", "--protocol", "icmp", "--icmp-type", "8", "--icmp-code", "0", "--egress", "--remote-group", "web")
	assert.Equal(t, float64(8), icmp["port_range_min"])
	assert.Equal(t, id, icmp["remote_group_id"])
	_, _, err := c.run("security", "group", "rule", "create", "web", "--protocol", "tcp", "--dst-port", "8000:8080", "--remote-ip", "10.0.0.0/8")
	assert.ErrorContains(t, err, "already exists")

	var rules []map[string]any
	c.json(&rules, "security", "group", "rule", "list", "web", "--ingress")
	require.Len(t, rules, 1)
	assert.Equal(t, r["id"], rules[0]["id"])
	table := c.ok("security", "group", "list", "--long")
	assert.Contains(t, table, "default")
	assert.Contains(t, table, id)

	c.ok("security", "group", "set", "web", "--name", "web2", "--stateful")
	c.json(&g, "security", "group", "show", "web2")
	assert.Equal(t, true, g["stateful"])
	_, _, err = c.run("security", "group", "set", "default", "--name", "x")
	assert.ErrorContains(t, err, "default")

	var n, p map[string]any
	c.json(&n, "network", "create", "sgnet")
	c.json(&p, "port", "create", "p1", "--network", "sgnet")
	require.Len(t, p["security_groups"], 1)
	def := p["security_groups"].([]any)[0]
	c.ok("port", "set", "p1", "--security-group", "web2")
	c.json(&p, "port", "show", "p1")
	assert.Equal(t, []any{def, id}, p["security_groups"])
	_, _, err = c.run("security", "group", "delete", "web2")
	assert.ErrorContains(t, err, "in use")
	c.ok("port", "set", "p1", "--no-security-group", "--security-group", "web2")
	c.json(&p, "port", "show", "p1")
	assert.Equal(t, []any{id}, p["security_groups"])
	c.ok("port", "set", "p1", "--no-security-group")
	var bare map[string]any
	c.json(&bare, "port", "create", "p2", "--network", "sgnet", "--no-security-group")
	assert.Empty(t, bare["security_groups"])

	c.ok("security", "group", "rule", "delete", r["id"].(string))
	_, _, err = c.run("security", "group", "rule", "show", r["id"].(string))
	assert.ErrorContains(t, err, "does not exist")
	c.ok("security", "group", "delete", "web2")
	c.ok("quota", "set", "admin", "--secgroups", "3", "--secgroup-rules", "50")
}
