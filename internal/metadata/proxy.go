package metadata

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/vland/vland/internal/netns"
)

// Where the proxies listen. In a router namespace the router's nftables
// redirect TCP to 169.254.169.254:80 here (the redirect rewrites the
// destination to the receiving interface's address, so it listens on
// every address); in a DHCP namespace the metadata address itself is on
// the DHCP port's NIC.
const (
	Address      = "169.254.169.254"
	RouterListen = "0.0.0.0:9697"
	DHCPListen   = Address + ":80"
)

// Proxies runs the metadata proxies of one agent: one HTTP server per
// router or network namespace, each listening inside its namespace and
// answering with the identity it was started with plus the TCP peer
// address. Safe for concurrent use. The zero value is not usable: New.
type Proxies struct {
	backend *Backend
	log     *slog.Logger
	mu      sync.Mutex
	running map[string]*proxy // by key ("router/<id>", "network/<id>")
}

type proxy struct {
	ns, addr string
	who      Identity
	srv      *http.Server
	ln       net.Listener
}

// NewProxies returns the proxies of an agent answering from backend.
func NewProxies(backend *Backend, log *slog.Logger) *Proxies {
	if log == nil {
		log = slog.Default()
	}
	return &Proxies{backend: backend, log: log.With("service", "metadata"), running: map[string]*proxy{}}
}

// RouterNamespaceUp starts (or keeps) the proxy of router routerID in its
// namespace nsPath (a path such as /run/netns/qrouter-<id>), listening on
// RouterListen with identity "router <id>". The L3 service calls it once
// the namespace exists; it is idempotent.
func (p *Proxies) RouterNamespaceUp(ctx context.Context, routerID, nsPath string) error {
	return p.Start(ctx, "router/"+routerID, nsPath, RouterListen, Router(routerID))
}

// RouterUpHook is RouterNamespaceUp for a caller that takes no error
// (the L3 service's Config.RouterNamespaceUp): a failure is logged.
func (p *Proxies) RouterUpHook(ctx context.Context, routerID, nsPath string) {
	if err := p.RouterNamespaceUp(ctx, routerID, nsPath); err != nil {
		p.log.Error("metadata proxy not started", "router", routerID, "netns", nsPath, "err", err)
	}
}

// RouterNamespaceDown stops router routerID's proxy (no-op if none).
func (p *Proxies) RouterNamespaceDown(routerID string) { p.Stop("router/" + routerID) }

// NetworkUp starts (or keeps) the proxy of network networkID in its DHCP
// namespace nsPath, on DHCPListen with identity "network <id>".
func (p *Proxies) NetworkUp(ctx context.Context, networkID, nsPath string) error {
	return p.Start(ctx, "network/"+networkID, nsPath, DHCPListen, Network(networkID))
}

// NetworkDown stops network networkID's proxy (no-op if none).
func (p *Proxies) NetworkDown(networkID string) { p.Stop("network/" + networkID) }

// Start runs a proxy under key in namespace nsPath ("" = the agent's own)
// on addr with identity who. A proxy already running under key with the
// same namespace, address and identity is kept; a different one is
// replaced.
func (p *Proxies) Start(_ context.Context, key, nsPath, addr string, who Identity) error {
	if !who.valid() {
		return fmt.Errorf("metadata: bad identity %+v", who)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.running[key]; ok {
		if old.ns == nsPath && old.addr == addr && old.who == who {
			return nil
		}
		old.close()
		delete(p.running, key)
	}
	ln, err := listenIn(nsPath, addr)
	if err != nil {
		return err
	}
	px := &proxy{ns: nsPath, addr: addr, who: who, ln: ln, srv: &http.Server{
		Handler: p.backend.Handler(who), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute,
		MaxHeaderBytes: 16 << 10,
	}}
	p.running[key] = px
	go func() {
		if err := px.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("metadata proxy stopped", "identity", who.String(), "err", err)
		}
	}()
	p.log.Info("metadata proxy up", "identity", who.String(), "netns", nsPath, "listen", ln.Addr().String())
	return nil
}

// Stop stops the proxy under key, if any.
func (p *Proxies) Stop(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if px, ok := p.running[key]; ok {
		px.close()
		delete(p.running, key)
		p.log.Info("metadata proxy down", "identity", px.who.String())
	}
}

// Running lists the keys of the running proxies (tests, status).
func (p *Proxies) Running() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.running))
	for k := range p.running {
		out = append(out, k)
	}
	return out
}

// Close stops every proxy.
func (p *Proxies) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, px := range p.running {
		px.close()
		delete(p.running, k)
	}
}

func (px *proxy) close() {
	_ = px.srv.Close()
	_ = px.ln.Close()
}

// listenIn opens a TCP listener on addr inside namespace nsPath. A socket
// belongs to the namespace it was created in, whatever thread later uses
// it, so only its creation happens in the namespace. IP_FREEBIND lets it
// bind the metadata address before (or while) the NIC holds it.
func listenIn(nsPath, addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_IP, syscall.IP_FREEBIND, 1)
		})
		return errors.Join(err, serr)
	}}
	var ln net.Listener
	listen := func() (err error) {
		ln, err = lc.Listen(context.Background(), "tcp4", addr)
		return err
	}
	var err error
	if nsPath == "" {
		err = listen()
	} else {
		err = netns.Do(nsPath, listen)
	}
	if err != nil {
		return nil, fmt.Errorf("metadata: listen on %s in %q: %w", addr, nsPath, err)
	}
	return ln, nil
}
