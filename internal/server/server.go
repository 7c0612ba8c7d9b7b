// Package server builds a vland API server: the store (embedded etcd or
// an external cluster), the Neutron service, the Keystone token endpoint,
// the HTTP middleware chain and the listener. cmd/vland only parses flags
// into a Config; tests start the real thing in-process on 127.0.0.1:0.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/keystone"
	"github.com/vland/vland/internal/neutron"
	"github.com/vland/vland/internal/scheduler"
	"github.com/vland/vland/internal/segment"
	"github.com/vland/vland/internal/service"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
	"github.com/vland/vland/internal/store/etcdstore/embedded"
)

// DefaultListen is Neutron's address.
const DefaultListen = "127.0.0.1:9696"

// shutdownGrace bounds how long a graceful shutdown waits for requests.
const shutdownGrace = 10 * time.Second

// Config configures a Server. The zero value (plus DataDir) is a working
// single-node server with embedded etcd and Keystone auth.
type Config struct {
	// Listen is the API address; "" means DefaultListen, port 0 picks one.
	Listen string
	// DataDir holds the embedded etcd's data. Required unless
	// EtcdEndpoints is set.
	DataDir string
	// EtcdEndpoints selects an external etcd cluster instead of the
	// embedded node.
	EtcdEndpoints []string
	// EtcdUsername and EtcdPassword log in to the external cluster (a user
	// with the store.ServerRole role); EtcdTLS secures the connection to
	// it. The embedded node uses the credentials it generates itself.
	EtcdUsername string
	EtcdPassword string
	EtcdTLS      *tls.Config
	// EtcdClientURL and EtcdPeerURL are the embedded node's listeners;
	// "" picks free 127.0.0.1 ports.
	EtcdClientURL string
	EtcdPeerURL   string
	// Auth is keystone (default) or noauth.
	Auth keystone.Mode
	// Keystone is the identity configuration; the zero value means
	// keystone.DefaultConfig().
	Keystone *keystone.Config
	// Segments is the ML2 type driver configuration; the zero value means
	// segment.DefaultConfig().
	Segments segment.Config
	// MaxFixedIPsPerPort bounds fixed_ips per port (0: 100).
	MaxFixedIPsPerPort int
	// MaxTxnOps is the etcd's --max-txn-ops (0: 1,024, the embedded
	// node's); big bulk creates and deletes split to fit it.
	MaxTxnOps int
	// DefaultQuota is the quota of projects without their own (zero value:
	// Neutron's 100 networks, 100 subnets, 500 ports; -1 is unlimited).
	DefaultQuota api.Quota
	// DHCPAgentsPerNetwork is how many DHCP hosts serve each network (0:
	// 1), AgentDownTime how long a dead DHCP host keeps its networks (0:
	// 75 s); see internal/scheduler.
	DHCPAgentsPerNetwork int
	AgentDownTime        time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Server is a running API server.
type Server struct {
	cfg      Config
	log      *slog.Logger
	embedded *embedded.Etcd
	st       store.Store
	svc      *service.Service
	ln       net.Listener
	http     *http.Server
	serveErr chan error
	once     sync.Once
	closeErr error

	sched         *scheduler.Scheduler
	stopScheduler func()

	mirrorLeading    atomic.Bool // see startStatusMirror
	stopStatusMirror func()
}

// New opens the store, builds the services and binds the listener; it
// does not serve yet (Start or Serve). On error everything opened is
// closed again.
func New(ctx context.Context, cfg Config) (_ *Server, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Auth == "" {
		cfg.Auth = keystone.ModeKeystone
	}
	s := &Server{cfg: cfg, log: cfg.Logger, serveErr: make(chan error, 1)}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	if err := s.openStore(); err != nil {
		return nil, err
	}
	if n, err := store.DropLegacyKeys(ctx, s.st); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	} else if n > 0 {
		s.log.Info("dropped keys of an old layout", "keys", n)
	}
	handler, err := s.buildHandler(ctx)
	if err != nil {
		return nil, err
	}
	if s.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("server: listen %s: %w", cfg.Listen, err)
	}
	s.http = &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 5 * time.Minute}
	s.startScheduler()
	s.startStatusMirror()
	return s, nil
}

// openStore starts the embedded etcd or connects to the external one.
func (s *Server) openStore() error {
	cc := etcdstore.ClientConfig{Endpoints: s.cfg.EtcdEndpoints, Username: s.cfg.EtcdUsername,
		Password: s.cfg.EtcdPassword, TLS: s.cfg.EtcdTLS}
	if len(cc.Endpoints) == 0 {
		if s.cfg.DataDir == "" {
			return errors.New("server: a data dir is needed for the embedded etcd (or give etcd endpoints)")
		}
		e, err := embedded.Start(embedded.Config{
			DataDir: s.cfg.DataDir, ClientURL: s.cfg.EtcdClientURL, PeerURL: s.cfg.EtcdPeerURL,
		})
		if err != nil {
			return fmt.Errorf("server: embedded etcd: %w", err)
		}
		s.embedded = e
		cc = e.ServerClient()
	}
	st, err := etcdstore.Connect(cc)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.st = st
	return nil
}

// buildHandler wires service, identity and the middleware chain.
func (s *Server) buildHandler(ctx context.Context) (http.Handler, error) {
	var err error
	if s.svc, err = service.New(ctx, s.st, service.Config{Segments: s.cfg.Segments, Logger: s.log,
		MaxFixedIPsPerPort: s.cfg.MaxFixedIPsPerPort, MaxTxnOps: s.cfg.MaxTxnOps, DefaultQuota: s.cfg.DefaultQuota}); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	kcfg := keystone.DefaultConfig()
	if s.cfg.Keystone != nil {
		kcfg = *s.cfg.Keystone
	}
	ks, err := keystone.New(ctx, s.st, kcfg)
	if err != nil {
		return nil, fmt.Errorf("server: keystone: %w", err)
	}
	mux := http.NewServeMux()
	ks.Routes(mux)
	neutron.Register(mux, s.svc)
	return neutron.Chain(mux, neutron.RequestID, neutron.AccessLog(s.log), neutron.Recover, neutron.LimitBody,
		ks.Middleware(s.cfg.Auth)), nil
}

// URL is the API's root URL, e.g. http://127.0.0.1:9696.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// EtcdEndpoints are the store's client URLs (what agents connect to).
func (s *Server) EtcdEndpoints() []string {
	if s.embedded != nil {
		return s.embedded.Endpoints()
	}
	return append([]string(nil), s.cfg.EtcdEndpoints...)
}

// EtcdClient is how the server connects to its etcd, credentials included
// (a second server of the same deployment, tests).
func (s *Server) EtcdClient() etcdstore.ClientConfig {
	if s.embedded != nil {
		return s.embedded.ServerClient()
	}
	return etcdstore.ClientConfig{Endpoints: s.EtcdEndpoints(), Username: s.cfg.EtcdUsername,
		Password: s.cfg.EtcdPassword, TLS: s.cfg.EtcdTLS}
}

// Store is the server's store connection (tests and tools).
func (s *Server) Store() store.Store { return s.st }

// Start serves in the background; Close stops it.
func (s *Server) Start() {
	go func() {
		err := s.http.Serve(s.ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.serveErr <- err
	}()
	s.log.Info("vland server listening", "url", s.URL(), "etcd", s.EtcdEndpoints(), "auth", s.cfg.Auth)
}

// Serve serves until ctx ends (then shuts down gracefully and closes
// everything) or serving fails.
func (s *Server) Serve(ctx context.Context) error {
	s.Start()
	var err error
	select {
	case <-ctx.Done():
		s.log.Info("vland server shutting down")
	case err = <-s.serveErr:
	}
	return errors.Join(err, s.Close())
}

// Close stops accepting requests, waits (bounded) for running ones, then
// closes the service, the store and the embedded etcd. It is idempotent.
func (s *Server) Close() error {
	s.once.Do(func() {
		var errs []error
		if s.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			errs = append(errs, s.http.Shutdown(ctx))
			cancel()
		}
		if s.ln != nil {
			// Shutdown closes only listeners it served; New may have bound
			// one that never served.
			if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
		if s.stopScheduler != nil {
			s.stopScheduler()
		}
		if s.stopStatusMirror != nil {
			s.stopStatusMirror()
		}
		if s.svc != nil {
			s.svc.Close()
		}
		if s.st != nil {
			errs = append(errs, s.st.Close())
		}
		if s.embedded != nil {
			errs = append(errs, s.embedded.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
