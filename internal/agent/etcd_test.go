package agent

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
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
	e, err := etcdstore.StartEmbedded(etcdstore.EmbeddedConfig{DataDir: t.TempDir()})
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
