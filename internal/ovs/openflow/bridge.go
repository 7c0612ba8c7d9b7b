package openflow

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Bridge applies desired flow sets to one bridge for one owner. It keeps
// the set it last applied and sends only differences, each change set as
// one atomic bundle (one ovs-ofctl exec). Safe for concurrent use; calls
// are serialized.
//
// Desired flows must not carry idle or hard timeouts that let them expire
// (Lost would report them as lost); learned and temporary flows belong to
// other owners.
type Bridge struct {
	of    Ofctl
	name  string
	owner uint16

	mu     sync.Mutex
	round  uint16
	synced bool             // a Sync succeeded with round
	last   map[flowKey]Flow // believed installed, full cookies
	// spare is the set replaced by the last commit (or not committed),
	// emptied and filled again by the next index: a set of thousands of
	// flows is not allocated anew at every Apply.
	spare map[flowKey]Flow
	stats Stats
}

// Stats counts what a Bridge sent to OVS.
type Stats struct {
	Bundles int // ovs-ofctl --bundle execs
	Adds    int // add lines
	Deletes int // delete_strict and delete lines
}

// unknownActions marks a flow whose installed state is unknown after a
// failed exec: it differs from any real action text, so the next diff
// re-adds the flow if still desired and deletes it otherwise.
const unknownActions = "\x00unknown"

// NewBridge returns an applier for bridge name and owner. Call Sync first.
func NewBridge(of Ofctl, name string, owner uint16) *Bridge {
	return &Bridge{of: of, name: name, owner: owner, last: map[flowKey]Flow{}}
}

// Name returns the bridge name.
func (b *Bridge) Name() string { return b.name }

// Round returns the round of the last Sync.
func (b *Bridge) Round() uint16 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.round
}

// Cookie returns the full cookie this Bridge gives flows with feature bits.
func (b *Bridge) Cookie(feature uint32) Cookie {
	b.mu.Lock()
	defer b.mu.Unlock()
	return NewCookie(b.owner, b.round, feature)
}

// Stats returns counters of what was sent so far.
func (b *Bridge) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// Apply makes the bridge's flows of this owner equal to desired, sending
// only the difference from the last applied set in one bundle (no exec when
// nothing changed). On error nothing is assumed applied and the next Apply
// retries. Until a Sync succeeds, Apply performs a Sync with the last
// requested round (0 for a new Bridge); call Sync at start.
func (b *Bridge) Apply(ctx context.Context, desired []Flow) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.synced {
		return b.sync(ctx, desired, b.round)
	}
	want, err := b.index(desired, b.round)
	if err != nil {
		return err
	}
	// Only the changed keys are sorted: sorting both whole sets at every
	// Apply was a good part of a busy agent's allocation.
	var gone, changed []flowKey
	for k := range b.last {
		if _, ok := want[k]; !ok {
			gone = append(gone, k)
		}
	}
	for k, f := range want {
		if old, ok := b.last[k]; !ok || old != f {
			changed = append(changed, k)
		}
	}
	var dels, adds []string
	for _, k := range sortKeys(gone) {
		dels = append(dels, "delete_strict "+k.strictSpec(b.last[k].Cookie))
	}
	for _, k := range sortKeys(changed) {
		adds = append(adds, want[k].addLine())
	}
	return b.commit(ctx, want, dels, adds, nil)
}

// Sync installs desired as generation round and removes every other flow
// of this owner: flows of other rounds (a previous process's) and flows of
// this round no longer desired. Unchanged flows are overwritten in place by
// `add`, so they never disappear. One bundle. The caller bumps and persists
// round at every process start (e.g. in the bridge's external_ids) and
// calls Sync again with the same round when Lost reports lost flows.
func (b *Bridge) Sync(ctx context.Context, desired []Flow, round uint16) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sync(ctx, desired, round)
}

func (b *Bridge) sync(ctx context.Context, desired []Flow, round uint16) error {
	want, err := b.index(desired, round)
	if err != nil {
		return err
	}
	stale, err := b.staleRounds(ctx, round)
	if err != nil {
		return err
	}
	var dels, adds, drops []string
	for _, k := range sortedKeys(b.last) {
		if _, ok := want[k]; !ok && Cookie(b.last[k].Cookie).Round() == round {
			dels = append(dels, "delete_strict "+k.strictSpec(b.last[k].Cookie))
		}
	}
	for _, k := range sortedKeys(want) {
		adds = append(adds, want[k].addLine())
	}
	for _, r := range stale {
		drops = append(drops, fmt.Sprintf("delete cookie=%#x/%#x", uint64(NewCookie(b.owner, r, 0)), OwnerMask|RoundMask))
	}
	b.round = round
	if err := b.commit(ctx, want, dels, adds, drops); err != nil {
		b.synced = false
		return err
	}
	b.synced = true
	return nil
}

// staleRounds lists the rounds other than round of this owner's installed
// flows.
func (b *Bridge) staleRounds(ctx context.Context, round uint16) ([]uint16, error) {
	flows, err := b.of.DumpFlows(ctx, b.name, fmt.Sprintf("cookie=%#x/%#x", uint64(NewCookie(b.owner, 0, 0)), OwnerMask))
	if err != nil {
		return nil, err
	}
	seen := map[uint16]bool{}
	for _, f := range flows {
		if c, ok := FlowCookie(f); ok && Cookie(c).Round() != round {
			seen[Cookie(c).Round()] = true
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// commit sends deletes, then adds, then round-wide deletes, as one bundle
// and records the outcome.
func (b *Bridge) commit(ctx context.Context, want map[flowKey]Flow, dels, adds, drops []string) error {
	lines := slices.Concat(dels, adds, drops)
	if len(lines) == 0 {
		b.spare = want
		return nil
	}
	b.stats.Bundles++
	if err := b.of.Bundle(ctx, b.name, lines); err != nil {
		b.markUnknown(want)
		b.spare = want
		return err
	}
	b.stats.Adds += len(adds)
	b.stats.Deletes += len(dels) + len(drops)
	b.last, b.spare = want, b.last
	return nil
}

// markUnknown keeps every key of the old and attempted sets with unknown
// actions, so the next diff converges whatever the failed exec did.
func (b *Bridge) markUnknown(want map[flowKey]Flow) {
	for k, f := range want {
		if old, ok := b.last[k]; !ok || old != f {
			f.Actions = unknownActions
			b.last[k] = f
		}
	}
	for k, f := range b.last {
		if _, ok := want[k]; !ok {
			f.Actions = unknownActions
			b.last[k] = f
		}
	}
}

// index validates desired and keys it, stamping owner and round.
func (b *Bridge) index(desired []Flow, round uint16) (map[flowKey]Flow, error) {
	want := b.spare
	b.spare = nil
	if want == nil {
		want = make(map[flowKey]Flow, len(desired))
	}
	clear(want)
	for _, f := range desired {
		if f.Cookie&^FeatureMask != 0 {
			return nil, fmt.Errorf("%w: cookie %#x uses owner/round bits: %s", ErrBadFlow, f.Cookie, f)
		}
		if strings.ContainsAny(f.Match, "\n\x00") || strings.ContainsAny(f.Actions, "\n\x00") {
			return nil, fmt.Errorf("%w: control characters in %q", ErrBadFlow, f.String())
		}
		f.Cookie = uint64(NewCookie(b.owner, round, uint32(f.Cookie)))
		k := f.key()
		if old, dup := want[k]; dup && old != f {
			return nil, fmt.Errorf("%w: two flows with table=%d priority=%d match %q", ErrBadFlow, k.table, k.priority, k.match)
		}
		want[k] = f
	}
	return want, nil
}

// Lost reports whether some flows of the current set are missing from the
// bridge, as after an ovs-vswitchd restart; answer with Sync.
func (b *Bridge) Lost(ctx context.Context) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.last) == 0 {
		return false, nil
	}
	n, err := b.of.CountFlows(ctx, b.name, uint64(NewCookie(b.owner, b.round, 0)), OwnerMask|RoundMask)
	if err != nil {
		return false, err
	}
	return n < len(b.last), nil
}

func sortedKeys(m map[flowKey]Flow) []flowKey {
	return sortKeys(slices.Collect(maps.Keys(m)))
}

func sortKeys(keys []flowKey) []flowKey {
	slices.SortFunc(keys, func(a, b flowKey) int {
		if a.table != b.table {
			return int(a.table) - int(b.table)
		}
		if a.priority != b.priority {
			return int(b.priority) - int(a.priority)
		}
		return strings.Compare(a.match, b.match)
	})
	return keys
}
