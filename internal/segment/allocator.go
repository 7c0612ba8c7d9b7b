package segment

import (
	"context"
	"fmt"
	"sync"

	"github.com/vland/vland/internal/store"
)

// KeyLister is the part of store.Store the allocator reads.
type KeyLister interface {
	ListKeys(ctx context.Context, prefix string) ([]string, int64, error)
}

// Release ends a reservation; committed tells whether the transaction
// holding the segment key succeeded. Extra calls are no-ops.
type Release func(committed bool)

// Allocator reserves segments lowest-ID first without in-process
// collisions; the store's compare-and-create on Segment.Key() decides
// between processes. Safe for concurrent use.
type Allocator struct {
	cfg      Config
	st       KeyLister
	mu       sync.Mutex
	loaded   map[string]bool     // network type -> used keys loaded
	used     map[string]struct{} // allocation keys known to exist
	inflight map[string]struct{} // keys reserved, not yet released
}

// NewAllocator validates cfg and returns an allocator reading allocation
// keys from st.
func NewAllocator(cfg Config, st KeyLister) (*Allocator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Allocator{cfg: cfg, st: st, loaded: map[string]bool{},
		used: map[string]struct{}{}, inflight: map[string]struct{}{}}, nil
}

// ReserveTenant picks a segment for a tenant network: the lowest free ID
// of the first tenant network type that has one. All pools full gives
// NoNetworkAvailable (503).
func (a *Allocator) ReserveTenant(ctx context.Context) (Segment, Release, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, typ := range a.cfg.TenantNetworkTypes {
		seg, ok, err := a.pickLocked(ctx, Segment{NetworkType: typ})
		if err != nil {
			return Segment{}, nil, err
		}
		if ok {
			return seg, a.reserveLocked(seg), nil
		}
	}
	return Segment{}, nil, errNoNetwork()
}

// ReserveProvider validates an admin-requested segment and reserves it.
// A partial one (vlan without ID or physnet, tunnel without ID) gets the
// lowest free ID of the tenant ranges. Taken segments give VlanIdInUse,
// TunnelIdInUse or FlatNetworkInUse (409).
func (a *Allocator) ReserveProvider(ctx context.Context, seg Segment) (Segment, Release, error) {
	if err := a.cfg.ValidateProvider(seg); err != nil {
		return Segment{}, nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !seg.complete() {
		got, ok, err := a.pickLocked(ctx, seg)
		if err != nil {
			return Segment{}, nil, err
		}
		if !ok {
			return Segment{}, nil, errNoNetwork()
		}
		return got, a.reserveLocked(got), nil
	}
	if err := a.loadLocked(ctx, seg.NetworkType); err != nil {
		return Segment{}, nil, err
	}
	if seg.Key() != "" && a.takenLocked(seg.Key()) {
		return Segment{}, nil, inUse(seg)
	}
	return seg, a.reserveLocked(seg), nil
}

// MarkStale makes the next reservation reload allocations from the store
// (call it after the store reported ErrConflict).
func (a *Allocator) MarkStale() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.loaded = map[string]bool{}
}

// Free records that seg's allocation key was deleted.
func (a *Allocator) Free(seg Segment) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.used, seg.Key())
}

// pickLocked finds the lowest free segment matching the partial seg (its
// type, and its physnet if given). ok is false when none is free.
func (a *Allocator) pickLocked(ctx context.Context, want Segment) (Segment, bool, error) {
	if want.NetworkType == TypeLocal {
		return want, true, nil
	}
	if err := a.loadLocked(ctx, want.NetworkType); err != nil {
		return Segment{}, false, err
	}
	for _, cand := range a.pools(want) {
		for id := cand.r.Min; id <= cand.r.Max; id++ {
			seg := Segment{NetworkType: want.NetworkType, PhysicalNetwork: cand.physnet, SegmentationID: id}
			if !a.takenLocked(seg.Key()) {
				return seg, true, nil
			}
		}
	}
	return Segment{}, false, nil
}

type pool struct {
	physnet string
	r       Range
}

// pools lists the tenant ranges to scan for a partial segment.
func (a *Allocator) pools(want Segment) []pool {
	var out []pool
	add := func(physnet string, rs []Range) {
		for _, r := range rs {
			out = append(out, pool{physnet, r})
		}
	}
	switch want.NetworkType {
	case TypeVXLAN:
		add("", a.cfg.VNIRanges)
	case TypeGRE:
		add("", a.cfg.TunnelIDRanges)
	case TypeGeneve:
		add("", a.cfg.GeneveVNIRanges)
	case TypeVLAN:
		for _, p := range a.cfg.physnets() {
			if want.PhysicalNetwork == "" || want.PhysicalNetwork == p {
				add(p, a.cfg.NetworkVLANRanges[p])
			}
		}
	}
	return out
}

func (a *Allocator) takenLocked(key string) bool {
	_, used := a.used[key]
	_, busy := a.inflight[key]
	return used || busy
}

// reserveLocked marks seg in flight and returns its Release.
func (a *Allocator) reserveLocked(seg Segment) Release {
	key := seg.Key()
	if key == "" {
		return func(bool) {}
	}
	a.inflight[key] = struct{}{}
	var once sync.Once
	return func(committed bool) {
		once.Do(func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			delete(a.inflight, key)
			if committed {
				a.used[key] = struct{}{}
			}
		})
	}
}

// loadLocked (re)reads the allocation keys of one network type.
func (a *Allocator) loadLocked(ctx context.Context, typ string) error {
	if a.loaded[typ] || typ == TypeLocal {
		return nil
	}
	prefix := store.SegmentsPrefix + typ + "/"
	keys, _, err := a.st.ListKeys(ctx, prefix)
	if err != nil {
		return fmt.Errorf("segment: load %s allocations: %w", typ, err)
	}
	for k := range a.used {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix {
			delete(a.used, k)
		}
	}
	for _, k := range keys {
		a.used[k] = struct{}{}
	}
	a.loaded[typ] = true
	return nil
}
