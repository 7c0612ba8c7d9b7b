package labtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/testutil"
)

// upTimeout bounds a lab's bring-up and its teardown.
const upTimeout = 2 * time.Minute

// tailBytes is how much of each log a failure shows.
const tailBytes = 4000

// Up brings a lab up for one test or benchmark and tears it down (Down,
// then lab.Cleanup) when it ends, whatever happens; if it failed, the
// tails of the lab's logs are logged first. The lab gets a unique name
// (testutil.Prefix, after cfg.Name if set: a prefix that says whose lab
// it is, at most 10 characters) and the short directory /tmp/NAME (its
// unix sockets must fit in 108 bytes); cfg's Dir, Binary and Out are set
// here.
func Up(tb testing.TB, cfg lab.Config) *lab.Lab {
	tb.Helper()
	testutil.RequireOVS(tb)
	testutil.RequireBinary(tb, "ping", "ethtool")
	cfg.Name += testutil.Prefix()
	cfg.Dir = "/tmp/" + cfg.Name
	var l *lab.Lab
	tb.Cleanup(func() {
		if tb.Failed() {
			var b strings.Builder
			WriteLogTails(&b, cfg.Dir)
			tb.Log(b.String())
		}
		start := time.Now()
		if err := tearDown(l, cfg.Name, cfg.Dir); err != nil {
			tb.Logf("lab %s down: %v", cfg.Name, err)
		}
		tb.Logf("lab %s down in %v", cfg.Name, time.Since(start).Round(time.Millisecond))
	})
	cfg.Binary = Binary(tb)
	start := time.Now()
	l, err := bringUp(cfg)
	require.NoError(tb, err)
	tb.Logf("lab %s (%d hosts) up in %v", cfg.Name, cfg.Hosts, time.Since(start).Round(time.Millisecond))
	return l
}

// bringUp runs lab.Up, with its progress lines in the error if it fails.
func bringUp(cfg lab.Config) (*lab.Lab, error) {
	ctx, cancel := context.WithTimeout(context.Background(), upTimeout)
	defer cancel()
	var progress strings.Builder
	cfg.Out = &progress
	l, err := lab.Up(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("labtest: lab up: %w\n%s", err, progress.String())
	}
	return l, nil
}

// tearDown takes l down gracefully if it came up, then removes whatever
// is left of the lab (also after a crash, or when l never came up).
func tearDown(l *lab.Lab, name, dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), upTimeout)
	defer cancel()
	var errs []error
	if l != nil {
		errs = append(errs, l.Down(ctx))
	}
	errs = append(errs, lab.Cleanup(ctx, name, dir))
	return errors.Join(errs...)
}

// WriteLogTails writes the end of every log of the lab in dir (server,
// etcd, agents) to w, to explain a failure.
func WriteLogTails(w io.Writer, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	more, _ := filepath.Glob(filepath.Join(dir, "h*", "agent.log"))
	for _, p := range append(logs, more...) {
		b, _ := os.ReadFile(p)
		if len(b) > tailBytes {
			b = b[len(b)-tailBytes:]
		}
		fmt.Fprintf(w, "==> %s (tail)\n%s\n", p, b)
	}
}
