package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/lab/labtest"
	"github.com/vland/vland/internal/testutil"
)

func TestMain(m *testing.M) { labtest.Main(m) }

// newLab brings up a lab (see labtest.Up) with the programs the benchmarks
// run, agents logging at debug level when VLAND_BENCH_LOGS asks for it.
func newLab(tb testing.TB, hosts int) *lab.Lab {
	tb.Helper()
	testutil.RequireBinary(tb, "iperf3", "sysctl")
	cfg := lab.Config{Hosts: hosts}
	if os.Getenv(logsEnv) != "" {
		cfg.AgentArgs = []string{"--debug"}
	}
	cfg.AgentArgs = append(cfg.AgentArgs, strings.Fields(os.Getenv(agentArgsEnv))...)
	l := labtest.Up(tb, cfg)
	// Registered after Up's teardown, so it runs before it.
	tb.Cleanup(func() { keepLogs(tb, l.Dir()) })
	return l
}

// agentArgsEnv: more arguments for every agent of the lab, e.g.
// "--memory-limit=24MiB" to measure another memory limit.
const agentArgsEnv = "VLAND_BENCH_AGENT_ARGS"

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
