package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vland/vland/internal/lab"
)

// agentMem is one agent's memory, read from /proc and from its debug
// socket (runtime.MemStats, as the heap profile's text form prints them).
type agentMem struct {
	Host      int
	RSS       int64 // VmRSS
	RSSFile   int64 // of RSS, pages of files (the binary's code and data)
	HeapInuse int64 // spans with live objects (and their free slots)
	HeapAlloc int64 // live objects
	HeapIdle  int64 // heap spans not in use, returned to the OS or not
	Released  int64 // of HeapIdle, returned to the OS
	Sys       int64 // all memory the Go runtime obtained
	NextGC    int64
}

// profilesEnv names a directory: when set, every agent's heap profile
// (pprof format) and memory map (/proc/PID/smaps) are written there after
// the measurement.
const profilesEnv = "VLAND_BENCH_PROFILES"

// agentMems reads every host's agent memory.
func agentMems(ctx context.Context, l *lab.Lab) ([]agentMem, error) {
	var out []agentMem
	for i := 1; i <= l.NumHosts(); i++ {
		h, err := l.HostInfo(i)
		if err != nil {
			return nil, err
		}
		m := agentMem{Host: i}
		m.RSS, m.RSSFile = procRSS(l.AgentPid(i))
		sock := lab.AgentDebugSocket(h)
		txt, err := debugGet(ctx, sock, "/debug/pprof/heap?debug=1")
		if err != nil {
			return nil, err
		}
		for k, p := range map[string]*int64{"HeapInuse": &m.HeapInuse, "HeapAlloc": &m.HeapAlloc, "HeapIdle": &m.HeapIdle,
			"HeapReleased": &m.Released, "Sys": &m.Sys, "NextGC": &m.NextGC} {
			*p = memStat(txt, k)
		}
		if dir := os.Getenv(profilesEnv); dir != "" {
			smaps, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(l.AgentPid(i)), "smaps"))
			_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("agent-host%d.smaps", i)), smaps, 0o644)
			prof, err := debugGet(ctx, sock, "/debug/pprof/heap")
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, fmt.Sprintf("agent-host%d.heap", i)), []byte(prof), 0o644)
			}
			if err != nil {
				return nil, err
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// debugGet fetches path from an agent's debug socket.
func debugGet(ctx context.Context, sock, path string) (string, error) {
	c := http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://agent"+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("bench: agent debug socket %s: %w", sock, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("bench: agent debug socket %s%s: %s", sock, path, resp.Status)
	}
	return string(b), err
}

// memStat reads "# Name = N" from a heap profile's text form.
func memStat(txt, name string) int64 {
	for l := range strings.Lines(txt) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "# "+name+" = "); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// procRSS is a process's resident memory in bytes, all and file-backed
// (0 if unknown).
func procRSS(pid int) (rss, file int64) {
	st, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	for l := range strings.Lines(string(st)) {
		k, v, _ := strings.Cut(l, ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = kb << 10
		case "RssFile":
			file = kb << 10
		}
	}
	return rss, file
}

func (m agentMem) print(w io.Writer) {
	mb := func(n int64) float64 { return float64(n) / 1e6 }
	fmt.Fprintf(w, "  host%d agent RSS %.1f MB (%.1f of it the binary); Go heap in use %.1f MB (live %.1f), idle %.1f (%.1f returned to the OS), runtime total %.1f, next GC at %.1f\n",
		m.Host, mb(m.RSS), mb(m.RSSFile), mb(m.HeapInuse), mb(m.HeapAlloc), mb(m.HeapIdle), mb(m.Released), mb(m.Sys), mb(m.NextGC))
}
