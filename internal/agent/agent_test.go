package agent

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

// runAgent starts an agent for hostA on st and dp; it stops when the test
// ends or when the returned stop is called (which waits for Run to return).
func runAgent(t *testing.T, st store.Store, dp Dataplane, edit ...func(*Config)) (stop func()) {
	t.Helper()
	cfg := Config{
		HostConfig:   hostA,
		DatapathType: "netdev",
		LeaseTTL:     time.Second,
		Log:          slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, e := range edit {
		e(&cfg)
	}
	a, err := New(cfg, agentStore(st), dp)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("agent did not stop")
		}
	}
	t.Cleanup(stop)
	return stop
}

// put writes v at key as the server and the status mirror would: a port
// (under PortsPrefix) with its index ranges (store.PortOps, in one
// transaction) and, when new, the network-status copies of the status
// records written before it; a status record with its copy under the
// port's network.
func put(t *testing.T, st store.Store, key string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	ops := []store.Op{{Key: key, Value: b}}
	if id, ok := strings.CutPrefix(key, store.PortsPrefix); ok {
		var p api.Port
		require.NoError(t, json.Unmarshal(b, &p))
		require.Equal(t, id, p.ID, "port written under another id")
		old, err := get[api.Port](st, key)
		var oldp *api.Port
		if err == nil {
			oldp = &old
		}
		ops = store.PortOps(oldp, &p, b)
		kvs, _, err := st.List(context.Background(), store.PortStatusPrefix)
		require.NoError(t, err)
		for _, kv := range kvs {
			if host, port, ok := store.ParsePortStatusKey(kv.Key); ok && port == id && oldp == nil {
				ops = append(ops, store.Op{Key: store.NetworkStatusKey(p.NetworkID, host, id), Value: kv.Value})
			}
		}
	} else if host, id, ok := store.ParsePortStatusKey(key); ok {
		if p, err := get[api.Port](st, store.PortKey(id)); err == nil {
			ops = append(ops, store.Op{Key: store.NetworkStatusKey(p.NetworkID, host, id), Value: b})
		}
	}
	_, err = st.Txn(context.Background(), nil, ops)
	require.NoError(t, err)
}

// del deletes key, with a port's index ranges (store.PortDeleteOps) or a
// status record's network-status copy.
func del(t *testing.T, st store.Store, key string) {
	t.Helper()
	ops := []store.Op{{Key: key, Delete: true}}
	if strings.HasPrefix(key, store.PortsPrefix) {
		if p, err := get[api.Port](st, key); err == nil {
			ops = store.PortDeleteOps(&p)
		}
	} else if host, id, ok := store.ParsePortStatusKey(key); ok {
		keys, _, err := st.ListKeys(context.Background(), store.NetworkStatusPrefix)
		require.NoError(t, err)
		for _, k := range keys {
			if _, h, port, ok := store.ParseNetworkStatusKey(k); ok && h == host && port == id {
				ops = append(ops, store.Op{Key: k, Delete: true})
			}
		}
	}
	_, err := st.Txn(context.Background(), nil, ops)
	require.NoError(t, err)
}

func get[T any](st store.Store, key string) (T, error) {
	var v T
	kv, err := st.Get(context.Background(), key)
	if err != nil {
		return v, err
	}
	return v, json.Unmarshal(kv.Value, &v)
}

// statusOf returns the status records of a port as "host/STATUS", comma
// separated in host order, or "none".
func statusOf(st store.Store, portID string) string {
	kvs, _, err := st.List(context.Background(), store.PortStatusPrefix)
	if err != nil {
		return "error: " + err.Error()
	}
	var out []string
	for _, kv := range kvs {
		host, id, ok := store.ParsePortStatusKey(kv.Key)
		if !ok || id != portID {
			continue
		}
		var ps api.PortStatus
		if err := json.Unmarshal(kv.Value, &ps); err != nil || ps.Host != host {
			return "bad record " + kv.Key
		}
		out = append(out, host+"/"+ps.Status)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ",")
}

func exists(st store.Store, key string) bool {
	_, err := st.Get(context.Background(), key)
	return err == nil
}

// testRegistration checks the agent record and heartbeat on any store:
// registered fields, a stable id across restarts, the heartbeat key gone at
// once after a graceful stop and within the lease TTL after a crash.
func testRegistration(t *testing.T, st store.Store) {
	stop := runAgent(t, st, newFakeDP())
	require.Eventually(t, func() bool { return exists(st, store.AgentAliveKey("hostA")) }, 2*time.Second, 5*time.Millisecond)
	kv, err := st.Get(context.Background(), store.AgentAliveKey("hostA"))
	require.NoError(t, err)
	require.NotZero(t, kv.Lease, "heartbeat key must ride on a lease")
	rec, err := get[api.Agent](st, store.AgentKey("hostA"))
	require.NoError(t, err)
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, rec.ID)
	require.Equal(t, api.AgentTypeOVS, rec.AgentType)
	require.Equal(t, "vland-agent", rec.Binary)
	require.Equal(t, "hostA", rec.Host)
	require.True(t, rec.AdminStateUp)
	require.Equal(t, api.AgentConfig{
		TunnelTypes: []string{"vxlan"}, LocalIP: "192.168.50.1", BridgeMappings: map[string]string{"physnet1": "br-ex"},
		DatapathType: "netdev", IntegrationBr: "br-int", TunnelBr: "br-tun", L2Population: true,
		Roles: []string{api.RoleCompute},
	}, rec.Configurations)
	_, err = time.Parse(time.DateTime, rec.HeartbeatTimestamp)
	require.NoError(t, err)

	// Graceful stop revokes the lease: dead at once, record kept.
	stopStart := time.Now()
	stop()
	t.Logf("graceful stop took %.0f ms", time.Since(stopStart).Seconds()*1000)
	require.False(t, exists(st, store.AgentAliveKey("hostA")))
	require.True(t, exists(st, store.AgentKey("hostA")))

	// A crash (no revoke): the heartbeat disappears after the lease TTL.
	stop = runAgent(t, crashStore{st}, newFakeDP())
	require.Eventually(t, func() bool { return exists(st, store.AgentAliveKey("hostA")) }, 2*time.Second, 5*time.Millisecond)
	again, err := get[api.Agent](st, store.AgentKey("hostA"))
	require.NoError(t, err)
	require.Equal(t, rec.ID, again.ID, "id is stable per host")
	require.Equal(t, rec.CreatedAt, again.CreatedAt)
	stop()
	crashed := time.Now()
	require.True(t, exists(st, store.AgentAliveKey("hostA")), "no revoke: still alive right after the crash")
	require.Eventually(t, func() bool { return !exists(st, store.AgentAliveKey("hostA")) }, 4*time.Second, 20*time.Millisecond)
	t.Logf("heartbeat gone %.2f s after the crash (requested TTL 1 s)", time.Since(crashed).Seconds())
}

func TestRegistration(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	testRegistration(t, st)
}

// A lost lease (store restarted, partition) is granted again.
func TestRegistrationLeaseLost(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	runAgent(t, st, newFakeDP())
	require.Eventually(t, func() bool { return exists(st, store.AgentAliveKey("hostA")) }, 2*time.Second, 5*time.Millisecond)
	kv, err := st.Get(context.Background(), store.AgentAliveKey("hostA"))
	require.NoError(t, err)
	require.NoError(t, st.Revoke(context.Background(), kv.Lease))
	require.Eventually(t, func() bool {
		kv2, err := st.Get(context.Background(), store.AgentAliveKey("hostA"))
		return err == nil && kv2.Lease != kv.Lease
	}, 3*time.Second, 10*time.Millisecond)
}

// waitApplied waits until a state was applied and the last one reads want.
func waitApplied(t *testing.T, dp *fakeDP, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) && (len(dp.applies()) == 0 || dp.dump() != want) {
		time.Sleep(2 * time.Millisecond)
	}
	require.NotEmpty(t, dp.applies(), "nothing applied")
	require.Equal(t, want, dp.dump())
}

func waitStatus(t *testing.T, st store.Store, portID, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return statusOf(st, portID) == want }, time.Second, 2*time.Millisecond,
		"status of %s: got %s, want %s", portID, statusOf(st, portID), want)
}

func TestPortLifecycle(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	testPortLifecycle(t, st)
}

// testPortLifecycle follows one port from creation to deletion: applied
// and ACTIVE within 200 ms, DOWN when admin down or unplugged, status
// removed with the port.
func testPortLifecycle(t *testing.T, st store.Store) {
	dp := newFakeDP("p1")
	runAgent(t, st, dp)
	waitApplied(t, dp, "", time.Second)

	// A port appears in the store whose VIF is already plugged here.
	start := time.Now()
	put(t, st, store.NetworkKey("n1"), vxlanNet("n1", 111))
	put(t, st, store.PortKey("p1"), vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.1.0.5", ""))
	waitApplied(t, dp, "net n1 vxlan 111\nport p1 net=n1 up=true\n", 200*time.Millisecond)
	waitStatus(t, st, "p1", "hostA/ACTIVE")
	t.Logf("port applied and ACTIVE %.1f ms after it was written", time.Since(start).Seconds()*1000)

	// A VIF plugged after the port exists.
	put(t, st, store.PortKey("p2"), vmPort("p2", "n1", "fa:16:3e:00:00:02", "10.1.0.6", ""))
	time.Sleep(20 * time.Millisecond)
	require.Equal(t, "none", statusOf(st, "p2"), "not plugged here: no status")
	dp.plug("p2")
	waitApplied(t, dp, "net n1 vxlan 111\nport p1 net=n1 up=true\nport p2 net=n1 up=true\n", 200*time.Millisecond)
	waitStatus(t, st, "p2", "hostA/ACTIVE")

	// Admin down: still wired, reported DOWN.
	p2 := vmPort("p2", "n1", "fa:16:3e:00:00:02", "10.1.0.6", "")
	p2.AdminStateUp = false
	put(t, st, store.PortKey("p2"), p2)
	waitStatus(t, st, "p2", "hostA/DOWN")

	// Unplugged: DOWN. Deleted from the store: its status goes too.
	dp.unplug("p1")
	waitApplied(t, dp, "net n1 vxlan 111\nport p2 net=n1 up=false\n", 200*time.Millisecond)
	waitStatus(t, st, "p1", "hostA/DOWN")
	del(t, st, store.PortKey("p1"))
	waitStatus(t, st, "p1", "none")

	// The heartbeat key counts the host's devices.
	require.Eventually(t, func() bool {
		hb, err := get[api.AgentHeartbeat](st, store.AgentHeartbeatKey("hostA"))
		return err == nil && hb.Devices == 1
	}, time.Second, 5*time.Millisecond)
}

func TestPeers(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	put(t, st, store.NetworkKey("n1"), vxlanNet("n1", 111))
	put(t, st, store.NetworkKey("n2"), vxlanNet("n2", 112))
	put(t, st, store.PortKey("a1"), vmPort("a1", "n1", "fa:16:3e:00:00:01", "10.1.0.5", ""))
	dp := newFakeDP("a1")
	runAgent(t, st, dp)
	base := "net n1 vxlan 111\nport a1 net=n1 up=true\n"
	waitApplied(t, dp, base, time.Second)

	// hostB registers and reports a port on n1 (and one on n2, which hostA
	// does not have).
	put(t, st, store.AgentKey("hostB"), ovsAgent("hostB", "192.168.50.2"))
	put(t, st, store.AgentAliveKey("hostB"), map[string]string{"host": "hostB"})
	put(t, st, store.PortKey("b1"), vmPort("b1", "n1", "fa:16:3e:00:00:02", "10.1.0.6", ""))
	put(t, st, store.PortKey("b2"), vmPort("b2", "n2", "fa:16:3e:00:00:03", "10.2.0.6", ""))
	put(t, st, store.PortStatusKey("hostB", "b1"), active("b1", "hostB"))
	put(t, st, store.PortStatusKey("hostB", "b2"), active("b2", "hostB"))
	waitApplied(t, dp, base+"peer hostB 192.168.50.2 [n1]\n", 200*time.Millisecond)

	// hostB's agent dies: its OVS may still forward, so the tunnel stays,
	// and its port statuses are not touched.
	del(t, st, store.AgentAliveKey("hostB"))
	time.Sleep(50 * time.Millisecond)
	require.Equal(t, base+"peer hostB 192.168.50.2 [n1]\n", dp.dump())
	require.Equal(t, "hostB/ACTIVE", statusOf(st, "b1"))

	// Its port on n1 is deleted: hostB is no peer any more.
	del(t, st, store.PortKey("b1"))
	waitApplied(t, dp, base, 200*time.Millisecond)
}

// A port moving between hosts: each host reports the VIF it has under its
// own key and never touches another host's record.
func TestPortMove(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	put(t, st, store.NetworkKey("n1"), vxlanNet("n1", 111))
	put(t, st, store.AgentKey("hostB"), ovsAgent("hostB", "192.168.50.2"))
	put(t, st, store.AgentAliveKey("hostB"), map[string]string{"host": "hostB"})
	put(t, st, store.PortKey("m1"), vmPort("m1", "n1", "fa:16:3e:00:00:01", "10.1.0.5", ""))
	put(t, st, store.PortStatusKey("hostB", "m1"), active("m1", "hostB"))
	dp := newFakeDP("m1")
	runAgent(t, st, dp)
	waitApplied(t, dp, "net n1 vxlan 111\nport m1 net=n1 up=true\n", time.Second)
	waitStatus(t, st, "m1", "hostA/ACTIVE,hostB/ACTIVE")

	// hostB unplugs it and reports DOWN; hostA's record stays.
	put(t, st, store.PortStatusKey("hostB", "m1"), api.PortStatus{PortID: "m1", Host: "hostB", Status: api.StatusDown})
	time.Sleep(50 * time.Millisecond)
	require.Equal(t, "hostA/ACTIVE,hostB/DOWN", statusOf(st, "m1"))

	// It moves back to hostB: hostA reports its unplug in its own record.
	put(t, st, store.PortStatusKey("hostB", "m1"), active("m1", "hostB"))
	dp.unplug("m1")
	waitApplied(t, dp, "", 200*time.Millisecond)
	waitStatus(t, st, "m1", "hostA/DOWN,hostB/ACTIVE")
}

// Applying fails twice: the agent retries with a growing pause, then
// reports the port.
func TestApplyBackoff(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	put(t, st, store.NetworkKey("n1"), vxlanNet("n1", 111))
	put(t, st, store.PortKey("p1"), vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.1.0.5", ""))
	dp := newFakeDP("p1")
	dp.failures = 2
	start := time.Now()
	runAgent(t, st, dp)
	waitStatus(t, st, "p1", "hostA/ACTIVE")
	elapsed := time.Since(start)
	// Pauses of 100 ms then 200 ms: no tight loop, no long stall.
	require.GreaterOrEqual(t, elapsed, 300*time.Millisecond)
	require.Less(t, elapsed, 2*time.Second)
	require.Len(t, dp.applies(), 3)
}

// A restarted agent applies the same state as before as its first Apply:
// it never applies a partial state (which would remove flows) while it is
// still reading the store.
func TestRestartConverges(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	put(t, st, store.NetworkKey("n1"), vxlanNet("n1", 111))
	put(t, st, store.AgentKey("hostB"), ovsAgent("hostB", "192.168.50.2"))
	put(t, st, store.AgentAliveKey("hostB"), map[string]string{"host": "hostB"})
	for _, id := range []string{"p1", "p2", "p3"} {
		put(t, st, store.PortKey(id), vmPort(id, "n1", "fa:16:3e:00:00:01", "10.1.0.5", ""))
	}
	put(t, st, store.PortKey("b1"), vmPort("b1", "n1", "fa:16:3e:00:00:09", "10.1.0.9", "hostB"))
	dp := newFakeDP("p1", "p2", "p3")
	stop := runAgent(t, st, dp)
	want := "net n1 vxlan 111\nport p1 net=n1 up=true\nport p2 net=n1 up=true\nport p3 net=n1 up=true\npeer hostB 192.168.50.2 [n1]\n"
	waitApplied(t, dp, want, time.Second)
	waitStatus(t, st, "p3", "hostA/ACTIVE")
	stop()

	dp2 := newFakeDP("p1", "p2", "p3")
	runAgent(t, st, dp2)
	waitApplied(t, dp2, want, time.Second)
	first := dp2.applies()[0]
	require.Equal(t, want, dumpState(first))
	time.Sleep(50 * time.Millisecond)
	require.Len(t, dp2.applies(), 1, "nothing changed: applied once")
}

func TestNewRejectsBadConfig(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	for _, cfg := range []Config{
		{},
		{HostConfig: HostConfig{Host: "h", TunnelTypes: []string{"vxlan"}}},
		{HostConfig: HostConfig{Host: "h", LocalIP: netip.MustParseAddr("10.0.0.1"), TunnelTypes: []string{"ipip"}}},
	} {
		_, err := New(cfg, st, newFakeDP())
		require.True(t, errors.Is(err, ErrConfig), "%+v: %v", cfg, err)
	}
}

// A plugged VIF whose port is bound to another host is not wired nor
// reported ACTIVE here; bound back to this host, it is.
func TestPortBoundElsewhere(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	put(t, st, store.NetworkKey("n1"), vxlanNet("n1", 111))
	put(t, st, store.AgentKey("hostB"), ovsAgent("hostB", "192.168.50.2"))
	put(t, st, store.PortKey("p1"), vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.1.0.5", "hostB"))
	dp := newFakeDP("p1")
	runAgent(t, st, dp)
	waitApplied(t, dp, "", time.Second)
	time.Sleep(50 * time.Millisecond)
	require.Equal(t, "", dp.dump(), "bound elsewhere: not wired here")
	require.Equal(t, "none", statusOf(st, "p1"), "bound elsewhere: no status from this host")

	put(t, st, store.PortKey("p1"), vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.1.0.5", "hostA"))
	waitApplied(t, dp, "net n1 vxlan 111\nport p1 net=n1 up=true\n", time.Second)
	waitStatus(t, st, "p1", "hostA/ACTIVE")

	// Rebound to hostB while its VIF is still here: unwired, DOWN.
	put(t, st, store.PortKey("p1"), vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.1.0.5", "hostB"))
	waitApplied(t, dp, "", time.Second)
	waitStatus(t, st, "p1", "hostA/DOWN")
}
