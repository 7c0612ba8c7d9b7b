package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/store"
)

// fakeDP is a Dataplane that keeps plugged interfaces in memory and records
// every applied State. Its text form (dump) is what tests compare.
type fakeDP struct {
	mu       sync.Mutex
	ifaces   map[string]hoststate.Interface
	applied  []hoststate.State
	failures int // the next failures Applies fail
	closed   bool
	changes  chan struct{}
	applyCh  chan struct{} // signalled on every Apply
}

func newFakeDP(plugged ...string) *fakeDP {
	f := &fakeDP{ifaces: map[string]hoststate.Interface{}, changes: make(chan struct{}, 1), applyCh: make(chan struct{}, 100)}
	for _, id := range plugged {
		f.ifaces[id] = iface(id)
	}
	return f
}

func (f *fakeDP) Start(context.Context) error { return nil }

func (f *fakeDP) Interfaces(context.Context) ([]hoststate.Interface, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []hoststate.Interface
	for _, id := range slices.Sorted(maps.Keys(f.ifaces)) {
		out = append(out, f.ifaces[id])
	}
	return out, nil
}

func (f *fakeDP) Changes() <-chan struct{} { return f.changes }

func (f *fakeDP) Apply(_ context.Context, s hoststate.State) ([]hoststate.PortResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer func() { f.applyCh <- struct{}{} }()
	f.applied = append(f.applied, s)
	if f.failures > 0 {
		f.failures--
		return nil, errors.New("fake: apply failed")
	}
	var out []hoststate.PortResult
	for _, id := range slices.Sorted(maps.Keys(s.Ports)) {
		out = append(out, hoststate.PortResult{PortID: id, LocalVLAN: 1, Bound: s.Ports[id].AdminStateUp})
	}
	return out, nil
}

func (f *fakeDP) Close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
}

func (f *fakeDP) plug(id string) {
	f.mu.Lock()
	f.ifaces[id] = iface(id)
	f.mu.Unlock()
	f.changed()
}

func (f *fakeDP) unplug(id string) {
	f.mu.Lock()
	delete(f.ifaces, id)
	f.mu.Unlock()
	f.changed()
}

func (f *fakeDP) changed() {
	select {
	case f.changes <- struct{}{}:
	default:
	}
}

func (f *fakeDP) applies() []hoststate.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.applied)
}

// dump is the last applied state as text ("" before the first Apply).
func (f *fakeDP) dump() string {
	a := f.applies()
	if len(a) == 0 {
		return ""
	}
	return dumpState(a[len(a)-1])
}

// dumpState renders the parts of a State the agent decides, one per line.
func dumpState(s hoststate.State) string {
	var b strings.Builder
	for _, id := range slices.Sorted(maps.Keys(s.Networks)) {
		n := s.Networks[id]
		fmt.Fprintf(&b, "net %s %s %d\n", id, n.Type, n.SegmentationID)
	}
	for _, id := range slices.Sorted(maps.Keys(s.Ports)) {
		p := s.Ports[id]
		fmt.Fprintf(&b, "port %s net=%s up=%v\n", id, p.NetworkID, p.AdminStateUp)
	}
	for _, p := range s.Peers {
		fmt.Fprintf(&b, "peer %s %s %v\n", p.Host, p.IP, p.Networks)
	}
	return b.String()
}

// crashStore is a store whose Revoke does nothing, so an agent that stops
// behaves like one that crashed: its lease runs out instead of ending.
type crashStore struct{ store.Store }

func (crashStore) Revoke(context.Context, int64) error { return errors.New("crashed") }
