package lab

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

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
	before := snapshot(t)
	name := testutil.Prefix()
	dir := "/tmp/" + name
	t.Cleanup(func() { _ = Cleanup(context.Background(), name, dir) })

	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(dir+"/"+markerFile, nil, 0o644))
	st := newState(Config{Name: name, Hosts: 2, Dir: dir})
	require.NoError(t, buildFabric(name))
	for i := 1; i <= 2; i++ {
		_, err := buildHost(ctx, &st, i)
		require.NoError(t, err)
	}

	out, err := netns.Run(ctx, hostNetNS(name, 1), "ping", "-c2", "-i0.2", "-W2", st.Hosts[1].UnderlayIP.Addr().String())
	require.NoError(t, err, string(out))
	out, err = netns.Run(ctx, hostNetNS(name, 1), "ethtool", "-k", dataNIC)
	require.NoError(t, err)
	require.Contains(t, string(out), "tx-checksumming: off")
	o, err := daemon.Attach(st.Hosts[0].Dir, st.Hosts[0].NetNS)
	require.NoError(t, err)
	ports, err := o.Vsctl(ctx, "list-ports", phyBridge)
	require.NoError(t, err)
	require.Equal(t, dataNIC, strings.TrimSpace(ports))

	// A crash: nothing is stopped gracefully, Cleanup finds it all.
	require.NoError(t, Cleanup(ctx, name, dir))
	requireClean(t, before, name, dir)
}

// sysState is what a lab could leave behind on the machine.
type sysState struct {
	netns []string
	links string
}

func snapshot(t *testing.T) sysState {
	t.Helper()
	nss, err := netns.List()
	require.NoError(t, err)
	return sysState{netns: nss, links: rootLinks(t)}
}

// rootLinks lists the root namespace's link names (flags and counters vary).
func rootLinks(t *testing.T) string {
	t.Helper()
	out, err := runOut("ip", "-o", "link")
	require.NoError(t, err)
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			names = append(names, f[1])
		}
	}
	return strings.Join(names, " ")
}

// requireClean checks no namespace, root link, process or file of the lab
// is left. Other tests may create namespaces meanwhile, so only the lab's
// own are looked for.
func requireClean(t *testing.T, before sysState, name, dir string) {
	t.Helper()
	nss, err := netns.List()
	require.NoError(t, err)
	for _, ns := range nss {
		require.False(t, strings.HasPrefix(ns, name), "namespace %s left", ns)
	}
	require.Equal(t, before.links, rootLinks(t), "root namespace links changed")
	require.Empty(t, pidsMentioning(dir), "processes left")
	for _, prog := range []string{"ovsdb-server", "ovs-vswitchd", "vland"} {
		out, _ := runOut("pgrep", "-af", prog)
		require.NotContains(t, out, dir, "%s left", prog)
	}
	_, err = os.Stat(dir)
	require.True(t, os.IsNotExist(err), "lab dir %s left", dir)
}

// runOut runs a program and returns its stdout.
func runOut(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}

// TestUpFailureCleansUp: when the server cannot start, Up says why and
// removes the hosts it had already built.
func TestUpFailureCleansUp(t *testing.T) {
	testutil.RequireOVS(t)
	before := snapshot(t)
	name := testutil.Prefix()
	dir := "/tmp/" + name
	t.Cleanup(func() { _ = Cleanup(context.Background(), name, dir) })
	var progress strings.Builder
	_, err := Up(context.Background(), Config{Name: name, Hosts: 2, Dir: dir, Binary: "/bin/false", Out: &progress})
	require.ErrorContains(t, err, "server exited")
	require.Contains(t, progress.String(), "host2")
	requireClean(t, before, name, dir)
}

func TestNames(t *testing.T) {
	require.NoError(t, ValidName("vland"))
	for _, bad := range []string{"", "a-b", "Lab", "1lab", "a/b", strings.Repeat("a", 17)} {
		require.ErrorIs(t, ValidName(bad), ErrBadConfig, bad)
	}
	require.True(t, isLabNamespace("lab", "lab-h1"))
	require.True(t, isLabNamespace("lab", "lab-fab"))
	require.True(t, isLabNamespace("lab", "lab-vm-web-1"))
	require.False(t, isLabNamespace("lab", "lab2-h1"))
	require.False(t, isLabNamespace("lab", "lab-hx"))
	require.True(t, isLabNamespace("lab", "lab-h2-qdhcp-1234"))
	require.False(t, isLabNamespace("lab", "lab-h2x"))
	require.False(t, isLabNamespace("lab", "qdhcp-lab-h1"))
	require.Equal(t, "172.31.0.12/24", underlayIP(2).String())
	require.Equal(t, "tap0123456789a", tapName("0123456789abcdef"))
	require.True(t, mentions([]string{"--pidfile=/tmp/lab/h1/x.pid"}, "/tmp/lab"))
	require.True(t, mentions([]string{"/tmp/lab"}, "/tmp/lab"))
	require.True(t, mentions([]string{"unix:/tmp/lab:x"}, "/tmp/lab"))
	require.False(t, mentions([]string{"--data-dir=/tmp/lab2/server"}, "/tmp/lab"))
	require.False(t, mentions([]string{"/tmp/lab-x"}, "/tmp/lab"))
}
