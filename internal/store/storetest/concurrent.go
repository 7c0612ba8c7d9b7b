package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/store"
)

// Racers and keys of the compare-and-create race.
const (
	racers   = 200
	raceKeys = 10
)

// testConcurrentCreate races 200 goroutines to create the same 10 keys (in
// random order): every key must have exactly one winner, and the stored
// value must name that winner.
func testConcurrentCreate(t *testing.T, st store.Store, p string) {
	var (
		mu      sync.Mutex
		winners = map[string][]int{}
		wg      sync.WaitGroup
		errs    = make(chan error, racers*raceKeys)
	)
	for g := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, k := range rand.Perm(raceKeys) {
				key := fmt.Sprintf("%sk%d", p, k)
				_, err := st.Txn(ctxT(t), []store.Cond{{Key: key}},
					[]store.Op{{Key: key, Value: []byte(fmt.Sprint(g))}})
				switch {
				case err == nil:
					mu.Lock()
					winners[key] = append(winners[key], g)
					mu.Unlock()
				case !errors.Is(err, store.ErrConflict):
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, winners, raceKeys)
	for key, ws := range winners {
		require.Len(t, ws, 1, "key %s has %d winners", key, len(ws))
		kv, err := st.Get(ctxT(t), key)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(ws[0]), string(kv.Value))
	}
}
