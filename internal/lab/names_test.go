package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

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

func TestNetworkNodes(t *testing.T) {
	_, err := Config{Name: "l3nn", Hosts: 2, NetworkNodes: 3, Binary: "/bin/true"}.withDefaults()
	require.ErrorIs(t, err, ErrBadConfig)
	st := newState(Config{Name: "l3nn", Dir: "/tmp/l3nn", Hosts: 3, NetworkNodes: 2})
	require.True(t, st.Hosts[0].NetworkNode && st.Hosts[1].NetworkNode && !st.Hosts[2].NetworkNode)
	require.Contains(t, st.Hosts[1].Roles, "l3")
	require.NotContains(t, st.Hosts[2].Roles, "l3")
	st = newState(Config{Name: "l3nn", Dir: "/tmp/l3nn", Hosts: 2})
	require.True(t, st.Hosts[0].NetworkNode && !st.Hosts[1].NetworkNode, "one network node by default")
}

// The agents run as vland-agent when it is next to vland, else as
// `vland agent`.
func TestAgentCommand(t *testing.T) {
	dir := t.TempDir()
	st := newState(Config{Name: "ab", Dir: dir, Hosts: 1, Binary: filepath.Join(dir, "vland")})
	require.Equal(t, []string{filepath.Join(dir, "vland"), "agent", "--host", "host1"}, st.agentArgv(st.Hosts[0])[:4])
	agentBin := filepath.Join(dir, "vland-agent")
	require.NoError(t, os.WriteFile(agentBin, nil, 0o644))
	require.Equal(t, filepath.Join(dir, "vland"), st.agentArgv(st.Hosts[0])[0], "not executable: not used")
	require.NoError(t, os.Chmod(agentBin, 0o755))
	require.Equal(t, []string{agentBin, "--host", "host1"}, st.agentArgv(st.Hosts[0])[:3])
}
