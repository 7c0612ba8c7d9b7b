package labtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/netns"
)

// SysState is what a lab could change on the machine outside its own
// namespaces, recorded before the lab exists (see Snapshot).
type SysState struct {
	links string
}

// Snapshot records the machine's state, for RequireClean.
func Snapshot(tb testing.TB) SysState {
	tb.Helper()
	return SysState{links: rootLinks(tb)}
}

// rootLinks lists the root namespace's link names (flags and counters vary).
func rootLinks(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("ip", "-o", "link").Output()
	require.NoError(tb, err)
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			names = append(names, f[1])
		}
	}
	return strings.Join(names, " ")
}

// RequireClean fails the test unless the lab called name with directory
// dir left nothing: no namespace of its name, no change to the root
// namespace's links since before, no process mentioning dir, no dir.
// Other tests may make namespaces meanwhile, so only the lab's own are
// looked for.
func RequireClean(tb testing.TB, before SysState, name, dir string) {
	tb.Helper()
	nss, err := netns.List()
	require.NoError(tb, err)
	for _, ns := range nss {
		require.False(tb, strings.HasPrefix(ns, name), "namespace %s left", ns)
	}
	require.Equal(tb, before.links, rootLinks(tb), "root namespace links changed")
	require.Empty(tb, lab.Processes(dir), "processes left")
	for _, prog := range []string{"ovsdb-server", "ovs-vswitchd", "vland"} {
		out, _ := exec.Command("pgrep", "-af", prog).Output()
		require.NotContains(tb, string(out), dir, "%s left", prog)
	}
	_, err = os.Stat(dir)
	require.True(tb, os.IsNotExist(err), "lab dir %s left", dir)
}
