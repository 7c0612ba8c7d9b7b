// Package e2e_test runs vland's end-to-end scenarios on real Open vSwitch:
// one lab of three hosts (network namespaces, each with its own netdev
// ovs-vswitchd and agent, an underlay switch between them, the server and
// etcd on 127.0.0.1) is built once for the whole package by TestMain. Every
// test makes its own projects, networks and VMs, and deletes its VMs at the
// end, so tests are independent of each other and of their order.
//
// Figures worth collecting (convergence times, lost pings) are logged with
// the prefix "FIGURE:".
package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/lab/labtest"
)

// numHosts is the size of the shared lab.
const numHosts = 3

// tunnelPorts is the agents' --tunnel-ports, from VLAND_E2E_TUNNEL_PORTS
// (the agent's default, flow, when empty): run the package once per mode.
var tunnelPorts = os.Getenv("VLAND_E2E_TUNNEL_PORTS")

// flowTunnels reports whether the lab's agents use flow-based tunnel ports.
func flowTunnels() bool { return tunnelPorts != "per-peer" }

// shared is the package's lab, brought up and torn down by TestMain.
// host1 is the network node (roles compute, dhcp, l3, metadata), the only
// DHCP host; leases are dnsmasq's shortest, 2 min, so a test sees a
// renewal within a minute.
var shared = labtest.NewShared(lab.Config{Hosts: numHosts, Members: rbacMembers, AgentArgs: agentArgs()})

func agentArgs() []string {
	args := []string{"--dhcp-lease-duration=2m"}
	if tunnelPorts != "" {
		args = append(args, "--tunnel-ports="+tunnelPorts)
	}
	return args
}

func TestMain(m *testing.M) { labtest.MainShared(m, shared, leftovers) }

// sharedLab returns the package's lab, failing the test if it is not up.
func sharedLab(t *testing.T) *lab.Lab {
	t.Helper()
	return shared.Lab(t)
}

// adminClient is the lab's admin API client.
func adminClient(t *testing.T) *client.Client {
	return sharedLab(t).Client()
}

// leftovers reports what the tests left in the shared lab although each
// deletes its VMs: VM records, and br-int ports other than the bridge's
// own and patch-tun on any host (a stale port would mean a VM's unplug
// failed, or something plugged it again). DHCP ports go asynchronously
// after their network (about 0.3 s): ports get a few seconds to go.
func leftovers(l *lab.Lab) error {
	start := time.Now()
	deadline := start.Add(5 * time.Second)
	for {
		err := leftoversNow(l)
		if err == nil || time.Now().After(deadline) {
			if waited := time.Since(start); waited > time.Second/2 {
				fmt.Fprintf(os.Stderr, "FIGURE: br-int ports of deleted networks gone after %v\n", waited.Round(10*time.Millisecond))
			}
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func leftoversNow(l *lab.Lab) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	if vms, err := l.VMs(); err != nil || len(vms) > 0 {
		errs = append(errs, fmt.Errorf("VMs left: %v %v", vms, err))
	}
	for i := 1; i <= l.NumHosts(); i++ {
		out, err := l.HostExec(ctx, i, "ovs-vsctl", "list-ports", "br-int")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, p := range strings.Fields(string(out)) {
			if p != "patch-tun" {
				show, _ := l.HostExec(ctx, i, "ovs-vsctl", "show")
				errs = append(errs, fmt.Errorf("host%d: port %s left on br-int:\n%s", i, p, show))
			}
		}
	}
	return errors.Join(errs...)
}
