package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/keystone"
)

// TestMain runs the real main() when a test re-executes its own binary
// (to check exit codes), and isolates the client from the developer's
// environment and config file.
func TestMain(m *testing.M) {
	if os.Getenv("VLAND_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"vland"}, strings.Fields(os.Getenv("VLAND_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	for _, k := range []string{"VLAND_URL", "OS_AUTH_URL", "OS_AUTH_TYPE", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_TOKEN"} {
		os.Unsetenv(k)
	}
	os.Setenv("VLAND_CONFIG", filepath.Join(os.TempDir(), "vland-cli-test-no-such-config.yaml"))
	os.Exit(m.Run())
}

// cli runs client commands in-process on a fresh command tree, so flag
// values never leak from one run to the next.
type cli struct {
	t   *testing.T
	url string
}

func (c cli) run(args ...string) (stdout, stderr string, err error) {
	root := &cobra.Command{Use: "vland", SilenceUsage: true, SilenceErrors: true}
	agent := &cobra.Command{Use: "agent"}
	agent.AddCommand(newAgentListCmd())
	root.AddCommand(newNetworkCmd(), newSubnetCmd(), newPortCmd(), newQuotaCmd(), agent, newAddressCmd(), newIPCmd(), newSecurityCmd(),
		newRouterCmd(), newFloatingCmd(), newInstanceCmd())
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	if c.url != "" {
		args = append(args, "--os-url", c.url)
	}
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// ok runs a command that must succeed and returns its output.
func (c cli) ok(args ...string) string {
	c.t.Helper()
	out, stderr, err := c.run(args...)
	require.NoError(c.t, err, "vland %s: %s", strings.Join(args, " "), stderr)
	return out
}

// json runs a command with -o json and decodes its output into v.
func (c cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "-o", "json")...)
	require.NoError(c.t, json.Unmarshal([]byte(out), v), out)
}

func TestCLINetworkSubnetPort(t *testing.T) {
	c := cli{t: t, url: startAPI(t)}

	out := c.ok("network", "create", "net1", "--provider-network-type", "vxlan", "--provider-segment", "111", "--mtu", "1400")
	assert.Regexp(t, `(?m)^\| mtu\s+\| 1400\s+\|$`, out, "show/create print a Field|Value table")
	assert.Regexp(t, `(?m)^\| provider:segmentation_id\s+\| 111\s+\|$`, out)

	var sub map[string]any
	c.json(&sub, "subnet", "create", "sub1", "--network", "net1", "--subnet-range", "10.1.0.0/24",
		"--allocation-pool", "start=10.1.0.10,end=10.1.0.100", "--dns-nameserver", "10.1.0.2")
	assert.Equal(t, "10.1.0.0/24", sub["cidr"])
	assert.Equal(t, []any{map[string]any{"start": "10.1.0.10", "end": "10.1.0.100"}}, sub["allocation_pools"])

	var port map[string]any
	c.json(&port, "port", "create", "vm1", "--network", "net1", "--fixed-ip", "subnet=sub1,ip-address=10.1.0.11",
		"--host", "host1")
	assert.Equal(t, []any{map[string]any{"subnet_id": sub["id"], "ip_address": "10.1.0.11"}}, port["fixed_ips"])
	assert.Equal(t, "host1", port["binding:host_id"])

	list := c.ok("port", "list", "--network", "net1")
	assert.Contains(t, list, "| ID ")
	assert.Contains(t, list, "| MAC Address ")
	assert.Contains(t, list, "ip_address='10.1.0.11'")
	assert.Contains(t, list, port["id"])

	var shown map[string]any
	c.json(&shown, "port", "show", "vm1")
	assert.Equal(t, port["id"], shown["id"], "show resolves names")

	c.ok("port", "set", "vm1", "--name", "vm1b", "--fixed-ip", "subnet=sub1,ip-address=10.1.0.12")
	c.json(&shown, "port", "show", port["id"].(string))
	assert.Equal(t, "vm1b", shown["name"])
	assert.Len(t, shown["fixed_ips"], 2, "set --fixed-ip adds an address")

	var names []map[string]any
	c.json(&names, "network", "list", "-c", "Name")
	assert.Equal(t, []map[string]any{{"name": "net1"}}, names, "-c takes column titles")

	table := c.ok("subnet", "list", "-c", "ID", "-c", "Subnet")
	assert.Regexp(t, `(?m)^\| ID\s+\| Subnet\s+\|$`, table)
	assert.Contains(t, table, "| 10.1.0.0/24 |")
}

func TestCLIProjectWithoutKeystone(t *testing.T) {
	c := cli{t: t, url: startAPI(t)}
	var n map[string]any
	c.json(&n, "network", "create", "pn", "--project", "tenantA")
	assert.Equal(t, "tenantA", n["project_id"], "without Keystone the project name is the ID")
	var list []map[string]any
	c.json(&list, "network", "list", "--project", "tenantA")
	require.Len(t, list, 1)
	assert.Equal(t, n["id"], list[0]["id"])
}

func TestCLIQuota(t *testing.T) {
	c := cli{t: t, url: startAPI(t)}
	out := c.ok("quota", "set", "--networks", "1", "--ports", "-1", "tenantQ")
	assert.Regexp(t, `(?m)^\| network\s+\| 1\s+\|$`, out)
	var q map[string]any
	c.json(&q, "quota", "show", "tenantQ")
	assert.Equal(t, map[string]any{"network": 1.0, "subnet": 100.0, "port": -1.0, "router": 10.0, "floatingip": 50.0,
		"security_group": 10.0, "security_group_rule": 100.0}, q)
	c.ok("network", "create", "q1", "--project", "tenantQ")
	_, _, err := c.run("network", "create", "q2", "--project", "tenantQ")
	assert.ErrorContains(t, err, "Quota exceeded for resources: ['network']")
	usage := c.ok("quota", "show", "--usage", "tenantQ")
	assert.Regexp(t, `(?m)^\| networks\s+\| 1\s+\| 0\s+\| 1\s+\|$`, usage)
	_, _, err = c.run("quota", "set", "tenantQ")
	assert.ErrorContains(t, err, "nothing to set")
}

func TestCLIAgentList(t *testing.T) {
	c := cli{t: t, url: startAPI(t)}
	out := c.ok("agent", "list")
	assert.Regexp(t, `(?m)^\| ID\s+\| Agent Type\s+\| Host\s+\|`, out)
}

func TestCLIErrors(t *testing.T) {
	c := cli{t: t, url: startAPI(t)}
	c.ok("network", "create", "n")
	c.ok("subnet", "create", "s", "--network", "n", "--subnet-range", "10.2.0.0/24")
	c.ok("port", "create", "p1", "--network", "n", "--fixed-ip", "ip-address=10.2.0.5")

	_, _, err := c.run("port", "create", "p2", "--network", "n", "--fixed-ip", "ip-address=10.2.0.5")
	require.Error(t, err, "a taken address is a 409")
	assert.Contains(t, err.Error(), "10.2.0.5")

	_, _, err = c.run("network", "show", "nope")
	require.Error(t, err)
	assert.Equal(t, `no network found for "nope"`, err.Error())

	c.ok("network", "create", "twin")
	c.ok("network", "create", "twin")
	_, _, err = c.run("network", "delete", "twin")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than one network")
}

// TestCLIExitCode runs the real binary entry point: the server's message
// on stderr and a non-zero exit status.
func TestCLIExitCode(t *testing.T) {
	url := startAPI(t)
	for _, args := range []string{"network show missing", "network delete missing"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "VLAND_TEST_RUN_MAIN=1", "VLAND_TEST_ARGS="+args+" --os-url "+url)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exitErr *exec.ExitError
		require.ErrorAs(t, err, &exitErr, args)
		assert.NotZero(t, exitErr.ExitCode())
		assert.Contains(t, stderr.String(), `no network found for "missing"`)
	}
}

// TestCLIKeystoneProject logs in with a password and creates a network for
// a project that does not exist yet: the project is created.
func TestCLIKeystoneProject(t *testing.T) {
	url := startAPIMode(t, keystone.ModeKeystone)
	c := cli{t: t, url: url}
	login := []string{"--os-auth-url", url + "/v3", "--os-username", "admin", "--os-password", testAdminPassword,
		"--os-project-name", "admin"}

	_, _, err := c.run("network", "list")
	require.Error(t, err, "no credentials: refused")

	var n map[string]any
	c.json(&n, append([]string{"network", "create", "a-net", "--project", "tenantA"}, login...)...)
	require.NotEmpty(t, n["project_id"])
	assert.NotEqual(t, "tenantA", n["project_id"], "the name was resolved to a Keystone project ID")

	var list []map[string]any
	c.json(&list, append([]string{"network", "list", "--project", "tenantA"}, login...)...)
	require.Len(t, list, 1)
	assert.Equal(t, n["id"], list[0]["id"])

	_, _, err = c.run(append([]string{"network", "list", "--project", "nobody"}, login...)...)
	assert.ErrorContains(t, err, `no project found for "nobody"`, "listing never creates projects")
}

// TestCLIConfigFile uses only the config file, as after `vland lab up`.
func TestCLIConfigFile(t *testing.T) {
	url := startAPIMode(t, keystone.ModeKeystone)
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, client.SaveConfig(path, client.Config{URL: url, AuthURL: url + "/v3",
		AuthType: client.AuthPassword, Username: "admin", Password: testAdminPassword, ProjectName: "admin"}))
	t.Setenv("VLAND_CONFIG", path)
	c := cli{t: t}
	c.ok("network", "create", "from-file")
	assert.Contains(t, c.ok("network", "list"), "| from-file |")

	t.Setenv("OS_PASSWORD", "wrong")
	_, _, err := c.run("network", "list")
	assert.ErrorContains(t, err, "requires authentication", "the environment overrides the file")
}
