package agent

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// errWatchClosed: a store watch channel closed without an error.
var errWatchClosed = errors.New("agent: store watch closed")

// backoff doubles a pause from min to max; reset starts over. The zero value
// is not usable: set min and max.
type backoff struct {
	min, max, cur time.Duration
	// jitter takes a random part of up to half of each step off the
	// pause, so that many agents whose watches broke at once (a store
	// restart) retry spread out, not in step.
	jitter bool
}

func (b *backoff) next() time.Duration {
	switch {
	case b.cur == 0:
		b.cur = b.min
	case b.cur < b.max:
		b.cur = min(2*b.cur, b.max)
	}
	if b.jitter {
		return b.cur - rand.N(b.cur/2+1)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits d or until ctx ends; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
