package bench

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

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/testutil"
)

// The vland binary the labs run, built once on first use.
var (
	buildOnce sync.Once
	binary    string
	buildErr  error
	tmpDir    string
	// realHome is HOME before TestMain replaces it: go build needs it to
	// find the module and build caches (a fresh HOME means a cold build
	// that downloads every module).
	realHome string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	var err error
	tmpDir, err = os.MkdirTemp("", "vland-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmpDir)
	realHome = os.Getenv("HOME")
	// Never touch the user's client config.
	os.Setenv("HOME", tmpDir)
	os.Setenv("VLAND_CONFIG", filepath.Join(tmpDir, "config.yaml"))
	return m.Run()
}

// binaryEnv names a prebuilt vland binary to use instead of building one
// (e.g. `make build`'s bin/vland).
const binaryEnv = "VLAND_BENCH_BINARY"

// vlandBinary builds ./cmd/vland once and returns its path.
func vlandBinary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv(binaryEnv); p != "" {
		abs, err := filepath.Abs(p)
		require.NoError(tb, err)
		require.FileExists(tb, abs, binaryEnv)
		return abs
	}
	buildOnce.Do(func() {
		binary = filepath.Join(tmpDir, "vland")
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", binary, "./cmd/vland")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		cmd.Env = append(os.Environ(), "HOME="+realHome)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/vland: %w\n%s", err, out)
		}
	})
	require.NoError(tb, buildErr)
	return binary
}

// newLab brings up a lab with a unique name and a short directory, and takes
// it down at the end of the test or benchmark whatever happens.
func newLab(tb testing.TB, hosts int) *lab.Lab {
	tb.Helper()
	testutil.RequireOVS(tb)
	testutil.RequireBinary(tb, "ping", "ethtool", "iperf3", "sysctl")
	name := testutil.Prefix()
	dir := "/tmp/" + name
	bin := vlandBinary(tb)
	var l *lab.Lab
	tb.Cleanup(func() {
		if tb.Failed() {
			dumpLogs(tb, dir)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		keepLogs(tb, dir)
		start := time.Now()
		if l != nil {
			_ = l.Down(ctx)
		}
		_ = lab.Cleanup(ctx, name, dir)
		tb.Logf("lab %s down in %v", name, time.Since(start).Round(time.Millisecond))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress strings.Builder
	start := time.Now()
	var err error
	cfg := lab.Config{Name: name, Hosts: hosts, Dir: dir, Binary: bin, Out: &progress}
	if os.Getenv(logsEnv) != "" {
		cfg.AgentArgs = []string{"--debug"}
	}
	l, err = lab.Up(ctx, cfg)
	require.NoError(tb, err, progress.String())
	tb.Logf("lab %s (%d hosts) up in %v", name, hosts, time.Since(start).Round(time.Millisecond))
	return l
}

// logsEnv names a directory: when set, the agents log at debug level and
// every log of the lab is copied to DIR/LAB/ before the lab goes down, to
// find out where bring-up time goes.
const logsEnv = "VLAND_BENCH_LOGS"

func keepLogs(tb testing.TB, dir string) {
	to := os.Getenv(logsEnv)
	if to == "" {
		return
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	more, _ := filepath.Glob(filepath.Join(dir, "h*", "*.log"))
	for _, p := range append(logs, more...) {
		rel, _ := filepath.Rel(filepath.Dir(dir), p)
		dst := filepath.Join(to, rel)
		b, err := os.ReadFile(p)
		if err == nil {
			err = os.MkdirAll(filepath.Dir(dst), 0o755)
		}
		if err == nil {
			err = os.WriteFile(dst, b, 0o644)
		}
		if err != nil {
			tb.Logf("keeping %s: %v", p, err)
		}
	}
	tb.Logf("lab logs copied to %s", filepath.Join(to, filepath.Base(dir)))
}

func dumpLogs(tb testing.TB, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	more, _ := filepath.Glob(filepath.Join(dir, "h*", "agent.log"))
	for _, p := range append(logs, more...) {
		b, _ := os.ReadFile(p)
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		tb.Logf("%s:\n%s", p, b)
	}
}

// vxlanNetwork creates a VXLAN network with one IPv4 subnet and returns
// them (the network re-read, so its MTU is the one the server settled on).
func vxlanNetwork(tb testing.TB, ctx context.Context, c *client.Client, name, cidr string) (api.Network, api.Subnet) {
	tb.Helper()
	net, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: name, NetworkType: api.NetworkTypeVXLAN})
	require.NoError(tb, err)
	sub, err := c.CreateSubnet(ctx, client.SubnetCreate{Name: name + "-sub", NetworkID: net.ID, IPVersion: 4, CIDR: cidr})
	require.NoError(tb, err)
	net, err = c.GetNetwork(ctx, net.ID)
	require.NoError(tb, err)
	require.Equal(tb, api.NetworkTypeVXLAN, net.NetworkType)
	return net, sub
}
