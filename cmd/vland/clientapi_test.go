package main

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/keystone"
	"github.com/vland/vland/internal/server"
)

// testAdminPassword is the admin password of servers started by startAPI.
const testAdminPassword = "pw"

// startAPI runs the real vland API server in-process (embedded etcd in a
// temp dir, a free port, no auth) and returns its root URL.
func startAPI(t *testing.T) string {
	return startAPIMode(t, keystone.ModeNoAuth)
}

func startAPIMode(t *testing.T, mode keystone.Mode) string {
	t.Helper()
	kcfg := keystone.DefaultConfig()
	kcfg.AdminPassword = testAdminPassword
	srv, err := server.New(context.Background(), server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), Auth: mode, Keystone: &kcfg,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	srv.Start()
	t.Cleanup(func() { _ = srv.Close() })
	return srv.URL()
}
