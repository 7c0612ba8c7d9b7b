package service

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
)

// storedNetwork is a network as it lives in the store: the api type (which
// every reader decodes) plus server-private fields that readers ignore.
// Deleting marks a network whose delete is in progress, so port and subnet
// creates racing with the delete fail their revision condition and then
// see the mark.
type storedNetwork struct {
	api.Network
	Deleting bool `json:"vland:deleting,omitempty"`
}

// storedSubnet: see storedNetwork.
type storedSubnet struct {
	api.Subnet
	Deleting bool `json:"vland:deleting,omitempty"`
}

// deleteMarked is the delete protocol of networks and subnets, whose
// dependents' creates only compare the parent's revision: check unused,
// write the parent with its deleting mark (bumping that revision: racing
// creates fail and then see the mark), wait until the cache holds the
// mark, check again (clearing the mark if something got in first), and
// remove the marked parent conditioned on the marked revision.
func deleteMarked[T any](ctx context.Context, s *Service, key string, v versioned[T],
	mark func(deleting bool) T, unused func() error, remove func(context.Context, versioned[T]) error) error {
	if err := unused(); err != nil {
		return err
	}
	put := func(from int64, obj T) (versioned[T], error) {
		rev, err := s.txn(ctx, []store.Cond{{Key: key, ModRevision: from}}, []store.Op{{Key: key, Value: mustJSON(obj)}})
		return versioned[T]{obj, rev}, err
	}
	marked, err := put(v.rev, mark(true))
	if err != nil {
		return err
	}
	s.cache.waitFor(ctx, marked.rev)
	if err := unused(); err != nil {
		_, _ = put(marked.rev, mark(false))
		return err
	}
	return remove(ctx, marked)
}

// rootPrefix is the common prefix of every vland key (what the cache
// watches).
var rootPrefix = strings.TrimSuffix(store.NetworksPrefix, "networks/")

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own api types are marshalled here; they always encode.
		panic("service: marshal: " + err.Error())
	}
	return b
}
