package ovsdb_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/vland/vland/internal/ovs/ovsdb"
)

func itoa(i int) string { return strconv.Itoa(i) }

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

func waitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("no change signal after %s", what)
	}
}

func TestChangesOnVswitchdRestart(t *testing.T) {
	o, c, ctx := setup(t)
	mkBridges(t, c, ctx, "br-int")
	if err := c.EnsurePort(ctx, "br-int", "p1", ovsdb.PortSpec{Type: "internal", ExternalIDs: owner}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitOFPort(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	ch := c.Changes()
	drain(ch)
	if err := o.RestartVswitchd(ctx); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, ch, "vswitchd restart")
	if _, err := c.WaitOFPort(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
}

func TestReconnectAfterDBServerRestart(t *testing.T) {
	o, c, ctx := setup(t)
	mkBridges(t, c, ctx, "br-int")
	ch := c.Changes()
	drain(ch)
	if err := o.RestartDBServer(ctx); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, ch, "ovsdb-server restart")
	// Writes work again once reconnected (they block until then).
	if err := c.EnsurePort(ctx, "br-int", "p2", ovsdb.PortSpec{Type: "internal", ExternalIDs: owner}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitOFPort(ctx, "p2"); err != nil {
		t.Fatal(err)
	}
	// A second subscriber gets its own signal.
	ch2 := c.Changes()
	if err := c.SetPortOtherConfig(ctx, "p2", map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, ch2, "other_config change")
}
