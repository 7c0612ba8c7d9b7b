package openflow_test

import (
	"strings"
	"testing"

	"github.com/vland/vland/internal/ovs/openflow"
)

// TestSyncNewRound plays an agent restart: a new process (new Bridge) syncs
// a changed set with the next round. Unchanged flows stay (overwritten in
// place), stale ones go, learned flows of another owner survive.
func TestSyncNewRound(t *testing.T) {
	o, of, ctx := setup(t)
	learn := openflow.Actions().Learn("table=40,cookie=0x00aa000000000001,priority=1,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]").Resubmit(10)
	old := append(baseSet(), flow(0, 20, openflow.Match().InPort(1).DlType(0x88cc), learn),
		flow(11, 1, openflow.Match(), openflow.Actions().Normal())) // stale after restart
	b1 := openflow.NewBridge(of, "br0", owner)
	if err := b1.Sync(ctx, old, 1); err != nil {
		t.Fatal(err)
	}
	// A packet through the learn flow creates a learned flow in table 40.
	if _, err := o.Appctl(ctx, "ovs-vswitchd", "ofproto/trace", "br0",
		"in_port=1,dl_type=0x88cc,dl_src=fa:16:3e:00:00:09,dl_dst=01:80:c2:00:00:0e", "-generate"); err != nil {
		t.Fatal(err)
	}
	if got := flows(t, of, ctx, "table=40"); !strings.Contains(got, "dl_dst=fa:16:3e:00:00:09 actions=output:1 owner=0xaa") {
		t.Fatalf("no learned flow:\n%s", got)
	}

	b2 := openflow.NewBridge(of, "br0", owner) // the restarted agent
	next := append(baseSet(), flow(0, 20, openflow.Match().InPort(1).DlType(0x88cc), learn))
	if err := b2.Sync(ctx, next, 2); err != nil {
		t.Fatal(err)
	}
	want := `table=0 priority=0 actions=drop owner=0x1 round=2
table=0 priority=10,in_port=1 actions=resubmit(,10) owner=0x1 round=2
table=0 priority=20,in_port=1,dl_type=0x88cc actions=learn(table=40,priority=1,cookie=0xaa000000000001,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),resubmit(,10) owner=0x1 round=2
table=10 priority=5,arp actions=NORMAL owner=0x1 round=2
table=40 priority=1,dl_dst=fa:16:3e:00:00:09 actions=output:1 owner=0xaa round=0`
	if got := flows(t, of, ctx, ""); got != want {
		t.Fatalf("after restart sync:\n%s\nwant:\n%s", got, want)
	}
	if s := b2.Stats(); s.Bundles != 1 {
		t.Fatalf("sync took %d bundles, want 1", s.Bundles)
	}
}

// TestLostAfterVswitchdRestart checks the canary and that Sync with the
// same round restores the flows.
func TestLostAfterVswitchdRestart(t *testing.T) {
	o, of, ctx := setup(t)
	b := openflow.NewBridge(of, "br0", owner)
	if err := b.Sync(ctx, baseSet(), 3); err != nil {
		t.Fatal(err)
	}
	if lost, err := b.Lost(ctx); err != nil || lost {
		t.Fatalf("Lost before restart = %v, %v", lost, err)
	}
	want := flows(t, of, ctx, "")
	if err := o.RestartVswitchd(ctx); err != nil {
		t.Fatal(err)
	}
	if lost, err := b.Lost(ctx); err != nil || !lost {
		t.Fatalf("Lost after restart = %v, %v", lost, err)
	}
	if err := b.Sync(ctx, baseSet(), b.Round()); err != nil {
		t.Fatal(err)
	}
	if got := flows(t, of, ctx, ""); got != want {
		t.Fatalf("after resync:\n%s\nwant:\n%s", got, want)
	}
	if lost, err := b.Lost(ctx); err != nil || lost {
		t.Fatalf("Lost after resync = %v, %v", lost, err)
	}
}

// TestSyncHasNoGap re-syncs with new rounds while another goroutine keeps
// checking that an unchanged flow is installed: add-in-place in one bundle
// must never leave a moment without it.
func TestSyncHasNoGap(t *testing.T) {
	_, of, ctx := setup(t)
	b := openflow.NewBridge(of, "br0", owner)
	if err := b.Sync(ctx, baseSet(), 1); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	missing := make(chan string, 1)
	checks := 0
	go func() {
		defer close(missing)
		for {
			select {
			case <-done:
				return
			default:
			}
			lines, err := of.DumpFlows(ctx, "br0", "table=0,in_port=1")
			checks++
			if err != nil || len(lines) != 1 {
				missing <- strings.Join(lines, "\n")
				return
			}
		}
	}()
	for r := uint16(2); r < 22; r++ {
		if err := openflow.NewBridge(of, "br0", owner).Sync(ctx, baseSet(), r); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	if m, ok := <-missing; ok {
		t.Fatalf("flow missing during sync (check %d): %q", checks, m)
	}
	if checks < 5 {
		t.Fatalf("only %d checks ran", checks)
	}
	if got := flows(t, of, ctx, ""); strings.Count(got, "round=21") != 3 || strings.Contains(got, "round=1\n") {
		t.Fatalf("final state:\n%s", got)
	}
}
