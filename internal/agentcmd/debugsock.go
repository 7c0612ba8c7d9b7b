package agentcmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"time"
)

// serveDebug serves Go's profiles (net/http/pprof: heap, allocs,
// goroutine, profile, ...) on a unix socket at path until ctx ends, for
// finding where a running daemon's memory and CPU go:
//
//	curl --unix-socket PATH http://x/debug/pprof/heap > heap.pb.gz
//	curl --unix-socket PATH 'http://x/debug/pprof/heap?debug=1' | tail -30   # runtime.MemStats
//
// Heap profiles then sample one allocation per 64 KiB instead of 512 KiB
// (finer, for a little CPU). The socket is made mode 0600 (root only, as the agent runs), never a TCP
// port; it is removed when ctx ends. A stale socket left by a crash is
// replaced.
func serveDebug(ctx context.Context, path string, log *slog.Logger) error {
	runtime.MemProfileRate = 64 << 10
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("--debug-socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("--debug-socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
		_ = os.Remove(path)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("debug socket stopped", "path", path, "err", err)
		}
	}()
	return nil
}
