package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/service"
)

func (f *fixture) router() string {
	rs, err := f.svc.CreateRouters(adminCtx, []service.RouterRequest{{Name: service.Some("r")}})
	require.NoError(f.t, err)
	return rs[0].ID
}

// l3Hosts is GET /v2.0/routers/{id}/l3-agents, as hosts.
func (f *fixture) l3Hosts(routerID string) []string {
	as, err := f.svc.ListRouterL3Agents(adminCtx, routerID)
	require.NoError(f.t, err)
	var out []string
	for _, a := range as {
		out = append(out, a.Host)
	}
	return out
}

// Routers go to the least loaded live L3 host, move off a host dead
// longer than the down time (not before), and stay off a host an admin
// took them from until an admin adds them again.
func TestL3Placement(t *testing.T) {
	f := newFixture(t)
	f.agent("h1", api.RoleCompute, api.RoleL3)
	f.agent("h2", api.RoleCompute, api.RoleL3)
	f.agent("h3", api.RoleCompute, api.RoleDHCP) // no l3 role: never chosen
	s := f.scheduler(Config{AgentDownTime: time.Minute})
	r1, r2 := f.router(), f.router()
	reconcile(t, s)
	require.ElementsMatch(t, []string{"h1", "h2"}, append(f.l3Hosts(r1), f.l3Hosts(r2)...), "one router per host")
	reconcile(t, s)
	first := f.l3Hosts(r1)
	require.Len(t, first, 1, "a pass on a placed router changes nothing")

	// The host of r1 dies: r1 stays within the down time, then moves.
	f.setAlive(first[0], false)
	reconcile(t, s)
	f.now = f.now.Add(30 * time.Second)
	reconcile(t, s)
	require.Equal(t, first, f.l3Hosts(r1))
	f.now = f.now.Add(31 * time.Second)
	reconcile(t, s)
	moved := f.l3Hosts(r1)
	require.Len(t, moved, 1)
	require.NotEqual(t, first, moved)

	// By hand: remove from its agent, nothing puts it back; add elsewhere.
	id := service.AgentRowID(moved[0], api.RoleL3)
	require.NoError(t, f.svc.RemoveL3Router(adminCtx, id, r1))
	require.ErrorIs(t, f.svc.RemoveL3Router(adminCtx, id, r1), service.ErrRouterNotHostedByL3Agent)
	reconcile(t, s)
	require.Empty(t, f.l3Hosts(r1))
	f.setAlive(first[0], true)
	other := service.AgentRowID(first[0], api.RoleL3)
	require.NoError(t, f.svc.AddL3Router(adminCtx, other, r1))
	require.NoError(t, f.svc.AddL3Router(adminCtx, other, r1), "adding it again is a no-op")
	require.ErrorIs(t, f.svc.AddL3Router(adminCtx, id, r1), service.ErrRouterHostedByL3Agent)
	require.ErrorIs(t, f.svc.AddL3Router(adminCtx, service.AgentRowID("h3", api.RoleDHCP), r1), service.ErrInvalidL3Agent)
	reconcile(t, s)
	require.Equal(t, first, f.l3Hosts(r1))
	rs, err := f.svc.ListL3Routers(adminCtx, other)
	require.NoError(t, err)
	require.NotEmpty(t, rs)

	// A deleted router's binding goes.
	require.NoError(t, f.svc.DeleteRouter(adminCtx, r2, -1))
	reconcile(t, s)
	kvs, _, err := f.st.List(context.Background(), "/vland/l3-bindings/"+r2)
	require.NoError(t, err)
	require.Empty(t, kvs)
}
