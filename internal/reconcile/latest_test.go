package reconcile

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// applied records every state apply was called with.
type applied struct {
	mu   sync.Mutex
	got  []int
	fail int // fail this many calls first
}

func (a *applied) apply(_ context.Context, d int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, d)
	if a.fail > 0 {
		a.fail--
		return errors.New("failed")
	}
	return nil
}

func (a *applied) calls() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int(nil), a.got...)
}

func start(t *testing.T, a *applied) *Latest[int] {
	l := NewLatest[int](slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx, a.apply) }()
	t.Cleanup(func() { cancel(); <-done })
	return l
}

func TestLatestAppliesNewestOnly(t *testing.T) {
	a := &applied{}
	l := NewLatest[int](slog.New(slog.NewTextHandler(io.Discard, nil)))
	l.Offer(1)
	l.Offer(2) // replaces 1 before Run looks
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx, a.apply) }()
	require.Eventually(t, func() bool { return len(a.calls()) == 1 }, time.Second, 5*time.Millisecond)
	l.Offer(3)
	require.Eventually(t, func() bool { return len(a.calls()) == 2 }, time.Second, 5*time.Millisecond)
	cancel()
	<-done
	require.Equal(t, []int{2, 3}, a.calls())
}

func TestLatestNothingBeforeOffer(t *testing.T) {
	a := &applied{}
	start(t, a)
	time.Sleep(50 * time.Millisecond)
	require.Empty(t, a.calls())
}

func TestLatestRetriesFailures(t *testing.T) {
	a := &applied{fail: 2}
	l := start(t, a)
	begin := time.Now()
	l.Offer(7)
	require.Eventually(t, func() bool { return len(a.calls()) == 3 }, 3*time.Second, 5*time.Millisecond)
	// Two pauses: 0.2 s, then 0.4 s.
	require.GreaterOrEqual(t, time.Since(begin), 600*time.Millisecond)
	time.Sleep(MinRetry + 100*time.Millisecond)
	require.Equal(t, []int{7, 7, 7}, a.calls(), "no retry after a success")
}
