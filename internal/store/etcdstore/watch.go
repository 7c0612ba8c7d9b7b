package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vland/vland/internal/store"
)

// watchBuffer decouples etcd's delivery from a slow consumer a little;
// etcd itself buffers the rest on the server side.
const watchBuffer = 128

// errWatchClosed reports a watch that ended although its context did not
// (the client was closed or the server cancelled it).
var errWatchClosed = errors.New("etcdstore: watch closed")

// Watch sends every change under prefix from revision fromRev on (0: from
// now) until ctx ends, then closes the channel. If fromRev was compacted,
// one event with Err wrapping store.ErrCompacted is sent and the channel is
// closed: List again and watch from the listing's revision + 1.
//
// Watch returns once etcd confirmed the watch (or after createdWait), so a
// write made after Watch returns is seen even with fromRev 0.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) <-chan store.Event {
	out := make(chan store.Event, watchBuffer)
	opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithCreatedNotify()}
	if fromRev > 0 {
		opts = append(opts, clientv3.WithRev(fromRev))
	}
	// A private child context: cancelling it releases etcd's watcher when we
	// stop early (after an error).
	wctx, cancel := context.WithCancel(ctx)
	wch := s.cli.Watch(wctx, prefix, opts...)
	created := make(chan struct{})
	go func() {
		defer close(out)
		defer cancel()
		pump(ctx, wch, out, created)
	}()
	select {
	case <-created:
	case <-ctx.Done():
	case <-time.After(createdWait):
	}
	return out
}

// createdWait bounds how long Watch waits for etcd to confirm the watch
// (it only matters when etcd is unreachable).
const createdWait = 5 * time.Second

// pump converts etcd watch responses into store events until the watch
// ends or breaks. It closes created after the first response.
func pump(ctx context.Context, wch clientv3.WatchChan, out chan<- store.Event, created chan struct{}) {
	markCreated := sync.OnceFunc(func() { close(created) })
	defer markCreated()
	for resp := range wch {
		markCreated() // before delivery: the caller cannot read until Watch returns
		if !handle(ctx, resp, out) {
			return
		}
	}
	if ctx.Err() == nil {
		send(ctx, out, store.Event{Err: errWatchClosed})
	}
}

// handle delivers one response's events; false means the watch is over.
func handle(ctx context.Context, resp clientv3.WatchResponse, out chan<- store.Event) bool {
	if resp.CompactRevision != 0 {
		send(ctx, out, store.Event{Err: fmt.Errorf("%w: oldest available revision is %d",
			store.ErrCompacted, resp.CompactRevision)})
		return false
	}
	if err := resp.Err(); err != nil {
		send(ctx, out, store.Event{Err: fmt.Errorf("etcdstore: watch: %w", err)})
		return false
	}
	// etcd never splits a revision across watch responses (we do not ask
	// for fragments), so a revision ends where the next event's starts.
	for i, ev := range resp.Events {
		e := convert(ev)
		e.LastOfRev = i == len(resp.Events)-1 || resp.Events[i+1].Kv.ModRevision != ev.Kv.ModRevision
		if !send(ctx, out, e) {
			return false
		}
	}
	return true
}

func convert(ev *clientv3.Event) store.Event {
	kv := store.KV{Key: string(ev.Kv.Key), CreateRevision: ev.Kv.CreateRevision,
		ModRevision: ev.Kv.ModRevision, Lease: ev.Kv.Lease}
	if ev.Type == clientv3.EventTypeDelete {
		return store.Event{Type: store.EventDelete, KV: kv}
	}
	kv.Value = ev.Kv.Value
	return store.Event{Type: store.EventPut, KV: kv}
}

// send delivers ev unless ctx ends first; it reports whether it delivered.
func send(ctx context.Context, out chan<- store.Event, ev store.Event) bool {
	select {
	case out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}
