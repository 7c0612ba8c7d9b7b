package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/server"
	"github.com/vland/vland/internal/store"
)

// /v2.0/agents shows heartbeat_timestamp from the host's heartbeat key
// (which agents rewrite every interval instead of their record), or the
// record's if that is later; liveness stays with the leased key.
func TestAgentHeartbeatTimestamp(t *testing.T) {
	s, adm := dhcpServer(t, server.Config{})
	st, ctx := s.Store(), context.Background()
	rec, _ := json.Marshal(api.Agent{ID: "rec-beat1", Host: "beat1", AdminStateUp: true, HeartbeatTimestamp: "2026-01-01 00:00:00",
		Configurations: api.AgentConfig{IntegrationBr: "br-int", Roles: []string{api.RoleCompute, api.RoleDHCP}}})
	lease, err := st.Grant(ctx, 30*time.Second)
	require.NoError(t, err)
	_, err = st.Txn(ctx, nil, []store.Op{{Key: store.AgentKey("beat1"), Value: rec},
		{Key: store.AgentAliveKey("beat1"), Value: []byte("{}"), Lease: lease}})
	require.NoError(t, err)
	row := func(typ string) map[string]any { return rowsByType(t, adm)["beat1/"+typ] }
	require.Equal(t, "2026-01-01 00:00:00", row(api.AgentTypeOVS)["heartbeat_timestamp"], "no heartbeat key: the record's")
	require.Equal(t, true, row(api.AgentTypeOVS)["alive"])

	_, err = st.Txn(ctx, nil, []store.Op{{Key: store.AgentHeartbeatKey("beat1"), Value: []byte(`{"heartbeat_timestamp":"2026-12-02 10:00:00","devices":7}`)}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return row(api.AgentTypeOVS)["heartbeat_timestamp"] == "2026-12-02 10:00:00" },
		5*time.Second, 10*time.Millisecond)
	require.Equal(t, "2026-12-02 10:00:00", row(api.AgentTypeDHCP)["heartbeat_timestamp"], "every row of the host")
	require.EqualValues(t, 7, row(api.AgentTypeOVS)["configurations"].(map[string]any)["devices"], "the device count comes with the heartbeat")

	require.NoError(t, st.Revoke(ctx, lease))
	require.Eventually(t, func() bool { return row(api.AgentTypeOVS)["alive"] == false }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, "2026-12-02 10:00:00", row(api.AgentTypeOVS)["heartbeat_timestamp"], "a dead agent shows its last heartbeat")

	// A record newer than the key (an older agent that rewrites its
	// record, after a newer one left the key) wins.
	rec, _ = json.Marshal(api.Agent{ID: "rec-beat1", Host: "beat1", AdminStateUp: true, HeartbeatTimestamp: "2026-12-02 11:00:00",
		Configurations: api.AgentConfig{IntegrationBr: "br-int", Roles: []string{api.RoleCompute, api.RoleDHCP}}})
	_, err = st.Txn(ctx, nil, []store.Op{{Key: store.AgentKey("beat1"), Value: rec}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return row(api.AgentTypeOVS)["heartbeat_timestamp"] == "2026-12-02 11:00:00" },
		5*time.Second, 10*time.Millisecond)

	call(t, adm, "DELETE", "/v2.0/agents/rec-beat1", nil).want(t, 204)
	_, err = st.Get(ctx, store.AgentHeartbeatKey("beat1"))
	require.ErrorIs(t, err, store.ErrNotFound, "deleting the agent deletes its heartbeat key")
}
