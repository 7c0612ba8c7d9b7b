package openflow_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vland/vland/internal/ovs/daemon"
	"github.com/vland/vland/internal/ovs/daemon/daemontest"
	"github.com/vland/vland/internal/ovs/openflow"
)

const (
	owner      = 0x0001
	learnOwner = 0x00aa
)

// setup starts OVS with bridge br0 (netdev, secure) and internal port p1
// at ofport 1.
func setup(t *testing.T) (*daemon.OVS, openflow.Ofctl, context.Context) {
	t.Helper()
	o := daemontest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if _, err := o.Vsctl(ctx, "add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=netdev", "fail_mode=secure",
		"--", "add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=internal", "ofport_request=1"); err != nil {
		t.Fatal(err)
	}
	return o, openflow.Ofctl{Target: o.BridgeTarget, Run: o.OfctlInput}, ctx
}

func flow(table uint8, prio uint16, m *openflow.MatchBuilder, a *openflow.ActionsBuilder) openflow.Flow {
	return openflow.Flow{Table: table, Priority: prio, Match: m.String(), Actions: a.String()}
}

// flows dumps br0 as sorted "table prio match -> actions @round" lines,
// dropping statistics so states compare as text.
func flows(t *testing.T, of openflow.Ofctl, ctx context.Context, filter string) string {
	t.Helper()
	lines, err := of.DumpFlows(ctx, "br0", filter)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range lines {
		c, _ := openflow.FlowCookie(l)
		var keep []string
		for _, f := range strings.Split(l, ", ") {
			if !strings.HasPrefix(f, "cookie=") && !strings.HasPrefix(f, "duration=") && !strings.HasPrefix(f, "n_") &&
				!strings.HasPrefix(f, "idle_age=") && !strings.HasPrefix(f, "hard_age=") {
				keep = append(keep, f)
			}
		}
		ck := openflow.Cookie(c)
		out = append(out, fmt.Sprintf("%s owner=%#x round=%d", strings.Join(keep, " "), ck.Owner(), ck.Round()))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func baseSet() []openflow.Flow {
	return []openflow.Flow{
		flow(0, 10, openflow.Match().InPort(1), openflow.Actions().Resubmit(10)),
		flow(0, 0, openflow.Match(), openflow.Actions().Drop()),
		flow(10, 5, openflow.Match().ARP(), openflow.Actions().Normal()),
	}
}

func TestApplyDiff(t *testing.T) {
	_, of, ctx := setup(t)
	// A flow of someone else must survive everything below.
	if err := of.Bundle(ctx, "br0", []string{"add table=30,priority=1,cookie=0x00bb000000000000,actions=drop"}); err != nil {
		t.Fatal(err)
	}
	b := openflow.NewBridge(of, "br0", owner)
	if err := b.Sync(ctx, baseSet(), 1); err != nil {
		t.Fatal(err)
	}
	want := `table=0 priority=0 actions=drop owner=0x1 round=1
table=0 priority=10,in_port=1 actions=resubmit(,10) owner=0x1 round=1
table=10 priority=5,arp actions=NORMAL owner=0x1 round=1
table=30 priority=1 actions=drop owner=0xbb round=0`
	if got := flows(t, of, ctx, ""); got != want {
		t.Fatalf("after sync:\n%s\nwant:\n%s", got, want)
	}
	// Same set again: no exec at all.
	if err := b.Apply(ctx, baseSet()); err != nil {
		t.Fatal(err)
	}
	if s := b.Stats(); s.Bundles != 1 || s.Adds != 3 || s.Deletes != 0 {
		t.Fatalf("stats after no-op apply: %+v", s)
	}
	// Change one action, drop one flow, add one, written in another field order.
	next := []openflow.Flow{
		flow(0, 10, openflow.Match().InPort(1), openflow.Actions().Resubmit(20)),
		flow(10, 5, openflow.Match().ARP(), openflow.Actions().Normal()),
		flow(20, 7, openflow.Match().ARP().InPort(1), openflow.Actions().Output(1)),
	}
	if err := b.Apply(ctx, next); err != nil {
		t.Fatal(err)
	}
	if s := b.Stats(); s.Bundles != 2 || s.Adds != 5 || s.Deletes != 1 {
		t.Fatalf("stats after diff: %+v (want 2 bundles, 2 more adds, 1 delete)", s)
	}
	want = `table=0 priority=10,in_port=1 actions=resubmit(,20) owner=0x1 round=1
table=10 priority=5,arp actions=NORMAL owner=0x1 round=1
table=20 priority=7,arp,in_port=1 actions=output:1 owner=0x1 round=1
table=30 priority=1 actions=drop owner=0xbb round=0`
	if got := flows(t, of, ctx, ""); got != want {
		t.Fatalf("after diff:\n%s\nwant:\n%s", got, want)
	}
	// Empty desired set removes all our flows, nothing else.
	if err := b.Apply(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := flows(t, of, ctx, ""); got != "table=30 priority=1 actions=drop owner=0xbb round=0" {
		t.Fatalf("after clear:\n%s", got)
	}
}

func TestBadFlowRejectsWholeBundle(t *testing.T) {
	_, of, ctx := setup(t)
	b := openflow.NewBridge(of, "br0", owner)
	if err := b.Sync(ctx, baseSet(), 1); err != nil {
		t.Fatal(err)
	}
	before := flows(t, of, ctx, "")
	bad := append(baseSet()[:1],
		flow(5, 1, openflow.Match().InPort(1), openflow.Actions().Output(1)),
		flow(5, 2, openflow.Match().InPort(1), openflow.Actions().Raw("group:123")), // switch rejects: no such group
	)
	err := b.Apply(ctx, bad)
	if !errors.Is(err, openflow.ErrBundle) {
		t.Fatalf("Apply(bad) = %v, want ErrBundle", err)
	}
	if got := flows(t, of, ctx, ""); got != before {
		t.Fatalf("bundle partly applied:\n%s\nwant:\n%s", got, before)
	}
	// The next good Apply converges from the unknown state.
	good := baseSet()[:2]
	if err := b.Apply(ctx, good); err != nil {
		t.Fatal(err)
	}
	want := `table=0 priority=0 actions=drop owner=0x1 round=1
table=0 priority=10,in_port=1 actions=resubmit(,10) owner=0x1 round=1`
	if got := flows(t, of, ctx, ""); got != want {
		t.Fatalf("after recovery:\n%s\nwant:\n%s", got, want)
	}
}

// TestBundleDeleteByOutPort checks the line the dataplane uses to forget
// learned flows of a deleted tunnel port: only flows that output to that
// port go.
func TestBundleDeleteByOutPort(t *testing.T) {
	_, of, ctx := setup(t)
	if err := of.Bundle(ctx, "br0", []string{
		"add table=20,priority=1,dl_dst=fa:16:3e:00:00:01 actions=output:1",
		"add table=20,priority=1,dl_dst=fa:16:3e:00:00:02 actions=output:2",
	}); err != nil {
		t.Fatal(err)
	}
	if err := of.Bundle(ctx, "br0", []string{"delete table=20,out_port=1"}); err != nil {
		t.Fatal(err)
	}
	got := flows(t, of, ctx, "table=20")
	if strings.Contains(got, "fa:16:3e:00:00:01") || !strings.Contains(got, "fa:16:3e:00:00:02") {
		t.Fatalf("after delete out_port=1:\n%s", got)
	}
}
