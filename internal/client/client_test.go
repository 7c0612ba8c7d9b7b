package client_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/client/clienttest"
)

func noAuthClient(t *testing.T, url string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{URL: url, AuthType: client.AuthNone})
	require.NoError(t, err)
	return c
}

func ptr[T any](v T) *T { return &v }

func TestNetworkLifecycle(t *testing.T) {
	ctx := context.Background()
	c := noAuthClient(t, clienttest.New(t).URL)

	n, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: "net1", MTU: ptr(1400), NetworkType: "vxlan", SegmentationID: ptr(111)})
	require.NoError(t, err)
	assert.NotEmpty(t, n.ID)
	assert.Equal(t, 1400, n.MTU)
	require.NotNil(t, n.SegmentationID)
	assert.Equal(t, 111, *n.SegmentationID)

	byName, err := c.FindNetwork(ctx, "net1")
	require.NoError(t, err)
	assert.Equal(t, n.ID, byName.ID)
	byID, err := c.FindNetwork(ctx, n.ID)
	require.NoError(t, err)
	assert.Equal(t, "net1", byID.Name)

	up, err := c.UpdateNetwork(ctx, n.ID, client.NetworkUpdate{Name: ptr("net2")})
	require.NoError(t, err)
	assert.Equal(t, "net2", up.Name)
	assert.Equal(t, 1400, up.MTU, "fields not in the update stay")

	list, err := c.ListNetworks(ctx, url.Values{"name": {"net2"}})
	require.NoError(t, err)
	require.Len(t, list, 1)

	require.NoError(t, c.DeleteNetwork(ctx, n.ID))
	_, err = c.GetNetwork(ctx, n.ID)
	assert.ErrorIs(t, err, client.ErrNotFound)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.Status)
	assert.Contains(t, apiErr.Message, n.ID, "the server's message is kept")
}

func TestFindNotFoundAndAmbiguous(t *testing.T) {
	ctx := context.Background()
	c := noAuthClient(t, clienttest.New(t).URL)
	for range 2 {
		_, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: "dup"})
		require.NoError(t, err)
	}
	_, err := c.FindNetwork(ctx, "dup")
	assert.ErrorIs(t, err, client.ErrAmbiguous)
	assert.NotErrorIs(t, err, client.ErrNotFound)
	assert.Contains(t, err.Error(), "more than one network")

	_, err = c.FindNetwork(ctx, "nope")
	assert.ErrorIs(t, err, client.ErrNotFound)
	assert.EqualError(t, err, `no network found for "nope"`)
}

func TestPortFixedIPAndConflict(t *testing.T) {
	ctx := context.Background()
	c := noAuthClient(t, clienttest.New(t).URL)
	n, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: "n"})
	require.NoError(t, err)
	s, err := c.CreateSubnet(ctx, client.SubnetCreate{Name: "s", NetworkID: n.ID, CIDR: "10.1.0.0/24", IPVersion: 4})
	require.NoError(t, err)

	p, err := c.CreatePort(ctx, client.PortCreate{Name: "p1", NetworkID: n.ID,
		FixedIPs: []client.FixedIPRequest{{SubnetID: s.ID, IPAddress: "10.1.0.11"}}})
	require.NoError(t, err)
	require.Len(t, p.FixedIPs, 1)
	assert.Equal(t, "10.1.0.11", p.FixedIPs[0].IPAddress)

	_, err = c.CreatePort(ctx, client.PortCreate{Name: "p2", NetworkID: n.ID,
		FixedIPs: []client.FixedIPRequest{{SubnetID: s.ID, IPAddress: "10.1.0.11"}}})
	assert.ErrorIs(t, err, client.ErrConflict)
	assert.Contains(t, err.Error(), "10.1.0.11")

	ports, err := c.ListPorts(ctx, url.Values{"network_id": {n.ID}})
	require.NoError(t, err)
	assert.Len(t, ports, 1)
}

func TestSubnetNoGatewaySendsNull(t *testing.T) {
	data, err := json.Marshal(client.SubnetCreate{NetworkID: "n", CIDR: "10.0.0.0/24", NoGateway: true})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	v, ok := m["gateway_ip"]
	assert.True(t, ok)
	assert.Nil(t, v)

	data, err = json.Marshal(client.SubnetCreate{NetworkID: "n", CIDR: "10.0.0.0/24"})
	require.NoError(t, err)
	assert.NotContains(t, string(data), "gateway_ip")
}

func TestPasswordAuthCatalogAndRenewal(t *testing.T) {
	ctx := context.Background()
	f := clienttest.New(t)
	c, err := client.New(client.Config{AuthURL: f.URL + "/v3", Username: clienttest.AdminUser,
		Password: clienttest.AdminPassword, ProjectName: "admin"})
	require.NoError(t, err)

	ep, err := c.Endpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, f.URL, ep, "the endpoint comes from the catalog")
	sc, err := c.Scope(ctx)
	require.NoError(t, err)
	assert.Contains(t, sc.Roles, "admin")

	f.RevokeTokens()
	_, err = c.ListNetworks(ctx, nil)
	require.NoError(t, err, "a refused token is renewed once")
	assert.Equal(t, 2, f.Count("POST /v3/auth/tokens"))

	bad, err := client.New(client.Config{AuthURL: f.URL + "/v3", Username: "admin", Password: "wrong"})
	require.NoError(t, err)
	_, err = bad.ListNetworks(ctx, nil)
	assert.ErrorIs(t, err, client.ErrUnauthorized)
	assert.Contains(t, err.Error(), "requires authentication")
}

func TestProjectIDCreatesOnFirstUse(t *testing.T) {
	ctx := context.Background()
	f := clienttest.New(t)
	c, err := client.New(client.Config{URL: f.URL, AuthURL: f.URL + "/v3", Username: clienttest.AdminUser,
		Password: clienttest.AdminPassword, ProjectName: "admin"})
	require.NoError(t, err)
	id1, err := c.ProjectID(ctx, "tenantA")
	require.NoError(t, err)
	id2, err := c.ProjectID(ctx, "tenantA")
	require.NoError(t, err)
	assert.Equal(t, id1, id2)
	assert.Equal(t, 1, f.Count("POST /v3/projects"))
	byID, err := c.ProjectID(ctx, id1)
	require.NoError(t, err)
	assert.Equal(t, id1, byID)

	nc := noAuthClient(t, f.URL)
	id, err := nc.ProjectID(ctx, "tenantB")
	require.NoError(t, err)
	assert.Equal(t, "tenantB", id, "without Keystone the name is the ID")
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := client.New(client.Config{AuthType: "kerberos"})
	assert.ErrorIs(t, err, client.ErrConfig)
	_, err = client.New(client.Config{AuthType: client.AuthToken})
	assert.ErrorIs(t, err, client.ErrConfig)
}

func TestWaitPortStatus(t *testing.T) {
	ctx := context.Background()
	f := clienttest.New(t)
	c := noAuthClient(t, f.URL+"/v2.0/")
	n, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: "n"})
	require.NoError(t, err)
	p, err := c.CreatePort(ctx, client.PortCreate{NetworkID: n.ID})
	require.NoError(t, err)

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = c.WaitPortStatus(short, p.ID, "ACTIVE", 10*time.Millisecond)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), `status "DOWN"`)

	go func() {
		time.Sleep(30 * time.Millisecond)
		f.SetPortStatus(p.ID, "ACTIVE")
	}()
	got, err := c.WaitPortStatus(ctx, p.ID, "ACTIVE", 10*time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, "ACTIVE", got.Status)
}
