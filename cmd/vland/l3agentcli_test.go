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

// TestCLIL3Agents: the scheduler puts a router on an L3 agent; `network
// agent list --router`, `remove router` and `add router` move it by hand,
// with Neutron's errors.
func TestCLIL3Agents(t *testing.T) {
	srv, err := server.New(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(),
		Auth: keystone.ModeNoAuth, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	srv.Start()
	t.Cleanup(func() { _ = srv.Close() })
	for _, host := range []string{"cli-l3a", "cli-l3b"} {
		rec, _ := json.Marshal(api.Agent{ID: "rec-" + host, Host: host, AdminStateUp: true,
			Configurations: api.AgentConfig{IntegrationBr: "br-int", Roles: []string{"compute", "l3"}}})
		_, err = srv.Store().Txn(context.Background(), nil, []store.Op{{Key: store.AgentKey(host), Value: rec},
			{Key: store.AgentAliveKey(host), Value: []byte("{}")}})
		require.NoError(t, err)
	}
	c := cli{t: t, url: srv.URL()}
	c.ok("router", "create", "cr1")
	var hosted []map[string]any
	require.Eventually(t, func() bool {
		c.json(&hosted, "network", "agent", "list", "--router", "cr1")
		return len(hosted) == 1
	}, 10*time.Second, 50*time.Millisecond, "the scheduler places the router")
	from := hosted[0]["id"].(string)
	assert.Equal(t, "L3 agent", hosted[0]["agent_type"])
	to := service.AgentRowID("cli-l3a", "l3")
	if from == to {
		to = service.AgentRowID("cli-l3b", "l3")
	}
	_, _, err = c.run("network", "agent", "add", "router", "--l3", to, "cr1")
	assert.ErrorContains(t, err, "already hosted")
	c.ok("network", "agent", "remove", "router", "--l3", from, "cr1")
	_, _, err = c.run("network", "agent", "remove", "router", "--l3", from, "cr1")
	assert.ErrorContains(t, err, "not hosted")
	c.json(&hosted, "network", "agent", "list", "--router", "cr1")
	assert.Empty(t, hosted, "removed by hand: unscheduled")
	c.ok("network", "agent", "add", "router", "--l3", to, "cr1")
	c.json(&hosted, "network", "agent", "list", "--router", "cr1")
	require.Len(t, hosted, 1)
	assert.Equal(t, to, hosted[0]["id"])
	var routers []map[string]any
	c.json(&routers, "router", "list", "--agent", to)
	require.Len(t, routers, 1)
	assert.Equal(t, "cr1", routers[0]["name"])
	c.json(&routers, "router", "list", "--agent", from)
	assert.Empty(t, routers)
	_, _, err = c.run("network", "agent", "add", "router", "--l3", "rec-cli-l3a", "cr1")
	assert.ErrorContains(t, err, "not a L3 Agent")
}
