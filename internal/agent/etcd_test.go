package agent

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
	"github.com/vland/vland/internal/store/etcdstore/embedded"
)

// etcdPair is the test's view of an embedded etcd (logged in as the vland
// server, to write desired state) that runAgent replaces by hostA's own
// agent credentials, so every etcd test also proves the agent's role is
// enough for what it does.
type etcdPair struct {
	*etcdstore.Store
	agent store.Store
}

// agentStore is the store the agent runs on: its own credentials on etcd.
func agentStore(st store.Store) store.Store {
	if p, ok := st.(etcdPair); ok {
		return p.agent
	}
	return st
}

// etcdStore starts an embedded etcd for one test and connects to it as the
// server, with hostA's agent user provisioned for runAgent.
func etcdStore(t *testing.T) etcdPair {
	t.Helper()
	e, err := embedded.Start(embedded.Config{DataDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	st, err := etcdstore.Connect(e.ServerClient())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	cli, err := etcdstore.AdminClient(e.RootClient())
	require.NoError(t, err)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, etcdstore.ProvisionAgent(ctx, cli, hostA.Host, "agent-pw"))
	ag, err := etcdstore.Connect(etcdstore.ClientConfig{Endpoints: e.Endpoints(), Username: store.AgentUser(hostA.Host), Password: "agent-pw"})
	require.NoError(t, err)
	t.Cleanup(func() { ag.Close() })
	return etcdPair{Store: st, agent: ag}
}

// The registration contract on a real etcd: leases, their expiry (etcd
// rounds the TTL up to its 2 s minimum) and revocation.
func TestRegistrationEtcd(t *testing.T) {
	testRegistration(t, etcdStore(t))
}

// Watch latency on a real etcd: a new port is applied within 200 ms.
func TestPortLifecycleEtcd(t *testing.T) {
	testPortLifecycle(t, etcdStore(t))
}

// The agent's etcd login outlives an etcd restart: the new node does not
// know the old session token, and the client logs in again by itself, so
// the agent registers again and keeps applying and reporting ports.
func TestAgentLoginSurvivesEtcdRestart(t *testing.T) {
	dir := t.TempDir()
	e, err := embedded.Start(embedded.Config{DataDir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() }) // the node running at the end
	url := e.Endpoints()[0]
	cli, err := etcdstore.AdminClient(e.RootClient())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, etcdstore.ProvisionAgent(ctx, cli, hostA.Host, "agent-pw"))
	cli.Close()
	server := etcdPair{}
	server.Store, err = etcdstore.Connect(e.ServerClient())
	require.NoError(t, err)
	ag, err := etcdstore.Connect(etcdstore.ClientConfig{Endpoints: []string{url}, Username: store.AgentUser(hostA.Host), Password: "agent-pw"})
	require.NoError(t, err)
	server.agent = ag
	// Clients hang up before etcd stops, or it waits for them.
	t.Cleanup(func() { ag.Close(); server.Close() })

	dp := newFakeDP("p1", "p2")
	runAgent(t, server, dp)
	put(t, server, store.NetworkKey("n1"), vxlanNet("n1", 111))
	put(t, server, store.PortKey("p1"), vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.1.0.5", ""))
	waitStatus(t, server, "p1", "hostA/ACTIVE")

	require.NoError(t, server.Close())
	require.NoError(t, e.Close())
	e, err = embedded.Start(embedded.Config{DataDir: dir, ClientURL: url})
	require.NoError(t, err)
	server.Store, err = etcdstore.Connect(e.ServerClient())
	require.NoError(t, err)

	start := time.Now()
	put(t, server, store.PortKey("p2"), vmPort("p2", "n1", "fa:16:3e:00:00:02", "10.1.0.6", ""))
	require.Eventually(t, func() bool { return statusOf(server, "p2") == "hostA/ACTIVE" }, 20*time.Second, 20*time.Millisecond,
		"status of p2 after the etcd restart: %s", statusOf(server, "p2"))
	require.Eventually(t, func() bool { return exists(server, store.AgentAliveKey(hostA.Host)) }, 20*time.Second, 20*time.Millisecond)
	t.Logf("agent back in step %.1f s after etcd restarted", time.Since(start).Seconds())
}
