package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

// Status records of the old port-status/<port id> layout are dropped; the
// per-host ones stay.
func TestDropLegacyKeys(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	_, err := st.Txn(ctx, nil, []store.Op{
		{Key: store.PortStatusPrefix + "p1", Value: []byte(`{"host":"h1"}`)},
		{Key: store.PortStatusPrefix + "p2", Value: []byte(`{"host":"h1"}`)},
		{Key: store.PortStatusKey("h1", "p3"), Value: []byte(`{"host":"h1"}`)},
	})
	require.NoError(t, err)
	n, err := store.DropLegacyKeys(ctx, st)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	keys, _, err := st.ListKeys(ctx, store.PortStatusPrefix)
	require.NoError(t, err)
	require.Equal(t, []string{store.PortStatusKey("h1", "p3")}, keys)
	n, err = store.DropLegacyKeys(ctx, st)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestParsePortStatusKey(t *testing.T) {
	host, port, ok := store.ParsePortStatusKey(store.PortStatusKey("h1", "p1"))
	require.True(t, ok)
	require.Equal(t, "h1/p1", host+"/"+port)
	for _, bad := range []string{store.PortStatusPrefix + "p1", store.PortStatusPrefix + "h1/", store.PortStatusPrefix + "/p1",
		store.PortStatusPrefix + "h1/p1/x", store.PortKey("p1")} {
		_, _, ok := store.ParsePortStatusKey(bad)
		require.False(t, ok, bad)
	}
	require.NoError(t, store.ValidHost("compute-1.example.org"))
	for _, bad := range []string{"", "a/b", "a b", "a\n"} {
		require.Error(t, store.ValidHost(bad), bad)
	}
}
