package storetest

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/store/etcdstore"
	"github.com/vland/vland/internal/store/etcdstore/embedded"
)

// NewEmbedded starts a real single-node etcd in t.TempDir() on free
// 127.0.0.1 ports and stops it when the test ends.
func NewEmbedded(t testing.TB) *embedded.Etcd {
	t.Helper()
	e, err := embedded.Start(embedded.Config{DataDir: filepath.Join(t.TempDir(), "etcd")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// NewEtcd returns an etcd-backed store on a fresh embedded node (see
// NewEmbedded), logged in as etcd's root user so that any key and
// maintenance call (compaction) is allowed; both are closed when the test
// ends.
func NewEtcd(t testing.TB) *etcdstore.Store {
	t.Helper()
	return Connect(t, NewEmbedded(t).RootClient())
}

// Connect returns a store connected as cfg says, closed when the test ends.
func Connect(t testing.TB, cfg etcdstore.ClientConfig) *etcdstore.Store {
	t.Helper()
	st, err := etcdstore.Connect(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}
