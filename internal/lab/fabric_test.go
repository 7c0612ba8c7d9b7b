package lab_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/lab/labtest"
	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/ovs/daemon"
	"github.com/vland/vland/internal/testutil"
)

// TestFabricUnderlay builds the fabric and two hosts (namespaces, OVS,
// br-phy) without server or agents, checks host1 reaches host2's underlay
// IP, then checks Cleanup leaves nothing behind.
func TestFabricUnderlay(t *testing.T) {
	testutil.RequireOVS(t)
	testutil.RequireBinary(t, "ping", "ethtool")
	ctx := context.Background()
	before := labtest.Snapshot(t)
	name := testutil.Prefix()
	dir := "/tmp/" + name
	t.Cleanup(func() { _ = lab.Cleanup(context.Background(), name, dir) })

	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(dir+"/"+lab.MarkerFile, nil, 0o644))
	st := lab.NewState(lab.Config{Name: name, Hosts: 2, Dir: dir})
	require.NoError(t, lab.BuildFabric(name))
	for i := 1; i <= 2; i++ {
		_, err := lab.BuildHost(ctx, &st, i)
		require.NoError(t, err)
	}

	h1 := lab.HostNetNS(name, 1)
	out, err := netns.Run(ctx, h1, "ping", "-c2", "-i0.2", "-W2", st.Hosts[1].UnderlayIP.Addr().String())
	require.NoError(t, err, string(out))
	out, err = netns.Run(ctx, h1, "ethtool", "-k", lab.DataNIC)
	require.NoError(t, err)
	require.Contains(t, string(out), "tx-checksumming: off")
	o, err := daemon.Attach(st.Hosts[0].Dir, st.Hosts[0].NetNS)
	require.NoError(t, err)
	ports, err := o.Vsctl(ctx, "list-ports", lab.PhyBridge)
	require.NoError(t, err)
	require.Equal(t, lab.DataNIC, strings.TrimSpace(ports))

	// A crash: nothing is stopped gracefully, Cleanup finds it all.
	require.NoError(t, lab.Cleanup(ctx, name, dir))
	labtest.RequireClean(t, before, name, dir)
}

// TestUpFailureCleansUp: when the server cannot start, Up says why and
// removes the hosts it had already built.
func TestUpFailureCleansUp(t *testing.T) {
	testutil.RequireOVS(t)
	before := labtest.Snapshot(t)
	name := testutil.Prefix()
	dir := "/tmp/" + name
	t.Cleanup(func() { _ = lab.Cleanup(context.Background(), name, dir) })
	var progress strings.Builder
	_, err := lab.Up(context.Background(), lab.Config{Name: name, Hosts: 2, Dir: dir, Binary: "/bin/false", Out: &progress})
	require.ErrorContains(t, err, "server exited")
	require.Contains(t, progress.String(), "host2")
	labtest.RequireClean(t, before, name, dir)
}
