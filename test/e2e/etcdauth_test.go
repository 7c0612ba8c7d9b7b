package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
)

// TestAgentEtcdCredentials: the lab's etcd has auth on and every agent runs
// with its own host's user. With host1's credentials, the token signing
// secret cannot be read, no port or network can be written and host2's keys
// are out of reach, while host1's own status keys are writable; anonymous
// access fails. (The agents being alive shows the role is enough.)
func TestAgentEtcdCredentials(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	l := sharedLab(t)
	cc, err := l.AgentEtcdClient(1)
	require.NoError(t, err)
	st, err := etcdstore.Connect(cc)
	require.NoError(t, err)
	defer st.Close()

	for _, prefix := range append([]string{store.PortsPrefix, store.NetworkStatusPrefix}, store.PortIndexPrefixes...) {
		_, _, err = st.List(ctx, prefix)
		require.NoError(t, err, "the agent reads %s", prefix)
	}
	_, err = st.Get(ctx, store.TokenSecretKey)
	require.ErrorIs(t, err, rpctypes.ErrPermissionDenied, "the agent reads the token secret")
	for _, key := range []string{store.PortKey("etcdauth"), store.NetworkKey("etcdauth"), store.TokenSecretKey,
		store.AgentKey("host2"), store.AgentAliveKey("host2"), store.PortStatusKey("host2", "etcdauth"),
		store.AgentHeartbeatKey("host2"), store.NetworkPortKey("etcdauth", "etcdauth"), store.HostPortKey("host1", "etcdauth")} {
		_, err := st.Txn(ctx, nil, []store.Op{{Key: key, Value: []byte("{}")}})
		require.ErrorIs(t, err, rpctypes.ErrPermissionDenied, "the agent writes %s", key)
	}
	own := store.PortStatusKey("host1", "etcdauth-no-such-port")
	_, err = st.Txn(ctx, []store.Cond{{Key: own}}, []store.Op{{Key: own, Delete: true}})
	require.NoError(t, err, "the agent writes its own status keys")
	beat, err := st.Get(ctx, store.AgentHeartbeatKey("host1"))
	require.NoError(t, err, "the running agent keeps its heartbeat key")
	_, err = st.Txn(ctx, nil, []store.Op{{Key: beat.Key, Value: beat.Value}}) // the same time again: harmless
	require.NoError(t, err, "the agent writes its own heartbeat key")

	anon, err := etcdstore.New(cc.Endpoints)
	require.NoError(t, err)
	defer anon.Close()
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = anon.Get(actx, store.PortKey("x"))
	require.ErrorIs(t, err, rpctypes.ErrUserEmpty, "anonymous access")
}
