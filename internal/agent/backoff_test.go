package agent

import (
	"testing"
	"time"
)

// With jitter, each pause is 50–100% of its doubling step, and pauses
// drawn together differ (agents retrying after one store restart spread).
func TestBackoffJitter(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 50 {
		b := backoff{min: 100 * time.Millisecond, max: time.Second, jitter: true}
		for step := 100 * time.Millisecond; step <= time.Second; step *= 2 {
			d := b.next()
			if d < step/2 || d > step {
				t.Fatalf("pause %v outside [%v, %v]", d, step/2, step)
			}
			if step == 100*time.Millisecond {
				seen[d] = true
			}
		}
	}
	if len(seen) < 10 {
		t.Fatalf("50 first pauses took only %d values: no jitter", len(seen))
	}
	b := backoff{min: 100 * time.Millisecond, max: time.Second}
	if d := b.next(); d != 100*time.Millisecond {
		t.Fatalf("without jitter the first pause is %v, want 100ms", d)
	}
}
