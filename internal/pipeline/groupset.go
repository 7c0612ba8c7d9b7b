package pipeline

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/vland/vland/internal/hoststate"
)

// groupSet is the list of security groups of one or more filtered ports
// of this host. Ports with the same groups share their rule flows: the
// set's id, loaded into reg7, is what the rule conjunctions match.
type groupSet struct {
	key       string   // the groups, sorted, comma separated
	groups    []string // sorted
	stateless bool     // all its known groups are stateless
}

// groupSets numbers the group sets of the host's wired filtered ports.
// As conjunction ids, a set's id is a hash of its key (never 0, which
// means "not filtered"), so it does not move when other sets come and go;
// collisions are settled by probing in key order.
type groupSets struct {
	sets map[string]groupSet
	ids  map[string]uint32
}

func newGroupSets(s hoststate.State, pm PortMap) *groupSets {
	gs := &groupSets{sets: map[string]groupSet{}, ids: map[string]uint32{}}
	for _, p := range s.Ports {
		if _, ok := wiredPort(s, pm, p); !ok || !filteredPort(p) {
			continue
		}
		k := setKey(p)
		if _, ok := gs.sets[k]; !ok {
			gs.sets[k] = groupSet{key: k, groups: p.SecurityGroups, stateless: statelessPort(s, p)}
		}
	}
	keys := make([]string, 0, len(gs.sets))
	for k := range gs.sets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	hashes := make([]uint32, len(keys))
	for i, k := range keys {
		h := fnv.New32a()
		fmt.Fprint(h, k)
		hashes[i] = h.Sum32()%conjIDMax + 1
	}
	for i, id := range probeIDs(hashes) {
		gs.ids[keys[i]] = id
	}
	return gs
}

func setKey(p hoststate.Port) string { return strings.Join(p.SecurityGroups, ",") }

// id is the group set id of a wired filtered port.
func (gs *groupSets) id(p hoststate.Port) uint32 { return gs.ids[setKey(p)] }

// sorted returns the sets in key order.
func (gs *groupSets) sorted() []groupSet {
	out := make([]groupSet, 0, len(gs.sets))
	for _, s := range gs.sets {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}
