package clients_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/vland/vland/internal/keystone"
	"github.com/vland/vland/internal/server"
	"github.com/vland/vland/internal/store/etcdstore"
)

// startVland starts a real server in-process: embedded etcd under dir on
// free ports, the API on 127.0.0.1:0, auth mode as given (keystone with
// the users file at users, or noauth).
func startVland(dir string, mode keystone.Mode, users string) (*vlandServer, error) {
	return startVlandOn(dir, mode, users, etcdstore.ClientConfig{})
}

// startVlandOn is startVland on an existing etcd cluster when etcd is set.
func startVlandOn(dir string, mode keystone.Mode, users string, etcd etcdstore.ClientConfig) (*vlandServer, error) {
	kcfg, err := keystone.LoadConfig(users)
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	kcfg.Logger = quiet
	srv, err := server.New(context.Background(), server.Config{
		Listen:        "127.0.0.1:0",
		DataDir:       filepath.Join(dir, "etcd"),
		EtcdEndpoints: etcd.Endpoints,
		EtcdUsername:  etcd.Username,
		EtcdPassword:  etcd.Password,
		Auth:          mode,
		Keystone:      &kcfg,
		Logger:        quiet,
	})
	if err != nil {
		return nil, err
	}
	srv.Start()
	return &vlandServer{
		url:            srv.URL(),
		adminProjectID: keystone.ProjectID(keystone.AdminProject),
		etcd:           srv.EtcdClient(),
		close:          func() { _ = srv.Close() },
	}, nil
}
