package neutron

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/google/uuid"
)

// Middleware wraps a handler (request id, recover, body limit, auth...).
type Middleware func(http.Handler) http.Handler

// Chain applies middlewares so that the first one is outermost.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

const requestIDHeader = "X-Openstack-Request-Id"

// MaxBodyBytes bounds request bodies (Neutron answers 413 beyond it).
const MaxBodyBytes = 1 << 20

// RequestID gives every answer an X-Openstack-Request-Id: req-<uuid>.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(requestIDHeader, "req-"+uuid.NewString())
		next.ServeHTTP(w, r)
	})
}

// Recover turns a panic into a logged 500 in Neutron's format: a bug must
// not take the server down or leave the client without an answer.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				slog.Error("neutron: panic", "method", r.Method, "path", r.URL.Path,
					"request_id", w.Header().Get(requestIDHeader), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// AccessLog logs every request at debug level, with its status, duration
// and request id.
func AccessLog(log *slog.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(sw, r)
			log.Debug("api request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
				"seconds", time.Since(start).Seconds(), "request_id", w.Header().Get(requestIDHeader))
		})
	}
}

// statusWriter remembers the status code a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// LimitBody caps request bodies at MaxBodyBytes.
func LimitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		slog.Error("neutron: encode answer", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"NeutronError":{"type":"HTTPInternalServerError","message":"encoding failed","detail":""}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
