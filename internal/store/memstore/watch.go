package memstore

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/vland/vland/internal/store"
)

// Watch sends every change under prefix from revision fromRev on (0: from
// now) until ctx ends, then closes the channel. A fromRev that was
// compacted yields one event wrapping store.ErrCompacted.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) <-chan store.Event {
	out := make(chan store.Event)
	s.mu.Lock()
	next := fromRev
	if next <= 0 {
		next = s.rev + 1
	}
	s.mu.Unlock()
	go s.watch(ctx, prefix, next, out)
	return out
}

// watch replays history from revision next and then follows new commits.
// History is the queue, so a slow watcher never blocks writers.
func (s *Store) watch(ctx context.Context, prefix string, next int64, out chan<- store.Event) {
	defer close(out)
	for {
		events, upto, wake, err := s.since(prefix, next)
		if err != nil {
			select {
			case out <- store.Event{Err: err}:
			case <-ctx.Done():
			}
			return
		}
		for _, ev := range events {
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
		next = upto + 1
		select {
		case <-wake:
		case <-ctx.Done():
			return
		}
	}
}

// since returns the events under prefix at revisions >= next, the current
// revision, and a channel closed on the next commit.
func (s *Store) since(prefix string, next int64) ([]store.Event, int64, <-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if next <= s.compacted {
		return nil, 0, nil, fmt.Errorf("%w: oldest available revision is %d", store.ErrCompacted, s.compacted+1)
	}
	i := sort.Search(len(s.history), func(i int) bool { return s.history[i].KV.ModRevision >= next })
	var out []store.Event
	for _, ev := range s.history[i:] {
		if strings.HasPrefix(ev.KV.Key, prefix) {
			ev.KV = copyKV(ev.KV)
			out = append(out, ev)
		}
	}
	// Every revision up to s.rev is whole in history, so a revision's
	// last delivered event is the one before the next revision's first.
	for j := range out {
		out[j].LastOfRev = j == len(out)-1 || out[j+1].KV.ModRevision != out[j].KV.ModRevision
	}
	return out, s.rev, s.changed, nil
}
