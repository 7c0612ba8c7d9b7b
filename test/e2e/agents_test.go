package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
)

// TestAgentLiveness: GET /v2.0/agents lists one alive Open vSwitch agent
// per host with its tunnel configuration (hosts with service roles have
// more rows: DHCP agent, ...); a crashed agent shows dead within
// seconds (its lease expires) and alive again once restarted.
func TestAgentLiveness(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	l := sharedLab(t)
	c := adminClient(t)
	agents, err := c.ListAgents(ctx, nil)
	require.NoError(t, err)
	byHost := map[string]api.Agent{}
	for _, a := range agents {
		if a.AgentType == api.AgentTypeOVS {
			byHost[a.Host] = a
		}
	}
	require.Len(t, byHost, numHosts, "agents: %+v", agents)
	for i := 1; i <= numHosts; i++ {
		a := byHost[fmt.Sprintf("host%d", i)]
		require.True(t, a.Alive, "host%d agent: %+v", i, a)
		require.ElementsMatch(t, []string{"vxlan", "gre"}, a.Configurations.TunnelTypes, "host%d", i)
		require.Equal(t, underlayIP(t, i).String(), a.Configurations.LocalIP, "host%d", i)
	}

	const host = numHosts
	id := byHost[fmt.Sprintf("host%d", host)].ID
	// Whatever happens, leave the agent running for the other tests.
	t.Cleanup(func() { restoreAgent(t, l, host) })
	start := time.Now()
	require.NoError(t, l.KillAgent(host))
	waitAlive(t, ctx, c, id, false, 10*time.Second)
	t.Logf("FIGURE: killed agent shown dead after %v", time.Since(start).Round(10*time.Millisecond))

	start = time.Now()
	require.NoError(t, l.StartAgent(host))
	waitAlive(t, ctx, c, id, true, 10*time.Second)
	t.Logf("FIGURE: started agent shown alive after %v", time.Since(start).Round(10*time.Millisecond))
}

// waitAlive waits until the agent's alive flag is want.
func waitAlive(t *testing.T, ctx context.Context, c *client.Client, id string, want bool, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last api.Agent
	for time.Now().Before(deadline) {
		a, err := c.GetAgent(ctx, id)
		require.NoError(t, err)
		if a.Alive == want {
			return
		}
		last = a
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("agent %s (%s) alive=%v after %v, want %v", id, last.Host, last.Alive, within, want)
}

// restoreAgent makes sure host's agent runs and is alive.
func restoreAgent(t *testing.T, l *lab.Lab, host int) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := errors.Join(l.StartAgent(host), l.WaitAgents(ctx)); err != nil {
		t.Errorf("restore agent of host%d: %v", host, err)
	}
}

// TestPortStatus: a port created through the API and plugged on a host
// becomes ACTIVE with its binding; once the VM is gone the port is gone too,
// and a port whose device is unplugged while the port stays goes DOWN.
func TestPortStatus(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	l := sharedLab(t)
	c := adminClient(t)
	n, _ := makeNetwork(t, ctx, netSpec{Name: "status-net", Project: "status", CIDR: "10.4.0.0/24"})
	vms := createVMs(t, ctx,
		vmSpec{Name: "st-1", Network: n, Host: 2, IP: "10.4.0.11", Project: "status"},
		vmSpec{Name: "st-2", Network: n, Host: 3, IP: "10.4.0.12", Project: "status"})
	for i, vm := range vms {
		p, err := c.GetPort(ctx, vm.PortID)
		require.NoError(t, err)
		require.Equal(t, api.StatusActive, p.Status)
		require.Equal(t, fmt.Sprintf("host%d", i+2), p.BindingHostID)
		require.Equal(t, "ovs", p.BindingVIFType)
	}

	// Unplug st-1 from br-int, as a VM that shuts down: its port goes DOWN.
	st1 := vms[0]
	start := time.Now()
	hostExec(t, ctx, 2, "ovs-vsctl", "del-port", "br-int", st1.Tap)
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, err := c.WaitPortStatus(wctx, st1.PortID, api.StatusDown, 100*time.Millisecond)
	require.NoError(t, err)
	t.Logf("FIGURE: unplugged port DOWN after %v", time.Since(start).Round(10*time.Millisecond))

	// Delete st-2 (unplug and delete its port, as Nova does): gone.
	require.NoError(t, l.DeleteVM(ctx, vms[1].Name))
	_, err = c.GetPort(ctx, vms[1].PortID)
	require.ErrorIs(t, err, client.ErrNotFound)
}
