package etcdstore

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// ClientConfig says how to reach and log in to an etcd cluster.
type ClientConfig struct {
	// Endpoints are the client URLs, e.g. "https://10.0.0.1:2379".
	Endpoints []string
	// Username and Password log in to etcd's auth (both empty: none).
	Username string
	Password string
	// TLS secures the connection (nil: plain http endpoints). See LoadTLS.
	TLS *tls.Config
}

// TLSFiles names the PEM files of a TLS connection to etcd, as etcdctl's
// --cacert, --cert and --key do.
type TLSFiles struct {
	CACert string // CA bundle that signed the etcd server's certificate
	Cert   string // client certificate (with Key; for client-cert auth)
	Key    string
}

// newClient connects; the client's own logs are discarded.
func newClient(cfg ClientConfig) (*clientv3.Client, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("etcdstore: no endpoints")
	}
	if cfg.TLS == nil && strings.HasPrefix(cfg.Endpoints[0], "https://") {
		// https without --etcd-cacert: verify against the system roots.
		cfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   cfg.Endpoints,
		Username:    cfg.Username,
		Password:    cfg.Password,
		TLS:         cfg.TLS,
		DialTimeout: dialTimeout,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		who := ""
		if cfg.Username != "" {
			who = " as " + cfg.Username
		}
		return nil, fmt.Errorf("etcdstore: connect %v%s: %w", cfg.Endpoints, who, err)
	}
	return cli, nil
}

// LoadTLS builds the client TLS configuration from f; it returns nil when
// no file is named (plain http).
func LoadTLS(f TLSFiles) (*tls.Config, error) {
	if f == (TLSFiles{}) {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.CACert != "" {
		pem, err := os.ReadFile(f.CACert)
		if err != nil {
			return nil, fmt.Errorf("etcdstore: etcd CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcdstore: etcd CA %s: no PEM certificate", f.CACert)
		}
		cfg.RootCAs = pool
	}
	if (f.Cert == "") != (f.Key == "") {
		return nil, errors.New("etcdstore: a client certificate needs both --etcd-cert and --etcd-key")
	}
	if f.Cert != "" {
		pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("etcdstore: etcd client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// ReadPasswordFile returns the password in path, without surrounding
// whitespace.
func ReadPasswordFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("etcdstore: password file: %w", err)
	}
	pw := strings.TrimSpace(string(b))
	if pw == "" {
		return "", fmt.Errorf("etcdstore: password file %s is empty", path)
	}
	return pw, nil
}

// WritePasswordFile writes password to path, readable by its owner only
// (replacing the file atomically).
func WritePasswordFile(path, password string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pw-*")
	if err != nil {
		return fmt.Errorf("etcdstore: password file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(password + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("etcdstore: password file %s: %w", path, err)
	}
	return nil
}

// RandomPassword returns 128 random bits in hex.
func RandomPassword() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
