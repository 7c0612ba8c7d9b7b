package daemon_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vland/vland/internal/ovs/daemon"
	"github.com/vland/vland/internal/ovs/daemon/daemontest"
	"github.com/vland/vland/internal/testutil"
)

func links(t *testing.T, ns string) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", ns, "-o", "link").CombinedOutput()
	if err != nil {
		t.Fatalf("ip link: %v: %s", err, out)
	}
	return string(out)
}

func pidOf(t *testing.T, dir, d string) string {
	t.Helper()
	b, err := os.ReadFile(dir + "/" + d + ".pid")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestStartBridgeRestartStop(t *testing.T) {
	testutil.RequireOVS(t)
	ctx := context.Background()
	p := testutil.Prefix()
	ns, dir := p+"-ovs", "/tmp/"+p
	daemontest.NetNS(t, ns)
	t.Cleanup(func() { os.RemoveAll(dir) })

	o, err := daemon.Start(ctx, daemon.Config{Dir: dir, NetNS: ns, DatapathType: "netdev"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Stop() })
	if _, err := o.Vsctl(ctx, "add-br", "br-x", "--", "set", "Bridge", "br-x", "datapath_type=netdev",
		"--", "add-port", "br-x", "px", "--", "set", "Interface", "px", "type=internal"); err != nil {
		t.Fatal(err)
	}
	if l := links(t, ns); !strings.Contains(l, "br-x") || !strings.Contains(l, "px") || !strings.Contains(l, "ovs-netdev") {
		t.Fatalf("taps not in netns:\n%s", l)
	}
	if _, err := o.Ofctl(ctx, "add-flow", "br-x", "priority=5,actions=drop"); err != nil {
		t.Fatal(err)
	}
	// Attach from "another process" sees the same instance.
	a, err := daemon.Attach(dir, ns)
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.Ofctl(ctx, "dump-flows", "br-x")
	if err != nil || !strings.Contains(out, "priority=5") {
		t.Fatalf("dump-flows via Attach: %v\n%s", err, out)
	}

	oldPID := pidOf(t, dir, "ovs-vswitchd")
	if err := o.RestartVswitchd(ctx); err != nil {
		t.Fatal(err)
	}
	if pidOf(t, dir, "ovs-vswitchd") == oldPID {
		t.Fatal("vswitchd pid unchanged after restart")
	}
	out, err = o.Ofctl(ctx, "dump-flows", "br-x")
	if err != nil || strings.Contains(out, "priority=5") {
		t.Fatalf("flows should be gone after restart: %v\n%s", err, out)
	}
	pids := []string{pidOf(t, dir, "ovs-vswitchd"), pidOf(t, dir, "ovsdb-server")}

	if err := o.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if _, err := os.Stat("/proc/" + pid + "/cmdline"); err == nil {
			b, _ := os.ReadFile("/proc/" + pid + "/stat")
			if !strings.Contains(string(b), ") Z") {
				t.Errorf("process %s still alive: %s", pid, b)
			}
		}
	}
	if l := links(t, ns); strings.Contains(l, "br-x") || strings.Contains(l, "px") || strings.Contains(l, "ovs-netdev") {
		t.Fatalf("links left after Stop:\n%s", l)
	}
	if _, err := daemon.Attach(dir, ns); err == nil {
		t.Fatal("Attach after Stop succeeded")
	}
	if err := o.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestBadConfig(t *testing.T) {
	if _, err := daemon.Start(context.Background(), daemon.Config{Dir: "rel"}); err == nil {
		t.Fatal("relative dir accepted")
	}
	if _, err := daemon.Start(context.Background(), daemon.Config{Dir: "/" + strings.Repeat("x", 100)}); err == nil {
		t.Fatal("long dir accepted")
	}
}
