package clients_test

import (
	"strings"
	"testing"
)

// TestCLISecurityGroups: `openstack security group` and `security group
// rule` as a member: create, rule create (and its duplicate refused),
// lists with the default group, a port in the group, the in-use delete
// refused until the port leaves the group, the default group kept.
func TestCLISecurityGroups(t *testing.T) {
	t.Parallel()
	env := sharedEnv(t)
	alice := passwordCLI(env.keystone.url, memberUser, memberPassword, memberProject)

	var g struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Stateful    bool   `json:"stateful"`
	}
	alice.json(t, &g, "security", "group", "create", prefix+"-web", "--description", "web servers")
	if g.Name != prefix+"-web" || g.Description != "web servers" || !g.Stateful {
		t.Fatalf("created group %+v", g)
	}
	var rule struct {
		ID             string `json:"id"`
		PortRangeMin   int    `json:"port_range_min"`
		PortRangeMax   int    `json:"port_range_max"`
		Protocol       string `json:"protocol"`
		RemoteIPPrefix string `json:"remote_ip_prefix"`
		Direction      string `json:"direction"`
	}
	alice.json(t, &rule, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80:81",
		"--remote-ip", "10.1.0.0/16", g.ID)
	if rule.PortRangeMin != 80 || rule.PortRangeMax != 81 || rule.Protocol != "tcp" || rule.RemoteIPPrefix != "10.1.0.0/16" || rule.Direction != "ingress" {
		t.Fatalf("created rule %+v", rule)
	}
	if msg := alice.fails(t, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80:81",
		"--remote-ip", "10.1.0.0/16", g.ID); !strings.Contains(msg, "already exists") {
		t.Fatalf("duplicate rule: %s", msg)
	}
	var rows []map[string]any
	alice.json(t, &rows, "security", "group", "rule", "list", g.ID)
	if len(rows) != 3 { // two default egress rules and ours
		t.Fatalf("rules of the group: %v", rows)
	}
	alice.json(t, &rows, "security", "group", "list")
	names := map[any]bool{}
	for _, r := range rows {
		names[r["Name"]] = true
	}
	if !names["default"] || !names[prefix+"-web"] {
		t.Fatalf("group list %v", rows)
	}

	var net cliNetwork
	alice.json(t, &net, "network", "create", prefix+"-sgnet")
	alice.ok(t, "subnet", "create", prefix+"-sgsub", "--network", net.ID, "--subnet-range", "10.67.0.0/24")
	var port struct {
		ID     string   `json:"id"`
		Groups []string `json:"security_group_ids"`
	}
	alice.json(t, &port, "port", "create", prefix+"-sgport", "--network", net.ID, "--security-group", g.ID)
	if len(port.Groups) != 1 || port.Groups[0] != g.ID {
		t.Fatalf("port groups %v, want [%s]", port.Groups, g.ID)
	}
	if msg := alice.fails(t, "security", "group", "delete", g.ID); !strings.Contains(msg, "in use") {
		t.Fatalf("delete of a group in use: %s", msg)
	}
	alice.ok(t, "port", "set", "--no-security-group", port.ID)
	alice.ok(t, "security", "group", "rule", "delete", rule.ID)
	alice.ok(t, "security", "group", "delete", g.ID)
	if msg := alice.fails(t, "security", "group", "set", "--name", "x", "default"); !strings.Contains(msg, "default") {
		t.Fatalf("renaming the default group: %s", msg)
	}
	alice.ok(t, "port", "delete", port.ID)
	alice.ok(t, "network", "delete", net.ID)
}
