// Package reconcile holds what the agent's service reconcilers (DHCP,
// routers) share: handing the latest desired state from the agent's Sync
// to the service's own loop, which applies it and retries failures.
package reconcile

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Retry pauses after a failed apply: doubling from MinRetry to MaxRetry,
// back to none after a success.
const (
	MinRetry = 200 * time.Millisecond
	MaxRetry = 10 * time.Second
)

// Latest is a service's desired state on its way from Sync to Run: Offer
// replaces it and never blocks, so a slow or failing apply never holds
// back the agent; Run applies only the newest one. The zero value is not
// usable: use NewLatest.
type Latest[T any] struct {
	log  *slog.Logger
	wake chan struct{}

	mu      sync.Mutex
	desired T
	offered bool
}

// NewLatest returns an empty Latest; Run's errors are logged to log.
func NewLatest[T any](log *slog.Logger) *Latest[T] {
	return &Latest[T]{log: log, wake: make(chan struct{}, 1)}
}

// Offer makes d the state to apply next.
func (l *Latest[T]) Offer(d T) {
	l.mu.Lock()
	l.desired, l.offered = d, true
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Run calls apply with the newest state whenever one is offered, and
// again after a pause while it fails, until ctx ends. Nothing is applied
// before the first Offer.
func (l *Latest[T]) Run(ctx context.Context, apply func(context.Context, T) error) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	pause := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		case <-retry.C:
		}
		l.mu.Lock()
		d, ok := l.desired, l.offered
		l.mu.Unlock()
		if !ok {
			continue
		}
		if err := apply(ctx, d); err != nil {
			pause = min(max(2*pause, MinRetry), MaxRetry)
			l.log.Error("apply failed", "err", err, "retry_in_s", pause.Seconds())
			retry.Reset(pause)
		} else {
			pause = 0
		}
	}
}
