package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"

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
//
// A watch refused for an expired login (a restarted etcd forgets its
// session tokens) ends with that error after the client logged in again,
// so the caller's next Watch, from the revision it reached, succeeds.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) <-chan store.Event {
	out := make(chan store.Event, watchBuffer)
	// Progress notifications (every 10 min, etcd's default) carry no event
	// but move the client's resume point to etcd's revision: when etcd
	// restarts, the client resumes each watch by itself from there, so a
	// prefix quiet for longer than the compaction retention (1 h) is not
	// refused as compacted (which would make every agent list it again).
	opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithCreatedNotify(), clientv3.WithProgressNotify()}
	if fromRev > 0 {
		opts = append(opts, clientv3.WithRev(fromRev))
	}
	// A private child context: cancelling it releases etcd's watcher when we
	// stop early (after an error).
	wctx, cancel := context.WithCancel(ctx)
	gen := s.login.current()
	wch := s.cli.Watch(loginStream(wctx, gen), prefix, opts...)
	created := make(chan struct{})
	go func() {
		defer close(out)
		defer cancel()
		err := pump(ctx, wch, out, created)
		if isAuthErr(err) {
			s.login.renew(ctx, s.cli, gen, prefix)
		}
		if err != nil {
			send(ctx, out, store.Event{Err: err})
		}
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
// ends or breaks; it returns why it broke (nil if ctx ended). It closes
// created after the first response.
func pump(ctx context.Context, wch clientv3.WatchChan, out chan<- store.Event, created chan struct{}) error {
	markCreated := sync.OnceFunc(func() { close(created) })
	defer markCreated()
	for resp := range wch {
		markCreated() // before delivery: the caller cannot read until Watch returns
		if err := handle(ctx, resp, out); err != nil || ctx.Err() != nil {
			return err
		}
	}
	if ctx.Err() == nil {
		return errWatchClosed
	}
	return nil
}

// handle delivers one response's events; an error means the watch is over.
func handle(ctx context.Context, resp clientv3.WatchResponse, out chan<- store.Event) error {
	if resp.CompactRevision != 0 {
		return fmt.Errorf("%w: oldest available revision is %d", store.ErrCompacted, resp.CompactRevision)
	}
	if err := resp.Err(); err != nil {
		return fmt.Errorf("etcdstore: watch: %w", err)
	}
	// etcd never splits a revision across watch responses (we do not ask
	// for fragments), so a revision ends where the next event's starts.
	for i, ev := range resp.Events {
		e := convert(ev)
		e.LastOfRev = i == len(resp.Events)-1 || resp.Events[i+1].Kv.ModRevision != ev.Kv.ModRevision
		if !send(ctx, out, e) {
			return nil
		}
	}
	return nil
}

// login counts the client's renewed etcd logins. etcd keeps its session
// tokens in memory: after it restarts, the client's token is unknown, and
// every watch is refused with ErrInvalidAuthToken (the client resumes its
// watches by itself, with the old token). The first watch refused renews
// the login; the others of the same client see the count moved on and do
// not log in again (one login per client and restart, not per watch).
type login struct {
	mu  sync.Mutex
	gen int64
}

func (l *login) current() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gen
}

// renew logs in again unless a watch did since generation gen began. Any
// read with the stale token does: the client's interceptor logs in and
// retries on ErrInvalidAuthToken. key is one the user may read.
func (l *login) renew(ctx context.Context, cli *clientv3.Client, gen int64, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gen != gen {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, loginWait)
	defer cancel()
	_, _ = cli.Get(ctx, key, clientv3.WithKeysOnly())
	l.gen++
}

// loginWait bounds the read that renews a login.
const loginWait = 10 * time.Second

// loginStream tags a watch with the login generation it started in.
// clientv3 multiplexes the watches of equal outgoing metadata on one gRPC
// stream, which carries the token it was opened with: watches after a
// renewed login must go on a new stream, or etcd refuses them again.
func loginStream(ctx context.Context, gen int64) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "vland-login", strconv.FormatInt(gen, 10))
}

// isAuthErr: etcd refused the client's token (it expired or etcd restarted).
// A watch refused at creation reaches us as a plain error carrying etcd's
// cancel reason (the gRPC status text), so match the text too.
func isAuthErr(err error) bool {
	if err == nil {
		return false
	}
	for _, e := range []error{rpctypes.ErrGRPCInvalidAuthToken, rpctypes.ErrGRPCUserEmpty, rpctypes.ErrGRPCAuthOldRevision} {
		if errors.Is(err, e) || errors.Is(err, rpctypes.Error(e)) || strings.Contains(err.Error(), rpctypes.ErrorDesc(e)) {
			return true
		}
	}
	return false
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
