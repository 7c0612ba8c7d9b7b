package pipeline

import (
	"errors"
	"fmt"
	"sort"
)

// Local VLAN numbers on br-int. A network gets the lowest free tag on this
// host; the tag is only meaningful on this host (seed 000: "unique per host").
const (
	MinLocalVLAN = 1
	MaxLocalVLAN = 4094
	// DeadVLAN is the tag of br-int ports whose iface-id is unknown: OVS
	// drops nothing by itself, table 0 has no flow for them so they drop.
	DeadVLAN = 4095
)

// ErrVLANsExhausted is returned when a host has more networks than tags.
var ErrVLANsExhausted = errors.New("pipeline: local VLANs exhausted")

// AllocateVLANs returns the local VLAN of every wanted network. Networks
// that already have a tag in current keep it (a restart or a new port must
// not renumber a live network); tags of networks no longer wanted are freed;
// new networks take the lowest free tag, in network-id order so the result
// is deterministic. Networks that cannot get a tag are left out and reported
// in the error.
func AllocateVLANs(current map[string]int, wanted []string) (map[string]int, error) {
	out := make(map[string]int, len(wanted))
	used := make(map[int]bool, len(wanted))
	ids := append([]string(nil), wanted...)
	sort.Strings(ids)
	var fresh []string
	for _, id := range ids {
		if _, dup := out[id]; dup {
			continue
		}
		v, ok := current[id]
		if ok && v >= MinLocalVLAN && v <= MaxLocalVLAN && !used[v] {
			out[id] = v
			used[v] = true
			continue
		}
		fresh = append(fresh, id)
	}
	next := MinLocalVLAN
	var errs []error
	for _, id := range fresh {
		if _, dup := out[id]; dup {
			continue
		}
		for next <= MaxLocalVLAN && used[next] {
			next++
		}
		if next > MaxLocalVLAN {
			errs = append(errs, fmt.Errorf("network %s: %w", id, ErrVLANsExhausted))
			continue
		}
		out[id] = next
		used[next] = true
	}
	return out, errors.Join(errs...)
}
