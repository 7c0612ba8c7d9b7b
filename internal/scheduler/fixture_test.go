package scheduler

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/service"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

var adminCtx = identity.WithContext(context.Background(), identity.Identity{ProjectID: "admin", Roles: []string{"admin"}})

// fixture is a service on an in-memory store, agents written by hand and a
// scheduler with a fake clock.
type fixture struct {
	t   *testing.T
	st  store.Store
	svc *service.Service
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := memstore.New()
	svc, err := service.New(context.Background(), st, service.Config{DefaultQuota: api.Quota{Network: -1, Subnet: -1, Port: -1}})
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close(); _ = st.Close() })
	return &fixture{t: t, st: st, svc: svc, now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
}

func (f *fixture) scheduler(cfg Config) *Scheduler {
	cfg.Now = func() time.Time { return f.now }
	return New(f.st, f.svc, NewLocalElection(), cfg)
}

// agent registers host with roles, alive.
func (f *fixture) agent(host string, roles ...string) {
	rec := api.Agent{ID: "id-" + host, Host: host, AdminStateUp: true, Configurations: api.AgentConfig{IntegrationBr: "br-int", Roles: roles}}
	f.put(store.AgentKey(host), rec)
	f.setAlive(host, true)
}

func (f *fixture) setAlive(host string, alive bool) {
	op := store.Op{Key: store.AgentAliveKey(host), Value: []byte(`{}`), Delete: !alive}
	_, err := f.st.Txn(context.Background(), nil, []store.Op{op})
	require.NoError(f.t, err)
}

func (f *fixture) put(key string, v any) {
	b, _ := json.Marshal(v)
	_, err := f.st.Txn(context.Background(), nil, []store.Op{{Key: key, Value: b}})
	require.NoError(f.t, err)
}

// network creates a network with one subnet per CIDR (DHCP as given).
func (f *fixture) network(dhcp bool, cidrs ...string) (api.Network, []api.Subnet) {
	ns, err := f.svc.CreateNetworks(adminCtx, []service.NetworkRequest{{Name: service.Some("n")}})
	require.NoError(f.t, err)
	var subs []api.Subnet
	for _, c := range cidrs {
		subs = append(subs, f.subnet(ns[0].ID, c, dhcp))
	}
	return ns[0], subs
}

func (f *fixture) subnet(netID, cidr string, dhcp bool) api.Subnet {
	s, err := f.svc.CreateSubnets(adminCtx, []service.SubnetRequest{{NetworkID: service.Some(netID), CIDR: service.Some(cidr),
		IPVersion: service.Some(4), EnableDHCP: service.Some(dhcp)}})
	require.NoError(f.t, err)
	return s[0]
}

// dhcpPorts returns network's DHCP ports by host.
func (f *fixture) dhcpPorts(netID string) map[string]api.Port {
	ps, err := f.svc.ListPorts(adminCtx)
	require.NoError(f.t, err)
	out := map[string]api.Port{}
	for _, p := range ps {
		if p.NetworkID == netID && p.DeviceOwner == "network:dhcp" {
			_, dup := out[p.BindingHostID]
			require.False(f.t, dup, "two DHCP ports of host %s on one network", p.BindingHostID)
			out[p.BindingHostID] = p
		}
	}
	return out
}

// hosts returns the hosts serving a network, sorted.
func (f *fixture) hosts(netID string) []string {
	var out []string
	for h := range f.dhcpPorts(netID) {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// agentsOf is GET /v2.0/networks/{id}/dhcp-agents, as hosts.
func (f *fixture) agentsOf(netID string) []string {
	as, err := f.svc.ListNetworkDHCPAgents(adminCtx, netID)
	require.NoError(f.t, err)
	var out []string
	for _, a := range as {
		out = append(out, a.Host)
	}
	slices.Sort(out)
	return out
}

func reconcile(t *testing.T, s *Scheduler) {
	t.Helper()
	require.NoError(t, s.Reconcile(context.Background()))
}
