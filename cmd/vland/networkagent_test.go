package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/keystone"
	"github.com/vland/vland/internal/server"
	"github.com/vland/vland/internal/service"
	"github.com/vland/vland/internal/store"
)

// TestCLINetworkAgents: agent rows, moving a network by hand, DNS and
// DHCP options of ports.
func TestCLINetworkAgents(t *testing.T) {
	srv, err := server.New(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(),
		Auth: keystone.ModeNoAuth, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	srv.Start()
	t.Cleanup(func() { _ = srv.Close() })
	rec, _ := json.Marshal(api.Agent{ID: "rec-cli", Host: "cli-net1", AdminStateUp: true,
		Configurations: api.AgentConfig{IntegrationBr: "br-int", Roles: []string{"compute", "dhcp"}}})
	_, err = srv.Store().Txn(context.Background(), nil, []store.Op{{Key: store.AgentKey("cli-net1"), Value: rec},
		{Key: store.AgentAliveKey("cli-net1"), Value: []byte("{}")}})
	require.NoError(t, err)
	c := cli{t: t, url: srv.URL()}
	dhcp := service.AgentRowID("cli-net1", "dhcp")

	out := c.ok("network", "agent", "list")
	assert.Contains(t, out, "DHCP agent")
	assert.Contains(t, out, "Open vSwitch agent")
	var rows []map[string]any
	c.json(&rows, "network", "agent", "list", "--agent-type", "dhcp")
	require.Len(t, rows, 1)
	assert.Equal(t, dhcp, rows[0]["id"])

	c.ok("network", "create", "cn1")
	c.ok("subnet", "create", "cs1", "--network", "cn1", "--subnet-range", "10.3.0.0/24")
	require.Eventually(t, func() bool {
		var hosted []map[string]any
		c.json(&hosted, "network", "agent", "list", "--network", "cn1")
		return len(hosted) == 1 && hosted[0]["id"] == dhcp
	}, 10*time.Second, 50*time.Millisecond, "the scheduler places the network")
	c.ok("network", "agent", "remove", "network", "--dhcp", dhcp, "cn1")
	var nets []map[string]any
	c.json(&nets, "network", "list", "--agent", dhcp)
	assert.Empty(t, nets)
	c.ok("network", "agent", "add", "network", "--dhcp", dhcp, "cn1")
	c.json(&nets, "network", "list", "--agent", dhcp)
	require.Len(t, nets, 1)
	assert.Equal(t, "cn1", nets[0]["name"])
	_, _, err = c.run("network", "agent", "add", "network", "--dhcp", dhcp, "cn1")
	assert.ErrorContains(t, err, "already hosted")
	c.ok("network", "agent", "set", "--disable", "--description", "maintenance", dhcp)
	var shown map[string]any
	c.json(&shown, "network", "agent", "show", dhcp)
	assert.Equal(t, false, shown["admin_state_up"])
	assert.Equal(t, "maintenance", shown["description"])

	c.ok("network", "set", "cn1", "--dns-domain", "example.org.")
	var port map[string]any
	c.json(&port, "port", "create", "p1", "--network", "cn1", "--dns-name", "web1",
		"--extra-dhcp-option", "name=bootfile-name,value=pxelinux.0", "--extra-dhcp-option", "name=tftp-server,value=10.3.0.9,ip-version=4")
	assert.Equal(t, "web1", port["dns_name"])
	assert.Equal(t, "web1.example.org.", port["dns_assignment"].([]any)[0].(map[string]any)["fqdn"])
	assert.Len(t, port["extra_dhcp_opts"], 2)
	c.ok("port", "set", "p1", "--extra-dhcp-option", "name=bootfile-name", "--dns-name", "web2")
	c.json(&port, "port", "show", "p1")
	assert.Equal(t, "web2", port["dns_name"])
	assert.Equal(t, []any{map[string]any{"opt_name": "tftp-server", "opt_value": "10.3.0.9", "ip_version": float64(4)}}, port["extra_dhcp_opts"])
	_, _, err = c.run("port", "create", "p2", "--network", "cn1", "--dns-name", "bad_name")
	assert.ErrorContains(t, err, "dns_name")
}
