package agent

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

// breakingStore's first watch of a port's key (the range an agent follows
// for a port plugged before it exists) delivers nothing and fails with
// ErrCompacted when brk is closed, as a watch that fell behind compaction
// does: the agent must list that range again to catch up.
type breakingStore struct {
	store.Store
	brk  chan struct{}
	once sync.Once
}

func (b *breakingStore) Watch(ctx context.Context, prefix string, rev int64) <-chan store.Event {
	first := false
	if strings.HasPrefix(prefix, store.PortsPrefix) {
		b.once.Do(func() { first = true })
	}
	if !first {
		return b.Store.Watch(ctx, prefix, rev)
	}
	ch := make(chan store.Event, 1)
	go func() {
		defer close(ch)
		select {
		case <-ctx.Done():
		case <-b.brk:
			ch <- store.Event{Err: store.ErrCompacted}
		}
	}()
	return ch
}

func TestWatchBreakRelists(t *testing.T) {
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	st := &breakingStore{Store: mem, brk: make(chan struct{})}
	put(t, st, store.NetworkKey("n1"), vxlanNet("n1", 111))
	dp := newFakeDP("p1")
	runAgent(t, st, dp)
	waitApplied(t, dp, "", time.Second)

	put(t, st, store.PortKey("p1"), vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.1.0.5", ""))
	time.Sleep(50 * time.Millisecond)
	if got := dp.dump(); got != "" {
		t.Fatalf("the broken watch delivered a port: %q", got)
	}
	close(st.brk)
	waitApplied(t, dp, "net n1 vxlan 111\nport p1 net=n1 up=true\n", time.Second)
}
