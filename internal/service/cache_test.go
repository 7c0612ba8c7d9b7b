package service

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

// breakableStore is a memstore whose watches can be broken on demand, as
// a compaction or a lost etcd connection would.
type breakableStore struct {
	*memstore.Store
	breaks chan struct{} // each token received breaks one watch
}

func (b *breakableStore) Watch(ctx context.Context, prefix string, fromRev int64) <-chan store.Event {
	in := b.Store.Watch(ctx, prefix, fromRev)
	out := make(chan store.Event)
	go func() {
		defer close(out)
		for {
			select {
			case ev, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case <-b.breaks:
				select {
				case out <- store.Event{Err: store.ErrCompacted}:
				case <-ctx.Done():
				}
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func TestCacheReloadsAfterBrokenWatch(t *testing.T) {
	st := &breakableStore{Store: memstore.New(), breaks: make(chan struct{}, 1)}
	s, err := New(context.Background(), st, Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	st.breaks <- struct{}{}
	for len(st.breaks) > 0 { // the running watch took the token and broke
		time.Sleep(time.Millisecond)
	}
	// Written while (or after) the watch is broken: the reload must find it.
	n := storedNetwork{Network: api.Network{ID: "net-x", ProjectID: "admin", Subnets: []string{}}}
	b, _ := json.Marshal(n)
	if _, err := st.Txn(context.Background(), nil, []store.Op{{Key: store.NetworkKey("net-x"), Value: b}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := s.GetNetwork(adminCtx, "net-x"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("cache never saw the network written across a broken watch")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
