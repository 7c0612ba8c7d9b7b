package client_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/keystone"
	"github.com/vland/vland/internal/server"
)

// startServer runs the real vland API server in-process (embedded etcd in
// a temp dir, a free port) and returns its root URL.
func startServer(t *testing.T, mode keystone.Mode) string {
	t.Helper()
	kcfg := keystone.DefaultConfig()
	kcfg.AdminPassword = "pw"
	srv, err := server.New(context.Background(), server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), Auth: mode, Keystone: &kcfg,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	srv.Start()
	t.Cleanup(func() { _ = srv.Close() })
	return srv.URL()
}

// TestRealServerNoAuth drives networks, subnets and ports through the real
// server: defaults, name resolution, explicit addresses, 409 and 404.
func TestRealServerNoAuth(t *testing.T) {
	ctx := context.Background()
	c := noAuthClient(t, startServer(t, keystone.ModeNoAuth))

	n, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: "net1", NetworkType: "vxlan", SegmentationID: ptr(111)})
	require.NoError(t, err)
	require.NotNil(t, n.SegmentationID)
	assert.Equal(t, 111, *n.SegmentationID)
	s, err := c.CreateSubnet(ctx, client.SubnetCreate{Name: "sub1", NetworkID: n.ID, CIDR: "10.1.0.0/24", IPVersion: 4,
		AllocationPools: []api.AllocationPool{{Start: "10.1.0.10", End: "10.1.0.100"}}})
	require.NoError(t, err)
	require.NotNil(t, s.GatewayIP)
	assert.Equal(t, "10.1.0.1", *s.GatewayIP)

	found, err := c.FindSubnet(ctx, "sub1")
	require.NoError(t, err)
	assert.Equal(t, s.ID, found.ID)

	p, err := c.CreatePort(ctx, client.PortCreate{Name: "vm1", NetworkID: n.ID, BindingHostID: "host1",
		FixedIPs: []client.FixedIPRequest{{SubnetID: s.ID, IPAddress: "10.1.0.11"}}})
	require.NoError(t, err)
	require.Len(t, p.FixedIPs, 1)
	assert.Equal(t, "10.1.0.11", p.FixedIPs[0].IPAddress)
	assert.Equal(t, "host1", p.BindingHostID)

	auto, err := c.CreatePort(ctx, client.PortCreate{NetworkID: n.ID})
	require.NoError(t, err)
	require.Len(t, auto.FixedIPs, 1)
	assert.Equal(t, "10.1.0.10", auto.FixedIPs[0].IPAddress, "first address of the pool")

	_, err = c.CreatePort(ctx, client.PortCreate{NetworkID: n.ID,
		FixedIPs: []client.FixedIPRequest{{SubnetID: s.ID, IPAddress: "10.1.0.11"}}})
	assert.ErrorIs(t, err, client.ErrConflict)
	t.Logf("409: %v", err)

	ports, err := c.ListPorts(ctx, url.Values{"network_id": {n.ID}})
	require.NoError(t, err)
	assert.Len(t, ports, 2)

	up, err := c.UpdatePort(ctx, p.ID, client.PortUpdate{Name: ptr("vm1b"), BindingHostID: ptr("host2")})
	require.NoError(t, err)
	assert.Equal(t, "vm1b", up.Name)
	assert.Equal(t, "host2", up.BindingHostID)

	require.NoError(t, c.DeletePort(ctx, p.ID))
	_, err = c.GetPort(ctx, p.ID)
	assert.ErrorIs(t, err, client.ErrNotFound)
	t.Logf("404: %v", err)
	_, err = c.FindNetwork(ctx, "nope")
	assert.ErrorIs(t, err, client.ErrNotFound)

	agents, err := c.ListAgents(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, agents, "no host agent runs in this test")
}

// TestRealServerKeystone authenticates with a password, takes the endpoint
// from the catalog, and creates a network for a project named on first use.
func TestRealServerKeystone(t *testing.T) {
	ctx := context.Background()
	root := startServer(t, keystone.ModeKeystone)

	anon := noAuthClient(t, root)
	_, err := anon.ListNetworks(ctx, nil)
	assert.ErrorIs(t, err, client.ErrUnauthorized, "keystone mode refuses requests without a token")

	c, err := client.New(client.Config{AuthURL: root + "/v3", Username: "admin", Password: "pw", ProjectName: "admin"})
	require.NoError(t, err)
	pid, err := c.ProjectID(ctx, "tenantA")
	require.NoError(t, err)
	n, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: "a-net", ProjectID: pid})
	require.NoError(t, err)
	assert.Equal(t, pid, n.ProjectID)

	mine, err := c.ListNetworks(ctx, url.Values{"project_id": {pid}})
	require.NoError(t, err)
	require.Len(t, mine, 1)
	assert.Equal(t, n.ID, mine[0].ID)
}
