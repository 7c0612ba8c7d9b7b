package labtest

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/lab"
)

// Buffer is a bytes.Buffer safe for one writer and any readers: where a
// test's child process (tcpdump, a probe) prints while the test reads.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Capture is tcpdump on a VM's eth0, in the VM's namespace: what reached
// the receiver, one line a packet that matches its filter (-nn, so
// addresses and ports are numbers).
type Capture struct{ Buffer }

// StartCapture runs tcpdump in vm with a pcap filter until the test ends;
// it returns once tcpdump listens.
func StartCapture(tb testing.TB, l *lab.Lab, vm, filter string) *Capture {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &Capture{}
	cmd, err := l.Command(ctx, vm, "tcpdump", "-i", "eth0", "-nn", "-l", "-p", filter)
	require.NoError(tb, err)
	stderr := &Buffer{}
	cmd.Stdout, cmd.Stderr = c, stderr
	require.NoError(tb, cmd.Start(), "tcpdump (install it: apt-get install tcpdump)")
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stderr.String(), "listening on") {
		require.True(tb, time.Now().Before(deadline), "tcpdump in %s did not start: %s", vm, stderr.String())
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

// Packets counts the packets captured so far.
func (c *Capture) Packets() int { return strings.Count(c.String(), "\n") }
