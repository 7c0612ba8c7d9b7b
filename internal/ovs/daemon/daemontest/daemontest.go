// Package daemontest starts a throwaway Open vSwitch for tests: a fresh
// named namespace, a short directory under /tmp, and cleanup of all of it
// (daemons, taps, namespace, directory) when the test ends, even on failure.
package daemontest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/vland/vland/internal/ovs/daemon"
	"github.com/vland/vland/internal/testutil"
)

// Start returns a running OVS in a new namespace named "<prefix>-ovs". It
// calls testutil.RequireOVS first.
func Start(t testing.TB) *daemon.OVS {
	t.Helper()
	testutil.RequireOVS(t)
	p := testutil.Prefix()
	ns := p + "-ovs"
	dir := "/tmp/" + p
	NetNS(t, ns)
	t.Cleanup(func() { os.RemoveAll(dir) })
	o, err := daemon.Start(context.Background(), daemon.Config{Dir: dir, NetNS: ns, DatapathType: "netdev"})
	if err != nil {
		t.Fatalf("start ovs: %v", err)
	}
	t.Cleanup(func() {
		if err := o.Stop(); err != nil {
			t.Errorf("stop ovs: %v", err)
		}
	})
	return o
}

// NetNS creates a named namespace and deletes it at cleanup.
func NetNS(t testing.TB, name string) {
	t.Helper()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
}
