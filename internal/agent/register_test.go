package agent

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

// Heartbeats rewrite only the host's heartbeat key (time and device
// count), which agents do not watch; the agent record (which every agent
// watches) is written at registration and again only when its content
// changes: a port plugged anywhere must not reach every agent.
func TestHeartbeatDoesNotRewriteRecord(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	cfg := Config{
		HostConfig:        HostConfig{Host: "hostR", LocalIP: netip.MustParseAddr("192.168.50.9")},
		LeaseTTL:          time.Second,
		HeartbeatInterval: 10 * time.Millisecond,
		Log:               slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	r := newRegistrar(st, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	require.Eventually(t, func() bool { _, err := st.Get(ctx, store.AgentAliveKey("hostR")); return err == nil },
		2*time.Second, 5*time.Millisecond)
	events := st.Watch(ctx, "/vland/agent", 0)
	puts := map[string]int{}
	count := func(d time.Duration) {
		deadline := time.After(d)
		for {
			select {
			case ev := <-events:
				require.NoError(t, ev.Err)
				puts[strings.TrimSuffix(ev.KV.Key, "hostR")]++
			case <-deadline:
				return
			}
		}
	}
	count(200 * time.Millisecond)
	require.GreaterOrEqual(t, puts[store.AgentHeartbeatPrefix], 5, "the heartbeat key is rewritten every interval: %v", puts)
	require.Zero(t, puts[store.AgentsPrefix], "heartbeats rewrite the agent record: %v", puts)

	r.setDevices(3) // the device count goes with the heartbeat, at once
	before := puts[store.AgentHeartbeatPrefix]
	count(5 * time.Millisecond)
	require.Greater(t, puts[store.AgentHeartbeatPrefix], before, "a device count change writes the heartbeat key: %v", puts)
	count(200 * time.Millisecond)
	require.Zero(t, puts[store.AgentsPrefix], "a device count change rewrites the agent record: %v", puts)
	beat, err := get[api.AgentHeartbeat](st, store.AgentHeartbeatKey("hostR"))
	require.NoError(t, err)
	require.Equal(t, 3, beat.Devices)
	_, err = time.Parse(time.DateTime, beat.Timestamp)
	require.NoError(t, err, "heartbeat_timestamp layout")
}
