package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
)

// PortOps writes the port and a copy under each index key it has, and
// deletes the keys the old port had and the new one has not.
func TestPortOpsMovesIndexKeys(t *testing.T) {
	old := &api.Port{ID: "p1", NetworkID: "n1", BindingHostID: "h1", SecurityGroups: []string{"g1", "g2"}}
	p := &api.Port{ID: "p1", NetworkID: "n1", BindingHostID: "h2", SecurityGroups: []string{"g2", "g2"},
		DeviceOwner: "network:router_interface", DeviceID: "r1"}
	got := map[string]string{}
	for _, op := range store.PortOps(old, p, []byte("v")) {
		_, dup := got[op.Key]
		require.False(t, dup, "key %s twice in one transaction", op.Key)
		got[op.Key] = string(op.Value)
		if op.Delete {
			got[op.Key] = "delete"
		}
	}
	require.Equal(t, map[string]string{
		store.PortKey("p1"): "v", store.NetworkPortKey("n1", "p1"): "v", store.HostPortKey("h2", "p1"): "v",
		store.RouterPortKey("r1", "p1"): "v", store.SecGroupPortKey("g2", "p1"): "v",
		store.HostPortKey("h1", "p1"): "delete", store.SecGroupPortKey("g1", "p1"): "delete",
	}, got)
}

// An index value is the port's JSON; an older server's network-ports value
// was the device_owner itself.
func TestPortIndexOwner(t *testing.T) {
	require.Equal(t, "network:dhcp", store.PortIndexOwner([]byte(`{"id":"p1","device_owner":"network:dhcp"}`)))
	require.Equal(t, "", store.PortIndexOwner([]byte(`{"id":"p1","device_owner":""}`)))
	require.Equal(t, "network:dhcp", store.PortIndexOwner([]byte("network:dhcp")))
	require.Equal(t, "compute:nova", store.PortIndexOwner([]byte("compute:nova")))
	require.Equal(t, "", store.PortIndexOwner(nil))
}

// An agent may write its own heartbeat key and read the index ranges.
func TestAgentPermsCoverIndexAndHeartbeat(t *testing.T) {
	perms := store.AgentPerms("h1")
	can := func(key string, write bool) bool {
		for _, p := range perms {
			match := key == p.Key || (p.Prefix && len(key) > len(p.Key) && key[:len(p.Key)] == p.Key)
			if match && (p.Write || !write) {
				return true
			}
		}
		return false
	}
	require.True(t, can(store.AgentHeartbeatKey("h1"), true))
	require.False(t, can(store.AgentHeartbeatKey("h2"), true))
	for _, k := range []string{store.NetworkPortKey("n", "p"), store.HostPortKey("h2", "p"), store.RouterPortKey("r", "p"),
		store.SecGroupPortKey("g", "p"), store.NetworkStatusKey("n", "h2", "p")} {
		require.True(t, can(k, false), "read %s", k)
		require.False(t, can(k, true), "write %s", k)
	}
}
