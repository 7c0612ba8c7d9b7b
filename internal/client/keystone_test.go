package client_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/keystone"
	"github.com/vland/vland/internal/store/etcdstore"
	"github.com/vland/vland/internal/store/etcdstore/embedded"
)

// startKeystone runs vland's real Keystone on an embedded etcd and returns
// its root URL (Keystone under /v3, the catalog pointing at the same root).
func startKeystone(t *testing.T) string {
	t.Helper()
	e, err := embedded.Start(embedded.Config{DataDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	st, err := etcdstore.Connect(e.ServerClient())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	cfg := keystone.DefaultConfig()
	cfg.AdminPassword = "pw"
	ks, err := keystone.New(context.Background(), st, cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(ks.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRealKeystone(t *testing.T) {
	ctx := context.Background()
	root := startKeystone(t)

	c, err := client.New(client.Config{AuthURL: root + "/v3", Username: "admin", Password: "pw", ProjectName: "admin"})
	require.NoError(t, err)
	ep, err := c.Endpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, root, ep, "the network endpoint comes from the catalog")
	sc, err := c.Scope(ctx)
	require.NoError(t, err)
	assert.Equal(t, "admin", sc.ProjectName)
	assert.Contains(t, sc.Roles, "admin")

	id, err := c.ProjectID(ctx, "tenantA")
	require.NoError(t, err, "a project named on first use is created")
	again, err := c.ProjectID(ctx, "tenantA")
	require.NoError(t, err)
	assert.Equal(t, id, again)
	p, err := c.FindProject(ctx, id)
	require.NoError(t, err, "projects resolve by ID too")
	assert.Equal(t, "tenantA", p.Name)
	_, err = c.FindProjectID(ctx, "never-made")
	assert.ErrorIs(t, err, client.ErrNotFound)

	bad, err := client.New(client.Config{AuthURL: root + "/v3", Username: "admin", Password: "wrong", ProjectName: "admin"})
	require.NoError(t, err)
	err = bad.Authenticate(ctx)
	assert.ErrorIs(t, err, client.ErrUnauthorized)
	t.Log(err)
}
