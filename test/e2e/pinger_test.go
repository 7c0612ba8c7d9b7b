package e2e_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// pingStats is the summary line of iputils ping.
type pingStats struct{ Transmitted, Received int }

var statsRE = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`)

func parsePingStats(out string) (pingStats, error) {
	m := statsRE.FindStringSubmatch(out)
	if m == nil {
		return pingStats{}, errors.New("no ping statistics")
	}
	tx, _ := strconv.Atoi(m[1])
	rx, _ := strconv.Atoi(m[2])
	return pingStats{Transmitted: tx, Received: rx}, nil
}

// pinger is a ping running in the background at 10 packets a second,
// recording when each reply arrived (ping -D timestamps).
type pinger struct {
	cmd  *exec.Cmd
	done chan struct{}

	mu      sync.Mutex
	replies map[int]time.Time // icmp_seq -> arrival
	lastSeq int               // highest seq answered
	output  strings.Builder
}

var replyRE = regexp.MustCompile(`^\[(\d+)\.(\d+)\] \d+ bytes from .*icmp_seq=(\d+)`)

// startPinger pings ip from vm until stop.
func startPinger(t *testing.T, ctx context.Context, vm, ip string) *pinger {
	t.Helper()
	cmd, err := sharedLab(t).Command(ctx, vm, "ping", "-D", "-i", "0.1", "-W", "1", ip)
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	p := &pinger{cmd: cmd, done: make(chan struct{}), replies: map[int]time.Time{}}
	go p.read(bufio.NewScanner(stdout))
	t.Cleanup(func() { p.stop() })
	return p
}

func (p *pinger) read(sc *bufio.Scanner) {
	defer close(p.done)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		p.output.WriteString(line + "\n")
		if m := replyRE.FindStringSubmatch(line); m != nil {
			sec, _ := strconv.ParseInt(m[1], 10, 64)
			usec, _ := strconv.ParseInt((m[2] + "000000")[:6], 10, 64)
			seq, _ := strconv.Atoi(m[3])
			p.replies[seq] = time.Unix(sec, usec*1000)
			p.lastSeq = max(p.lastSeq, seq)
		}
		p.mu.Unlock()
	}
}

// waitSteady waits until n consecutive replies arrived after since.
func (p *pinger) waitSteady(ctx context.Context, since time.Time, n int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if p.steadySince(since, n) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no %d consecutive replies within %v after %s", n, within, since.Format(time.StampMilli))
}

func (p *pinger) steadySince(since time.Time, n int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	run := 0
	for seq := p.lastSeq; seq > 0 && run < n; seq-- {
		at, ok := p.replies[seq]
		if !ok || at.Before(since) {
			return false
		}
		run++
	}
	return run >= n
}

// stop interrupts ping (which then prints its statistics) and returns them.
func (p *pinger) stop() pingStats {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(os.Interrupt)
		<-p.done
		_ = p.cmd.Wait()
	}
	st, _ := parsePingStats(p.text())
	return st
}

func (p *pinger) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// outage describes the replies missing after since: how many sequence
// numbers went unanswered, and when the first reply after the last gap
// arrived (since itself if none was lost).
func (p *pinger) outage(since time.Time) (lost int, recovered time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	recovered = since
	lastMissing := 0
	for seq := 1; seq <= p.lastSeq; seq++ {
		if _, ok := p.replies[seq]; !ok {
			lost++
			lastMissing = seq
		}
	}
	if lastMissing == 0 {
		return 0, since
	}
	for seq := lastMissing + 1; seq <= p.lastSeq; seq++ {
		if at, ok := p.replies[seq]; ok {
			return lost, at
		}
	}
	return lost, time.Time{}
}
