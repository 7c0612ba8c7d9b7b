package etcdstore_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
	"github.com/vland/vland/internal/store/etcdstore/embedded"
	"github.com/vland/vland/internal/store/storetest"
)

// agentOn provisions host's agent user on e and connects with it.
func agentOn(t *testing.T, e *embedded.Etcd, host, password string) *etcdstore.Store {
	t.Helper()
	cli, err := etcdstore.AdminClient(e.RootClient())
	require.NoError(t, err)
	defer cli.Close()
	require.NoError(t, etcdstore.ProvisionAgent(ctxT(t), cli, host, password))
	return storetest.Connect(t, etcdstore.ClientConfig{Endpoints: e.Endpoints(), Username: store.AgentUser(host), Password: password})
}

func put(key string) []store.Op { return []store.Op{{Key: key, Value: []byte(`{}`)}} }

// The embedded node runs with auth on: no anonymous access, and an agent's
// credentials read the desired state and write only its own host's keys.
// The token signing secret is the server's alone.
func TestAgentCredentials(t *testing.T) {
	e := storetest.NewEmbedded(t)
	server := storetest.Connect(t, e.ServerClient())
	_, err := server.Txn(ctxT(t), nil, []store.Op{
		{Key: store.TokenSecretKey, Value: []byte(`"c2VjcmV0"`)},
		{Key: store.NetworkKey("n1"), Value: []byte(`{"id":"n1"}`)},
		{Key: store.SubnetKey("s1"), Value: []byte(`{"id":"s1"}`)},
		{Key: store.PortKey("p1"), Value: []byte(`{"id":"p1"}`)},
		{Key: store.ProjectKey("pr1"), Value: []byte(`{"id":"pr1"}`)},
		{Key: store.PortStatusKey("host2", "p1"), Value: []byte(`{}`)},
	})
	require.NoError(t, err, "the server role writes everything under /vland/")
	_, err = server.Get(ctxT(t), store.TokenSecretKey)
	require.NoError(t, err, "the server reads the token secret")

	anon, err := etcdstore.New(e.Endpoints())
	require.NoError(t, err)
	t.Cleanup(func() { anon.Close() })
	_, err = anon.Get(ctxT(t), store.TokenSecretKey)
	require.ErrorIs(t, err, rpctypes.ErrUserEmpty, "anonymous access must fail")

	_, err = etcdstore.Connect(etcdstore.ClientConfig{Endpoints: e.Endpoints(), Username: store.AgentUser("host1"), Password: "nope"})
	require.Error(t, err, "unknown user or wrong password")

	agent := agentOn(t, e, "host1", "pw1")
	denied := func(err error, what string) {
		t.Helper()
		require.ErrorIs(t, err, rpctypes.ErrPermissionDenied, what)
	}

	// Reads: the desired state and the agents' reports, nothing else.
	for _, p := range store.AgentReadPrefixes {
		_, _, err := agent.List(ctxT(t), p)
		require.NoError(t, err, "agent lists %s", p)
	}
	_, err = agent.Get(ctxT(t), store.SubnetKey("s1"))
	require.NoError(t, err)
	_, err = agent.Get(ctxT(t), store.TokenSecretKey)
	denied(err, "agent reads the token secret")
	_, _, err = agent.List(ctxT(t), "/vland/")
	denied(err, "agent lists the whole keyspace")
	_, _, err = agent.List(ctxT(t), store.ProjectsPrefix)
	denied(err, "agent lists projects")
	ev, ok := <-agent.Watch(ctxT(t), "/vland/keystone/", 0)
	require.True(t, ok && ev.Err != nil, "agent watches the token secret: %+v", ev)

	// Writes: never a resource, never another host's keys.
	for _, key := range []string{
		store.PortKey("p1"), store.PortKey("new"), store.NetworkKey("n1"), store.SubnetKey("s1"), store.TokenSecretKey,
		store.AgentKey("host2"), store.AgentAliveKey("host2"), store.PortStatusKey("host2", "p1"),
		store.AgentKey("host10"), store.PortStatusPrefix + "host1", store.PortStatusPrefix + "p1",
		store.AgentHeartbeatKey("host2"), store.AgentHeartbeatKey("host10"),
		store.NetworkPortKey("n1", "p1"), store.HostPortKey("host1", "p1"), store.RouterPortKey("r1", "p1"),
		store.SecGroupPortKey("g1", "p1"), store.NetworkStatusKey("n1", "host1", "p1"),
	} {
		_, err := agent.Txn(ctxT(t), nil, put(key))
		denied(err, "agent writes "+key)
	}
	_, err = agent.Txn(ctxT(t), nil, []store.Op{{Key: store.PortKey("p1"), Delete: true}})
	denied(err, "agent deletes a port")
	_, err = agent.Txn(ctxT(t), nil, []store.Op{{Key: store.PortStatusKey("host2", "p1"), Delete: true}})
	denied(err, "agent deletes another host's status")
	// A transaction mixing its own key with a forbidden one does nothing.
	_, err = agent.Txn(ctxT(t), nil, append(put(store.PortStatusKey("host1", "p1")), put(store.PortKey("p1"))...))
	denied(err, "mixed transaction")
	_, err = server.Get(ctxT(t), store.PortStatusKey("host1", "p1"))
	require.ErrorIs(t, err, store.ErrNotFound)

	// Its own keys: registration on a lease, status records, compare-and-set.
	lease, err := agent.Grant(ctxT(t), 5*time.Second)
	require.NoError(t, err)
	_, err = agent.Txn(ctxT(t), []store.Cond{{Key: store.AgentKey("host1")}}, []store.Op{
		{Key: store.AgentKey("host1"), Value: []byte(`{"host":"host1"}`)},
		{Key: store.AgentAliveKey("host1"), Value: []byte(`{}`), Lease: lease},
		{Key: store.AgentHeartbeatKey("host1"), Value: []byte(`"2026-01-01 00:00:00"`)},
		{Key: store.PortStatusKey("host1", "p1"), Value: []byte(`{"status":"ACTIVE"}`)},
	})
	require.NoError(t, err, "agent writes its own keys")
	_, err = agent.Txn(ctxT(t), nil, []store.Op{{Key: store.PortStatusKey("host1", "p1"), Delete: true}})
	require.NoError(t, err, "agent deletes its own status")
	require.NoError(t, agent.Revoke(ctxT(t), lease), "agent revokes its own lease")
	_, err = server.Get(ctxT(t), store.AgentAliveKey("host1"))
	require.ErrorIs(t, err, store.ErrNotFound)

	// Rotation: the new password works, the old one no longer does.
	agentOn(t, e, "host1", "pw2")
	_, err = etcdstore.Connect(etcdstore.ClientConfig{Endpoints: e.Endpoints(), Username: store.AgentUser("host1"), Password: "pw1"})
	require.Error(t, err, "old password after rotation")
}

// The embedded node's passwords are generated once, private, and reused.
func TestEmbeddedPasswords(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	e, err := embedded.Start(embedded.Config{DataDir: dir})
	require.NoError(t, err)
	first := e.ServerClient().Password
	require.NoError(t, e.Close())
	for _, f := range []string{etcdstore.RootPasswordFile, etcdstore.ServerPasswordFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}
	e, err = embedded.Start(embedded.Config{DataDir: dir})
	require.NoError(t, err)
	defer e.Close()
	require.Equal(t, first, e.ServerClient().Password)
	st := storetest.Connect(t, e.ServerClient())
	_, err = st.Txn(ctxT(t), nil, put(store.NetworkKey("n1")))
	require.NoError(t, err)
	_, err = st.Txn(ctxT(t), nil, put("/outside"))
	require.ErrorIs(t, err, rpctypes.ErrPermissionDenied, "the server role is limited to /vland/")
}

// Provisioning again repairs a role that drifted: an extra permission is
// revoked, a missing one granted back.
func TestProvisionRepairsDrift(t *testing.T) {
	e := storetest.NewEmbedded(t)
	cli, err := etcdstore.AdminClient(e.RootClient())
	require.NoError(t, err)
	defer cli.Close()
	require.NoError(t, etcdstore.ProvisionAgent(ctxT(t), cli, "h1", "pw"))
	role := store.AgentRole("h1")
	_, err = cli.RoleGrantPermission(ctxT(t), role, store.TokenSecretKey, "", clientv3.PermissionType(clientv3.PermRead))
	require.NoError(t, err)
	_, err = cli.RoleRevokePermission(ctxT(t), role, store.AgentKey("h1"), "")
	require.NoError(t, err)
	require.NoError(t, etcdstore.Provision(ctxT(t), cli, e.RootClient().Password, e.ServerClient().Password))
	got, err := cli.RoleGet(ctxT(t), role)
	require.NoError(t, err)
	require.Len(t, got.Perm, len(store.AgentPerms("h1")))
	for _, p := range got.Perm {
		require.NotEqual(t, store.TokenSecretKey, string(p.Key))
	}
	agent := storetest.Connect(t, etcdstore.ClientConfig{Endpoints: e.Endpoints(), Username: store.AgentUser("h1"), Password: "pw"})
	_, err = agent.Get(ctxT(t), store.TokenSecretKey)
	require.ErrorIs(t, err, rpctypes.ErrPermissionDenied)
	_, err = agent.Txn(ctxT(t), nil, put(store.AgentKey("h1")))
	require.NoError(t, err)
}

// A restarted etcd has forgotten the client's session token. A watch from
// the revision the caller had reached, made right after the restart,
// delivers what was written meanwhile, after at most one refusal (the
// client logs in again when it opens its new stream, so usually none;
// TestWatchRenewsStaleLogin covers the refusal).
func TestWatchAfterEtcdRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	e, err := embedded.Start(embedded.Config{DataDir: dir})
	require.NoError(t, err)
	url := e.Endpoints()[0]
	agent := agentOn(t, e, "host1", "pw1")
	server, err := etcdstore.Connect(e.ServerClient())
	require.NoError(t, err)
	rev, err := server.Txn(ctxT(t), nil, put(store.PortKey("p1")))
	require.NoError(t, err)
	require.NoError(t, server.Close())
	require.NoError(t, e.Close())

	e, err = embedded.Start(embedded.Config{DataDir: dir, ClientURL: url})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	server = storetest.Connect(t, e.ServerClient())
	_, err = server.Txn(ctxT(t), nil, put(store.PortKey("p2")))
	require.NoError(t, err)

	var refused []error
	for len(refused) < 3 {
		ev := <-agent.Watch(ctxT(t), store.PortsPrefix, rev+1)
		if ev.Err == nil {
			require.Equal(t, store.PortKey("p2"), ev.KV.Key)
			require.LessOrEqual(t, len(refused), 1, "refused: %v", refused)
			t.Logf("watches refused before the login was renewed: %v", refused)
			return
		}
		refused = append(refused, ev.Err)
	}
	t.Fatalf("the watch is refused again after its login was renewed: %v", refused)
}

// A login goes stale while its watch stream stays open (a session token
// unused for its TTL expires; the client logs in only when it opens a
// stream or a read is refused): etcd refuses new watches on that stream
// with ErrInvalidAuthToken. The refused watch renews the login and the
// next one goes on a new stream, instead of being refused for as long as
// the old stream lives.
func TestWatchRenewsStaleLogin(t *testing.T) {
	e, err := embedded.Start(embedded.Config{DataDir: filepath.Join(t.TempDir(), "etcd"), TokenTTL: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	agent := agentOn(t, e, "host1", "pw1")
	server := storetest.Connect(t, e.ServerClient())
	ctx := ctxT(t)
	open := agent.Watch(ctx, store.NetworksPrefix, 0) // keeps the stream open
	rev, err := server.Txn(ctx, nil, put(store.PortKey("p1")))
	require.NoError(t, err)
	time.Sleep(3 * time.Second) // the agent's token expires unused

	var refused []error
	for len(refused) < 3 {
		ev := <-agent.Watch(ctx, store.PortsPrefix, rev)
		if ev.Err == nil {
			require.Equal(t, store.PortKey("p1"), ev.KV.Key)
			require.Len(t, refused, 1, "the stale login was not refused: the test proves nothing")
			require.ErrorContains(t, refused[0], rpctypes.ErrorDesc(rpctypes.ErrGRPCInvalidAuthToken))
			select {
			case ev := <-open:
				t.Fatalf("the first watch broke: %v", ev.Err)
			default:
			}
			return
		}
		refused = append(refused, ev.Err)
	}
	t.Fatalf("the watch is refused again after its login was renewed: %v", refused)
}
