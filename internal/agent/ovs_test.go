package agent

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/dataplane"
	"github.com/vland/vland/internal/ovs/daemon"
	"github.com/vland/vland/internal/ovs/daemon/daemontest"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/testutil"
)

// vsctl runs ovs-vsctl against o's database.
func vsctl(t *testing.T, o *daemon.OVS, args ...string) string {
	t.Helper()
	out, err := exec.Command("ovs-vsctl", append([]string{"--timeout=10", "--db=" + o.DBSock()}, args...)...).CombinedOutput()
	require.NoError(t, err, "ovs-vsctl %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

// The whole control path on real software: embedded etcd, a real Open
// vSwitch and the real data plane. A VIF plugged the way Nova plugs it
// (external_ids:iface-id) is tagged and reported ACTIVE; a live peer with a
// port on the same network gets a VXLAN tunnel; unplugging reports DOWN.
func TestAgentOnOVS(t *testing.T) {
	o := daemontest.Start(t)
	st := etcdStore(t)
	dp := dataplane.New(dataplane.Config{
		Host: "hostA", DatapathType: "netdev", OVSDB: o.DBSock(), RunDir: o.RunDir(),
		LocalIP: hostA.LocalIP, TunnelTypes: hostA.TunnelTypes,
	})
	stop := runAgent(t, st, dp, func(c *Config) { c.BridgeMappings = nil })
	require.Eventually(t, func() bool { return exists(st, store.AgentAliveKey("hostA")) }, 20*time.Second, 10*time.Millisecond)

	put(t, st, store.NetworkKey("n1"), vxlanNet("n1", 111))
	put(t, st, store.PortKey("p1"), vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.1.0.5", ""))
	tap := testutil.Prefix() + "p1"
	start := time.Now()
	vsctl(t, o, "add-port", "br-int", tap, "--", "set", "Interface", tap, "type=internal",
		"external_ids:iface-id=p1", "external_ids:attached-mac=fa:16:3e:00:00:01")
	require.Eventually(t, func() bool { return statusOf(st, "p1") == "hostA/ACTIVE" }, 5*time.Second, 5*time.Millisecond)
	t.Logf("plugged VIF reported ACTIVE after %.0f ms", time.Since(start).Seconds()*1000)
	require.NotEqual(t, "[]", vsctl(t, o, "get", "Port", tap, "tag"), "the VIF has a local VLAN")

	// hostB is alive and reports a port on n1: a VXLAN tunnel to it.
	put(t, st, store.AgentKey("hostB"), ovsAgent("hostB", "192.168.50.2"))
	put(t, st, store.AgentAliveKey("hostB"), map[string]string{"host": "hostB"})
	put(t, st, store.PortKey("b1"), vmPort("b1", "n1", "fa:16:3e:00:00:02", "10.1.0.6", "hostB"))
	require.Eventually(t, func() bool {
		return strings.Contains(vsctl(t, o, "--columns=options", "find", "Interface", "type=vxlan"), `remote_ip="192.168.50.2"`)
	}, 5*time.Second, 10*time.Millisecond)

	// Unplugged: DOWN.
	vsctl(t, o, "del-port", "br-int", tap)
	require.Eventually(t, func() bool { return statusOf(st, "p1") == "hostA/DOWN" }, 5*time.Second, 5*time.Millisecond)

	// A graceful stop is quick (the lab gives agents 5 s before SIGKILL).
	stopStart := time.Now()
	stop()
	t.Logf("graceful stop took %.0f ms", time.Since(stopStart).Seconds()*1000)
	require.Less(t, time.Since(stopStart), time.Second)
}
