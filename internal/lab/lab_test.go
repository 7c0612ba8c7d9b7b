package lab_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/lab/labtest"
)

func TestMain(m *testing.M) { labtest.Main(m) }

// TestUpVMDown brings a 2-host lab up, checks the underlay, agents and a
// VM's plumbing, then takes it down and checks nothing is left.
func TestUpVMDown(t *testing.T) {
	before := labtest.Snapshot(t)
	l := labtest.Up(t, lab.Config{Hosts: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Underlay: host1 reaches host2's underlay IP, inside the namespaces.
	h2, err := l.HostInfo(2)
	require.NoError(t, err)
	out, err := l.HostExec(ctx, 1, "ping", "-c2", "-i0.2", "-W2", h2.UnderlayIP.Addr().String())
	require.NoError(t, err, string(out))

	// Agents are alive for both hosts, host1 is the network node.
	agents, err := l.Client().ListAgents(ctx, nil)
	require.NoError(t, err)
	alive := map[string]bool{}
	for _, a := range agents {
		alive[a.Host] = a.Alive
	}
	require.True(t, alive["host1"] && alive["host2"], "agents: %+v", agents)
	requireAgentBinary(t, l)

	// Load from another "process" sees the same lab.
	l2, err := lab.Load(l.Name(), l.Dir())
	require.NoError(t, err)
	require.Equal(t, l.APIURL(), l2.APIURL())

	net, sub := makeNetwork(t, ctx, l.Client(), "net1", "10.1.0.0/24")
	vm, err := l2.CreateVM(ctx, lab.VMSpec{Name: "vm1", Network: net.Name, Host: "host2", IP: "10.1.0.11", Project: "projecta"})
	require.NoError(t, err)
	require.False(t, vm.DHCP, "a VM with an IP has it set directly")
	requireVMPlumbing(t, ctx, l, vm, net, sub)

	vms, err := l.VMs()
	require.NoError(t, err)
	require.Len(t, vms, 1)
	_, err = l.CreateVM(ctx, lab.VMSpec{Name: "vm1", Network: net.Name})
	require.ErrorIs(t, err, lab.ErrExists)

	// Exec runs inside the VM and propagates failure.
	out, err = l.Exec(ctx, "vm1", "ip", "-o", "addr", "show", "eth0")
	require.NoError(t, err)
	require.Contains(t, string(out), "10.1.0.11/24")
	_, err = l.Exec(ctx, "vm1", "false")
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)

	require.NoError(t, l.DeleteVM(ctx, "vm1"))
	_, err = l.Client().GetPort(ctx, vm.PortID)
	require.ErrorIs(t, err, client.ErrNotFound)
	ports, err := l.HostExec(ctx, 2, "ovs-vsctl", "list-ports", "br-int")
	require.NoError(t, err)
	require.NotContains(t, string(ports), vm.Tap)

	require.NoError(t, l.Down(ctx))
	labtest.RequireClean(t, before, l.Name(), l.Dir())
}

// requireVMPlumbing checks the VM namespace and the OVS port as a real VM
// would have them.
func requireVMPlumbing(t *testing.T, ctx context.Context, l *lab.Lab, vm *lab.VM, net api.Network, sub api.Subnet) {
	t.Helper()
	port, err := l.Client().GetPort(ctx, vm.PortID)
	require.NoError(t, err)
	require.Equal(t, "host2", port.BindingHostID)
	require.Equal(t, "compute:nova", port.DeviceOwner)
	require.Equal(t, vm.UUID, port.DeviceID)
	require.Equal(t, "10.1.0.11", port.FixedIPs[0].IPAddress)
	require.NotEqual(t, "", port.ProjectID)

	out, err := l.Exec(ctx, vm.Name, "ip", "-j", "addr", "show", "eth0")
	require.NoError(t, err)
	var ifs []struct {
		MTU      int    `json:"mtu"`
		Address  string `json:"address"`
		OperUp   string `json:"operstate"`
		AddrInfo []struct {
			Family    string `json:"family"`
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	require.NoError(t, json.Unmarshal(out, &ifs), string(out))
	require.Len(t, ifs, 1)
	require.Equal(t, port.MACAddress, ifs[0].Address)
	require.Equal(t, net.MTU, ifs[0].MTU)
	require.NotZero(t, net.MTU)
	var v4 []string
	for _, a := range ifs[0].AddrInfo {
		if a.Family == "inet" {
			v4 = append(v4, a.Local+"/"+strconv.Itoa(a.PrefixLen))
		}
	}
	require.Equal(t, []string{"10.1.0.11/24"}, v4)
	routes, err := l.Exec(ctx, vm.Name, "ip", "route", "show", "default")
	require.NoError(t, err)
	require.Contains(t, string(routes), "via "+*sub.GatewayIP)
	off, err := l.Exec(ctx, vm.Name, "ethtool", "-k", "eth0")
	require.NoError(t, err)
	require.Contains(t, string(off), "tx-checksumming: off")

	ext, err := l.HostExec(ctx, 2, "ovs-vsctl", "get", "Interface", vm.Tap, "external_ids")
	require.NoError(t, err)
	for _, kv := range []string{`iface-id="` + port.ID + `"`, `attached-mac="` + port.MACAddress + `"`,
		`iface-status=active`, `vm-uuid="` + vm.UUID + `"`} {
		require.Contains(t, string(ext), kv)
	}
	br, err := l.HostExec(ctx, 2, "ovs-vsctl", "port-to-br", vm.Tap)
	require.NoError(t, err)
	require.Equal(t, "br-int", strings.TrimSpace(string(br)))
}

func makeNetwork(t *testing.T, ctx context.Context, c *client.Client, name, cidr string) (api.Network, api.Subnet) {
	t.Helper()
	net, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: name})
	require.NoError(t, err)
	sub, err := c.CreateSubnet(ctx, client.SubnetCreate{Name: name + "-sub", NetworkID: net.ID, IPVersion: 4, CIDR: cidr})
	require.NoError(t, err)
	require.NotNil(t, sub.GatewayIP)
	net, err = c.GetNetwork(ctx, net.ID)
	require.NoError(t, err)
	return net, sub
}

// TestCrashCleanup kills every process of a lab abruptly, as a crash would,
// and checks Cleanup (what `vland lab down` falls back on without state)
// still removes everything.
func TestCrashCleanup(t *testing.T) {
	before := labtest.Snapshot(t)
	l := labtest.Up(t, lab.Config{Hosts: 1})
	name, dir := l.Name(), l.Dir()
	ns, o, err := l.Host(1)
	require.NoError(t, err)
	require.NotEmpty(t, ns)
	out, _ := exec.Command("pgrep", "-f", dir).Output()
	pids := strings.Fields(string(out))
	require.GreaterOrEqual(t, len(pids), 4, "server, agent, ovsdb-server, ovs-vswitchd: %s", out)
	// Short-lived children (an ovs-vsctl the agent runs) may be gone
	// before the kill: only a pid that still exists must die.
	for _, p := range pids {
		pid, err := strconv.Atoi(p)
		require.NoError(t, err)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("kill -9 %d: %v", pid, err)
		}
	}
	_, err = o.Vsctl(context.Background(), "show")
	require.Error(t, err, "OVS should be dead")

	require.NoError(t, lab.Cleanup(context.Background(), name, dir))
	labtest.RequireClean(t, before, name, dir)
}

// requireAgentBinary checks that host1's agent runs as the vland-agent next
// to the lab's vland binary when there is one, else as vland.
func requireAgentBinary(t *testing.T, l *lab.Lab) {
	t.Helper()
	bin := labtest.Binary(t)
	want := filepath.Join(filepath.Dir(bin), "vland-agent")
	if _, err := os.Stat(want); err != nil {
		want = bin
	}
	exe, err := os.Readlink("/proc/" + strconv.Itoa(l.AgentPid(1)) + "/exe")
	require.NoError(t, err)
	require.Equal(t, want, exe)
}
