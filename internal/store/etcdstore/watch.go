package etcdstore

import (
	"context"
	"errors"
	"fmt"

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
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) <-chan store.Event {
	out := make(chan store.Event, watchBuffer)
	opts := []clientv3.OpOption{clientv3.WithPrefix()}
	if fromRev > 0 {
		opts = append(opts, clientv3.WithRev(fromRev))
	}
	// A private child context: cancelling it releases etcd's watcher when we
	// stop early (after an error).
	wctx, cancel := context.WithCancel(ctx)
	wch := s.cli.Watch(wctx, prefix, opts...)
	go func() {
		defer close(out)
		defer cancel()
		pump(ctx, wch, out)
	}()
	return out
}

// pump converts etcd watch responses into store events until the watch
// ends or breaks.
func pump(ctx context.Context, wch clientv3.WatchChan, out chan<- store.Event) {
	for resp := range wch {
		if resp.CompactRevision != 0 {
			send(ctx, out, store.Event{Err: fmt.Errorf("%w: oldest available revision is %d",
				store.ErrCompacted, resp.CompactRevision)})
			return
		}
		if err := resp.Err(); err != nil {
			send(ctx, out, store.Event{Err: fmt.Errorf("etcdstore: watch: %w", err)})
			return
		}
		for _, ev := range resp.Events {
			if !send(ctx, out, convert(ev)) {
				return
			}
		}
	}
	if ctx.Err() == nil {
		send(ctx, out, store.Event{Err: errWatchClosed})
	}
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
