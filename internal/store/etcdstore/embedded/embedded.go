// Package embedded runs a single-node etcd inside the vland server. It is
// apart from etcdstore so that what only talks to etcd (the agent,
// cmd/vland-agent) does not link the etcd server.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
)

// Embedded-etcd tuning. Fsync stays on: the store is vland's only copy of
// the desired state.
const (
	// readyTimeout bounds how long Start waits for the node to
	// serve. A fresh single node is ready in well under a second.
	readyTimeout = 15 * time.Second
	// compactionRetention keeps one hour of history for watchers that fall
	// behind (older start revisions get store.ErrCompacted).
	compactionRetention = "1h"
	// DefaultQuotaBytes is the backend size limit (etcd's own default).
	DefaultQuotaBytes = 2 << 30
	// maxTxnOps lets one transaction touch many keys (deleting a network
	// with its ports and allocations); etcd's default is 128. An external
	// cluster needs --max-txn-ops raised to match.
	maxTxnOps = 1024
	// portAttempts is how often an automatically chosen port pair is
	// retried when another process grabbed a port in the meantime.
	portAttempts = 5
	// bcryptCost is the embedded node's password hashing cost (etcd's
	// default is 10). Its passwords are random 128-bit strings, which key
	// stretching does not make any stronger; a low cost keeps logins (one
	// per client connection and token refresh) fast.
	bcryptCost = 4
)

// Config configures a single-node etcd inside the vland process.
type Config struct {
	// DataDir holds the etcd data (created 0700 if missing). Required.
	DataDir string
	// ClientURL is where clients connect, e.g. "http://127.0.0.1:2379".
	// Empty picks a free 127.0.0.1 port.
	ClientURL string
	// PeerURL is the raft peer listener. Empty picks a free 127.0.0.1 port;
	// a single node never talks to peers, so it may change across restarts.
	PeerURL string
	// QuotaBytes is the backend size limit; 0 means DefaultQuotaBytes.
	QuotaBytes int64
	// TokenTTL is how long a session token lives unused; 0 means etcd's
	// default (300 s). Tests shorten it to make logins go stale.
	TokenTTL time.Duration
}

// Etcd is a running embedded etcd node.
type Etcd struct {
	etcd      *embed.Etcd
	endpoints []string
	lock      *os.File
	rootPW    string
	serverPW  string
}

// Start starts a single-node etcd and waits until it serves, with
// auth on and vland's roles provisioned (see Provision): the root and server
// passwords are read from the data dir, or generated there on first start.
// Its logs are discarded. Two processes cannot share a DataDir: the second
// fails fast instead of hanging on etcd's own file locks.
func Start(cfg Config) (*Etcd, error) {
	e, err := start(cfg)
	if err != nil {
		return nil, err
	}
	if err := e.provision(cfg.DataDir); err != nil {
		_ = e.Close()
		return nil, err
	}
	return e, nil
}

// provision reads or creates the password files and applies the grants.
func (e *Etcd) provision(dir string) error {
	var err error
	if e.rootPW, err = passwordIn(filepath.Join(dir, etcdstore.RootPasswordFile)); err != nil {
		return err
	}
	if e.serverPW, err = passwordIn(filepath.Join(dir, etcdstore.ServerPasswordFile)); err != nil {
		return err
	}
	cli, err := etcdstore.AdminClient(e.RootClient())
	if err != nil {
		return fmt.Errorf("etcdstore: embedded etcd: log in as root (password in %s): %w", etcdstore.RootPasswordFile, err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	return etcdstore.Provision(ctx, cli, e.rootPW, e.serverPW)
}

// passwordIn returns the password in path, first writing a random one if
// the file does not exist.
func passwordIn(path string) (string, error) {
	pw, err := etcdstore.ReadPasswordFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return pw, err
	}
	pw = etcdstore.RandomPassword()
	return pw, etcdstore.WritePasswordFile(path, pw)
}

// RootClient is how to connect to the node as etcd's root user.
func (e *Etcd) RootClient() etcdstore.ClientConfig {
	return etcdstore.ClientConfig{Endpoints: e.Endpoints(), Username: store.RootUser, Password: e.rootPW}
}

// ServerClient is how a vland server connects to the node.
func (e *Etcd) ServerClient() etcdstore.ClientConfig {
	return etcdstore.ClientConfig{Endpoints: e.Endpoints(), Username: store.ServerUser, Password: e.serverPW}
}

func start(cfg Config) (*Etcd, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("etcdstore: embedded etcd needs a data dir")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("etcdstore: data dir: %w", err)
	}
	lock, err := lockDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	auto := cfg.ClientURL == "" || cfg.PeerURL == ""
	for attempt := 1; ; attempt++ {
		e, err := startOnce(cfg)
		if err == nil {
			e.lock = lock
			return e, nil
		}
		if !auto || !isAddrInUse(err) || attempt == portAttempts {
			_ = lock.Close()
			return nil, err
		}
	}
}

// startOnce picks any missing ports and starts etcd once.
func startOnce(cfg Config) (*Etcd, error) {
	clientURL, err := urlOrFree(cfg.ClientURL)
	if err != nil {
		return nil, err
	}
	peerURL, err := urlOrFree(cfg.PeerURL)
	if err != nil {
		return nil, err
	}
	ec := embed.NewConfig()
	ec.Name = "vland"
	ec.Dir = cfg.DataDir
	ec.ListenClientUrls = []url.URL{*clientURL}
	ec.AdvertiseClientUrls = []url.URL{*clientURL}
	ec.ListenPeerUrls = []url.URL{*peerURL}
	ec.AdvertisePeerUrls = []url.URL{*peerURL}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.AutoCompactionMode = embed.CompactorModePeriodic
	ec.AutoCompactionRetention = compactionRetention
	ec.QuotaBackendBytes = cfg.QuotaBytes
	if ec.QuotaBackendBytes == 0 {
		ec.QuotaBackendBytes = DefaultQuotaBytes
	}
	ec.MaxTxnOps = maxTxnOps
	ec.BcryptCost = bcryptCost
	if cfg.TokenTTL > 0 {
		ec.AuthTokenTTL = uint(max(1, cfg.TokenTTL/time.Second))
	}
	ec.Logger = "zap"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: start embedded etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return &Etcd{etcd: e, endpoints: []string{clientURL.String()}}, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcdstore: embedded etcd failed: %w", err)
	case <-time.After(readyTimeout):
		e.Server.Stop()
		e.Close()
		return nil, fmt.Errorf("etcdstore: embedded etcd not ready after %s", readyTimeout)
	}
}

// Endpoints returns the client URLs to pass to New.
func (e *Etcd) Endpoints() []string { return append([]string(nil), e.endpoints...) }

// Err reports a fatal server error after start (the channel is
// etcd's own).
func (e *Etcd) Err() <-chan error { return e.etcd.Err() }

// Close stops the node (after in-flight requests finish) and releases the
// data dir.
func (e *Etcd) Close() error {
	e.etcd.Close()
	return e.lock.Close()
}

// lockDir takes an exclusive, non-blocking lock on dir/vland.lock.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "vland.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: lock data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("etcdstore: data dir %s is in use by another process: %w", dir, err)
	}
	return f, nil
}

// urlOrFree parses raw, or builds http://127.0.0.1:<free port> when empty.
func urlOrFree(raw string) (*url.URL, error) {
	if raw != "" {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("etcdstore: bad url %q: %w", raw, err)
		}
		return u, nil
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	return &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", port)}, nil
}

// freePort asks the kernel for an unused loopback port. Another process can
// take it before etcd binds it; Start retries in that case.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("etcdstore: find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func isAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}
