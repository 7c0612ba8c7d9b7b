package netns_test

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/testutil"
)

func TestCreateDoDelete(t *testing.T) {
	testutil.RequireRoot(t)
	name := testutil.Prefix() + "-ns"
	t.Cleanup(func() { _ = netns.Delete(name) })

	require.NoError(t, netns.Create(name))
	require.NoError(t, netns.Create(name), "create is idempotent")
	require.True(t, netns.Exists(name))
	names, err := netns.List()
	require.NoError(t, err)
	require.Contains(t, names, name)

	// The namespace is really a different one: `ip link` inside shows only lo, up.
	out, err := netns.Run(context.Background(), name, "ip", "-o", "link")
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(strings.TrimSpace(string(out)), "\n")+1, string(out))
	require.Contains(t, string(out), "lo:")
	require.Contains(t, string(out), "UP")

	// Do switches only the locked thread and comes back.
	var inside string
	require.NoError(t, netns.Do(name, func() error {
		b, err := exec.Command("readlink", "/proc/thread-self/ns/net").Output()
		inside = string(b)
		return err
	}))
	outside, err := exec.Command("readlink", "/proc/self/ns/net").Output()
	require.NoError(t, err)
	require.NotEqual(t, string(outside), inside)

	// Pids finds a process living in the namespace.
	cmd := netns.Command(context.Background(), name, "sleep", "30")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	require.Eventually(t, func() bool {
		pids, _ := netns.Pids(name)
		return slices.Contains(pids, cmd.Process.Pid)
	}, 5*time.Second, 20*time.Millisecond)

	require.NoError(t, netns.Delete(name))
	require.False(t, netns.Exists(name))
	require.NoError(t, netns.Delete(name), "delete is idempotent")
	_, err = netns.Pids(name)
	require.ErrorIs(t, err, netns.ErrNotFound)
}
