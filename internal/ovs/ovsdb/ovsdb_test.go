package ovsdb_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vland/vland/internal/ovs/daemon"
	"github.com/vland/vland/internal/ovs/daemon/daemontest"
	"github.com/vland/vland/internal/ovs/ovsdb"
)

func setup(t *testing.T) (*daemon.OVS, *ovsdb.Client, context.Context) {
	t.Helper()
	o := daemontest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	c, err := ovsdb.Connect(ctx, o.DBSock(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return o, c, ctx
}

func vsctl(t *testing.T, o *daemon.OVS, args ...string) string {
	t.Helper()
	out, err := o.Vsctl(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

var owner = map[string]string{"vland-owner": "test"}

func TestBridgeLifecycle(t *testing.T) {
	o, c, ctx := setup(t)
	opts := ovsdb.BridgeOptions{DatapathType: "netdev", FailMode: "secure", ExternalIDs: owner,
		Protocols: []string{"OpenFlow10", "OpenFlow13", "OpenFlow15"}}
	for i := 0; i < 2; i++ { // second call is a no-op
		if err := c.EnsureBridge(ctx, "br-a", opts); err != nil {
			t.Fatal(err)
		}
	}
	if got := vsctl(t, o, "get", "Bridge", "br-a", "datapath_type", "fail_mode", "external_ids:vland-owner"); got != "netdev\nsecure\ntest" {
		t.Fatalf("bridge columns: %q", got)
	}
	if err := c.SetBridgeExternalIDs(ctx, "br-a", map[string]string{"vland-round": "7"}); err != nil {
		t.Fatal(err)
	}
	info, err := c.GetBridge(ctx, "br-a")
	if err != nil || info.ExternalIDs["vland-round"] != "7" || info.ExternalIDs["vland-owner"] != "test" || info.FailMode != "secure" {
		t.Fatalf("GetBridge = %+v, %v", info, err)
	}
	ports, err := c.ListPorts(ctx, "br-a")
	if err != nil || len(ports) != 1 || ports[0].Name != "br-a" || ports[0].Type != "internal" {
		t.Fatalf("local port: %+v %v", ports, err)
	}
	if err := c.DeleteBridge(ctx, "br-a"); err != nil {
		t.Fatal(err)
	}
	if got := vsctl(t, o, "list-br"); got != "" {
		t.Fatalf("bridges left: %q", got)
	}
	if err := c.DeleteBridge(ctx, "br-a"); err != nil {
		t.Fatalf("delete missing bridge: %v", err)
	}
	if _, err := c.GetBridge(ctx, "br-a"); !errors.Is(err, ovsdb.ErrNotFound) {
		t.Fatalf("GetBridge after delete: %v", err)
	}
}

func mkBridges(t *testing.T, c *ovsdb.Client, ctx context.Context, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := c.EnsureBridge(ctx, n, ovsdb.BridgeOptions{DatapathType: "netdev", FailMode: "secure", ExternalIDs: owner}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPorts(t *testing.T) {
	o, c, ctx := setup(t)
	mkBridges(t, c, ctx, "br-int", "br-tun")
	tag := 5
	spec := ovsdb.PortSpec{Type: "internal", Tag: &tag, ExternalIDs: owner,
		IfaceExternalIDs: map[string]string{"iface-id": "p1"}, MAC: "fa:16:3e:00:00:01"}
	if err := c.EnsurePort(ctx, "br-int", "tap1", spec); err != nil {
		t.Fatal(err)
	}
	ofp, err := c.WaitOFPort(ctx, "tap1")
	if err != nil || ofp <= 0 {
		t.Fatalf("ofport %d %v", ofp, err)
	}
	if got := vsctl(t, o, "get", "Port", "tap1", "tag"); got != "5" {
		t.Fatalf("tag %q", got)
	}
	if got := vsctl(t, o, "get", "Interface", "tap1", "ofport", "external_ids:iface-id", "mac_in_use"); got != strings.Join([]string{itoa(ofp), "p1", `"fa:16:3e:00:00:01"`}, "\n") {
		t.Fatalf("interface: %q", got)
	}

	// Patch pair across bridges.
	patch := func(br, name, peer string) {
		if err := c.EnsurePort(ctx, br, name, ovsdb.PortSpec{Type: "patch", Options: map[string]string{"peer": peer}, ExternalIDs: owner}); err != nil {
			t.Fatal(err)
		}
	}
	patch("br-int", "patch-tun", "patch-int")
	patch("br-tun", "patch-int", "patch-tun")
	for _, p := range []string{"patch-tun", "patch-int"} {
		if _, err := c.WaitOFPort(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// Fix drift: someone changed options and tag behind our back.
	// EnsurePort compares with the client's cache, which sees the drift a
	// moment after ovs-vsctl returns (the agent's next reconcile would run
	// then): ensure again until the cache has caught up.
	vsctl(t, o, "set", "Interface", "patch-tun", "options:peer=bogus")
	var got string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		patch("br-int", "patch-tun", "patch-int")
		if got = vsctl(t, o, "get", "Interface", "patch-tun", "options:peer"); got == "patch-int" || time.Now().After(deadline) {
			break
		}
	}
	if got != "patch-int" {
		t.Fatalf("peer not fixed: %q", got)
	}

	if err := c.SetPortTag(ctx, "tap1", 9); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPortOtherConfig(ctx, "tap1", map[string]string{"net_uuid": "n1"}); err != nil {
		t.Fatal(err)
	}
	p, err := c.GetPort(ctx, "tap1")
	if err != nil || p.Tag == nil || *p.Tag != 9 || p.OtherConfig["net_uuid"] != "n1" || p.Bridge != "br-int" || p.ExternalIDs["vland-owner"] != "test" {
		t.Fatalf("GetPort = %+v %v", p, err)
	}
	if err := c.SetPortTag(ctx, "tap1", -1); err != nil {
		t.Fatal(err)
	}
	if got := vsctl(t, o, "get", "Port", "tap1", "tag"); got != "[]" {
		t.Fatalf("tag not cleared: %q", got)
	}

	// Move tap1 to br-tun.
	if err := c.EnsurePort(ctx, "br-tun", "tap1", spec); err != nil {
		t.Fatal(err)
	}
	if got := vsctl(t, o, "port-to-br", "tap1"); got != "br-tun" {
		t.Fatalf("not moved: %q", got)
	}
	ports, err := c.ListPorts(ctx, "br-int")
	if err != nil || names(ports) != "br-int,patch-tun" {
		t.Fatalf("br-int ports %q %v", names(ports), err)
	}
	all, _ := c.ListPorts(ctx, "")
	if names(all) != "br-int,br-tun,patch-int,patch-tun,tap1" {
		t.Fatalf("all ports %q", names(all))
	}

	if err := c.DeletePort(ctx, "br-int", "tap1"); !errors.Is(err, ovsdb.ErrNotFound) {
		t.Fatalf("delete on wrong bridge: %v", err)
	}
	if err := c.DeletePort(ctx, "", "tap1"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeletePort(ctx, "", "tap1"); err != nil {
		t.Fatalf("delete missing port: %v", err)
	}
	if got := vsctl(t, o, "list-ports", "br-tun"); got != "patch-int" {
		t.Fatalf("br-tun ports %q", got)
	}
}

func TestBadIfaceReportsError(t *testing.T) {
	_, c, ctx := setup(t)
	mkBridges(t, c, ctx, "br-x")
	// A system port whose device does not exist gets ofport -1 and an error.
	if err := c.EnsurePort(ctx, "br-x", "nosuchdev0", ovsdb.PortSpec{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitOFPort(ctx, "nosuchdev0"); !errors.Is(err, ovsdb.ErrIface) {
		t.Fatalf("WaitOFPort = %v, want ErrIface", err)
	}
}

func names(ps []ovsdb.PortInfo) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Name)
	}
	return strings.Join(s, ",")
}
