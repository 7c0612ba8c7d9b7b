package lab_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/testutil"
)

// The vland binary the labs of this package run, built once, on first use
// (tests that need no server do not depend on the whole tree building).
var (
	buildOnce sync.Once
	binary    string
	buildErr  error
	tmpDir    string
	// origHome keeps go build on the real module and build caches.
	origHome = os.Getenv("HOME")
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	var err error
	tmpDir, err = os.MkdirTemp("", "vland-labtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmpDir)
	// Tests must never touch the user's client config.
	os.Setenv("HOME", tmpDir)
	os.Setenv("VLAND_CONFIG", filepath.Join(tmpDir, "config.yaml"))
	return m.Run()
}

// vlandBinary returns $VLAND_BINARY if set (`make test` builds bin/vland
// first), else builds ./cmd/vland once and returns its path.
func vlandBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("VLAND_BINARY"); b != "" {
		return b
	}
	buildOnce.Do(func() {
		binary = filepath.Join(tmpDir, "vland")
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", binary, "./cmd/vland")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		cmd.Env = append(os.Environ(), "HOME="+origHome)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/vland: %w\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binary
}

// sysState is what a lab could leave behind on the machine.
type sysState struct {
	links string
}

func snapshot(t *testing.T) sysState {
	t.Helper()
	return sysState{links: rootLinks(t)}
}

// rootLinks lists the root namespace's link names.
func rootLinks(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ip", "-o", "link").Output()
	require.NoError(t, err)
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			names = append(names, f[1])
		}
	}
	return strings.Join(names, " ")
}

// requireClean checks that no namespace, root-namespace link, process or
// file of the lab is left.
func requireClean(t *testing.T, before sysState, name, dir string) {
	t.Helper()
	nss, err := netns.List()
	require.NoError(t, err)
	for _, ns := range nss {
		require.False(t, strings.HasPrefix(ns, name+"-"), "namespace %s left", ns)
	}
	require.Equal(t, before.links, rootLinks(t), "root namespace links changed")
	for _, prog := range []string{"ovsdb-server", "ovs-vswitchd", "vland"} {
		out, _ := exec.Command("pgrep", "-af", prog).Output()
		require.NotContains(t, string(out), dir, "%s left", prog)
	}
	_, err = os.Stat(dir)
	require.True(t, os.IsNotExist(err), "lab dir %s left", dir)
}

// newLab brings a lab up with a unique name and a short directory, and
// removes it at the end of the test whatever happens.
func newLab(t *testing.T, hosts int) (*lab.Lab, string, string) {
	t.Helper()
	return newLabWith(t, lab.Config{Hosts: hosts})
}

// newLabWith is newLab with more of the config (Name, Dir, Binary and Out
// are set here).
func newLabWith(t *testing.T, cfg lab.Config) (*lab.Lab, string, string) {
	t.Helper()
	testutil.RequireOVS(t)
	testutil.RequireBinary(t, "ping", "ethtool")
	name := testutil.Prefix()
	dir := "/tmp/" + name
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(t, dir)
		}
		_ = lab.Cleanup(context.Background(), name, dir)
	})
	bin := vlandBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress strings.Builder
	start := time.Now()
	cfg.Name, cfg.Dir, cfg.Binary, cfg.Out = name, dir, bin, &progress
	l, err := lab.Up(ctx, cfg)
	require.NoError(t, err, progress.String())
	t.Logf("lab %s with %d hosts up in %.1fs", name, cfg.Hosts, time.Since(start).Seconds())
	return l, name, dir
}

func dumpLogs(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	more, _ := filepath.Glob(filepath.Join(dir, "h*", "agent.log"))
	for _, p := range append(logs, more...) {
		b, _ := os.ReadFile(p)
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Logf("%s:\n%s", p, b)
	}
}
