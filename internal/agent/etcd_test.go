package agent

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/store/etcdstore"
)

// etcdStore starts an embedded etcd for one test and connects to it.
func etcdStore(t *testing.T) *etcdstore.Store {
	t.Helper()
	e, err := etcdstore.StartEmbedded(etcdstore.EmbeddedConfig{DataDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	st, err := etcdstore.New(e.Endpoints())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

// The registration contract on a real etcd: leases, their expiry (etcd
// rounds the TTL up to its 2 s minimum) and revocation.
func TestRegistrationEtcd(t *testing.T) {
	testRegistration(t, etcdStore(t))
}

// Watch latency on a real etcd: a new port is applied within 200 ms.
func TestPortLifecycleEtcd(t *testing.T) {
	testPortLifecycle(t, etcdStore(t))
}
