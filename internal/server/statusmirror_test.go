package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
)

// Two servers on one etcd: exactly one runs the status mirror, and the
// copy of an agent's status record appears under the port's network
// (and goes with the port).
func TestStatusMirror(t *testing.T) {
	onSecond(t, admin) // starts the second server on srv's etcd
	require.Eventually(t, func() bool { return srv.StatusMirrorLeading() != second.StatusMirrorLeading() },
		10*time.Second, 20*time.Millisecond, "exactly one of two servers mirrors")
	time.Sleep(300 * time.Millisecond)
	require.NotEqual(t, srv.StatusMirrorLeading(), second.StatusMirrorLeading())

	p := member("proj-mirror")
	netID := mkNetwork(t, p, map[string]any{"name": "m"})["id"].(string)
	id := mkPort(t, p, netID, nil)["id"].(string)
	ctx := context.Background()
	st := srv.Store()
	status, _ := json.Marshal(api.PortStatus{PortID: id, Host: "mirror1", Status: api.StatusActive})
	_, err := st.Txn(ctx, nil, []store.Op{{Key: store.PortStatusKey("mirror1", id), Value: status}})
	require.NoError(t, err)
	copyKey := store.NetworkStatusKey(netID, "mirror1", id)
	require.Eventually(t, func() bool {
		kv, err := st.Get(ctx, copyKey)
		return err == nil && string(kv.Value) == string(status)
	}, 10*time.Second, 5*time.Millisecond, "the status record is copied under its network")

	call(t, p, "DELETE", "/v2.0/ports/"+id, nil).want(t, 204)
	require.Eventually(t, func() bool {
		kvs, _, err := st.List(ctx, store.NetworkStatusOf(netID))
		return err == nil && len(kvs) == 0
	}, 10*time.Second, 5*time.Millisecond, "the copy goes with the port")
}
