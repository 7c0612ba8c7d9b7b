package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/keystone"
	"github.com/vland/vland/internal/scheduler"
	"github.com/vland/vland/internal/server"
	"github.com/vland/vland/internal/service"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
)

// dhcpServer is a server of its own (DHCP agents registered on the shared
// one would give every other test's networks DHCP ports).
func dhcpServer(t *testing.T, cfg server.Config) (*server.Server, caller) {
	t.Helper()
	cfg.Listen, cfg.DataDir, cfg.Auth = "127.0.0.1:0", t.TempDir(), keystone.ModeNoAuth
	cfg.Segments, cfg.DefaultQuota = segments(), unlimited
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := server.New(context.Background(), cfg)
	require.NoError(t, err)
	s.Start()
	t.Cleanup(func() { _ = s.Close() })
	return s, caller{admin: true, url: s.URL()}
}

// register writes a host's agent record and a leased heartbeat; the
// returned func kills the agent.
func register(t *testing.T, st store.Store, host string, roles ...string) (kill func()) {
	t.Helper()
	ctx := context.Background()
	rec, _ := json.Marshal(api.Agent{ID: "rec-" + host, Host: host, AdminStateUp: true,
		Configurations: api.AgentConfig{IntegrationBr: "br-int", Roles: roles}})
	lease, err := st.Grant(ctx, 30*time.Second)
	require.NoError(t, err)
	_, err = st.Txn(ctx, nil, []store.Op{{Key: store.AgentKey(host), Value: rec},
		{Key: store.AgentAliveKey(host), Value: []byte("{}"), Lease: lease}})
	require.NoError(t, err)
	return func() { require.NoError(t, st.Revoke(ctx, lease)) }
}

func rowsByType(t *testing.T, who caller) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, a := range call(t, who, "GET", "/v2.0/agents", nil).want(t, 200).list(t, "agents") {
		out[a["host"].(string)+"/"+a["agent_type"].(string)] = a
	}
	return out
}

func TestAgentRows(t *testing.T) {
	s, adm := dhcpServer(t, server.Config{})
	register(t, s.Store(), "net1", "dhcp", "l3", "metadata")
	register(t, s.Store(), "compute1")
	rows := rowsByType(t, adm)
	require.Len(t, rows, 4)
	require.Equal(t, "rec-compute1", rows["compute1/Open vSwitch agent"]["id"])
	dhcp := rows["net1/DHCP agent"]
	require.Equal(t, service.AgentRowID("net1", "dhcp"), dhcp["id"])
	require.Equal(t, "neutron-dhcp-agent", dhcp["binary"])
	require.Equal(t, "dnsmasq", dhcp["configurations"].(map[string]any)["dhcp_driver"])
	require.Equal(t, "neutron-l3-agent", rows["net1/L3 agent"]["binary"])
	require.Equal(t, "neutron-metadata-agent", rows["net1/Metadata agent"]["binary"])
	require.Equal(t, rows, rowsByType(t, adm), "ids are stable")
	got := call(t, adm, "GET", "/v2.0/agents?agent_type=DHCP+agent", nil).want(t, 200).list(t, "agents")
	require.Len(t, got, 1)

	id := dhcp["id"].(string)
	upd := call(t, adm, "PUT", "/v2.0/agents/"+id, map[string]any{"agent": map[string]any{"admin_state_up": false, "description": "d"}}).
		want(t, 200).obj(t, "agent")
	require.Equal(t, false, upd["admin_state_up"])
	require.Equal(t, "d", upd["description"])
	require.Equal(t, true, rows["net1/L3 agent"]["admin_state_up"], "settings are per row")
	call(t, adm, "PUT", "/v2.0/agents/"+id, map[string]any{"agent": map[string]any{"host": "x"}}).wantError(t, 400, "HTTPBadRequest")
	call(t, member("p-rows"), "PUT", "/v2.0/agents/"+id, map[string]any{"agent": map[string]any{"description": "x"}}).wantError(t, 404, "AgentNotFound")
	call(t, adm, "PUT", "/v2.0/agents/nope", map[string]any{"agent": map[string]any{"description": "x"}}).wantError(t, 404, "AgentNotFound")
}

// The scheduler API on one DHCP host and one compute host.
func TestDHCPAgentScheduler(t *testing.T) {
	s, adm := dhcpServer(t, server.Config{})
	register(t, s.Store(), "net1", "dhcp")
	register(t, s.Store(), "compute1")
	rows := rowsByType(t, adm)
	dhcp, ovs := rows["net1/DHCP agent"]["id"].(string), rows["compute1/Open vSwitch agent"]["id"].(string)
	mem := caller{project: "p-sched", url: adm.url}

	netID := mkNetwork(t, mem, map[string]any{"name": "n"})["id"].(string)
	sub := mkSubnet(t, mem, netID, "10.5.0.0/24", nil)
	var port map[string]any
	require.Eventually(t, func() bool {
		ps := call(t, adm, "GET", "/v2.0/ports?device_owner=network:dhcp&network_id="+netID, nil).want(t, 200).list(t, "ports")
		if len(ps) == 1 {
			port = ps[0]
		}
		return len(ps) == 1
	}, 10*time.Second, 20*time.Millisecond, "the scheduler creates the DHCP port")
	require.Equal(t, "net1", port["binding:host_id"])
	require.Equal(t, "p-sched", port["project_id"])
	require.Equal(t, service.DHCPDeviceID("net1", netID), port["device_id"])
	require.Equal(t, []string{"10.5.0.2"}, ips(port))
	require.Equal(t, sub["id"], port["fixed_ips"].([]any)[0].(map[string]any)["subnet_id"])

	agents := call(t, adm, "GET", "/v2.0/networks/"+netID+"/dhcp-agents", nil).want(t, 200).list(t, "agents")
	require.Len(t, agents, 1)
	require.Equal(t, dhcp, agents[0]["id"])
	nets := call(t, adm, "GET", "/v2.0/agents/"+dhcp+"/dhcp-networks", nil).want(t, 200).list(t, "networks")
	require.Len(t, nets, 1)
	require.Equal(t, netID, nets[0]["id"])
	require.Empty(t, call(t, adm, "GET", "/v2.0/agents/"+ovs+"/dhcp-networks", nil).want(t, 200).list(t, "networks"))

	body := map[string]any{"network_id": netID}
	call(t, adm, "POST", "/v2.0/agents/"+dhcp+"/dhcp-networks", body).wantError(t, 409, "NetworkHostedByDHCPAgent")
	call(t, adm, "POST", "/v2.0/agents/"+ovs+"/dhcp-networks", body).wantError(t, 404, "InvalidDHCPAgent")
	call(t, adm, "POST", "/v2.0/agents/nope/dhcp-networks", body).wantError(t, 404, "AgentNotFound")
	call(t, adm, "POST", "/v2.0/agents/"+dhcp+"/dhcp-networks", map[string]any{"network_id": "nope"}).wantError(t, 404, "NetworkNotFound")
	call(t, adm, "POST", "/v2.0/agents/"+dhcp+"/dhcp-networks", map[string]any{}).wantError(t, 400, "HTTPBadRequest")
	call(t, mem, "GET", "/v2.0/agents/"+dhcp+"/dhcp-networks", nil).wantError(t, 403, "PolicyNotAuthorized")
	call(t, mem, "GET", "/v2.0/networks/"+netID+"/dhcp-agents", nil).wantError(t, 403, "PolicyNotAuthorized")
	call(t, mem, "POST", "/v2.0/agents/"+dhcp+"/dhcp-networks", body).wantError(t, 403, "PolicyNotAuthorized")
	call(t, adm, "GET", "/v2.0/networks/nope/dhcp-agents", nil).wantError(t, 404, "NetworkNotFound")

	call(t, adm, "DELETE", "/v2.0/agents/"+dhcp+"/dhcp-networks/"+netID, nil).want(t, 204)
	call(t, adm, "DELETE", "/v2.0/agents/"+dhcp+"/dhcp-networks/"+netID, nil).wantError(t, 409, "NetworkNotHostedByDhcpAgent")
	require.Empty(t, call(t, adm, "GET", "/v2.0/networks/"+netID+"/dhcp-agents", nil).want(t, 200).list(t, "agents"))
	require.Empty(t, call(t, adm, "GET", "/v2.0/ports?device_owner=network:dhcp&network_id="+netID, nil).want(t, 200).list(t, "ports"))
	time.Sleep(200 * time.Millisecond)
	require.Empty(t, call(t, adm, "GET", "/v2.0/networks/"+netID+"/dhcp-agents", nil).want(t, 200).list(t, "agents"),
		"removed by hand: the scheduler does not put it back on the same host")

	call(t, adm, "POST", "/v2.0/agents/"+dhcp+"/dhcp-networks", body).want(t, 201)
	require.Eventually(t, func() bool {
		return len(call(t, adm, "GET", "/v2.0/ports?device_owner=network:dhcp&network_id="+netID, nil).want(t, 200).list(t, "ports")) == 1
	}, 10*time.Second, 20*time.Millisecond, "added back: the DHCP port returns")

	// A network without subnets can be placed by hand (tempest does).
	bare := mkNetwork(t, mem, map[string]any{"name": "bare"})["id"].(string)
	call(t, adm, "POST", "/v2.0/agents/"+dhcp+"/dhcp-networks", map[string]any{"network_id": bare}).want(t, 201)
	require.Len(t, call(t, adm, "GET", "/v2.0/agents/"+dhcp+"/dhcp-networks", nil).want(t, 200).list(t, "networks"), 2)

	call(t, mem, "DELETE", "/v2.0/networks/"+netID, nil).want(t, 204)
	require.Empty(t, call(t, adm, "GET", "/v2.0/ports?device_owner=network:dhcp&network_id="+netID, nil).want(t, 200).list(t, "ports"))

	call(t, adm, "PUT", "/v2.0/agents/"+dhcp, map[string]any{"agent": map[string]any{"admin_state_up": false}}).want(t, 200)
	other := mkNetwork(t, mem, map[string]any{"name": "o"})["id"].(string)
	call(t, adm, "POST", "/v2.0/agents/"+dhcp+"/dhcp-networks", map[string]any{"network_id": other}).wantError(t, 404, "InvalidDHCPAgent")
}

// A dead DHCP host shows alive=false at once; its networks move after the
// down time; a dead agent can then be deleted.
func TestDHCPAgentDownTime(t *testing.T) {
	const downTime = 2 * time.Second
	s, adm := dhcpServer(t, server.Config{AgentDownTime: downTime})
	kill1 := register(t, s.Store(), "net1", "dhcp")
	mem := caller{project: "p-down", url: adm.url}
	netID := mkNetwork(t, mem, map[string]any{"name": "n"})["id"].(string)
	mkSubnet(t, mem, netID, "10.6.0.0/24", nil)
	hosts := func() []string {
		var out []string
		for _, a := range call(t, adm, "GET", "/v2.0/networks/"+netID+"/dhcp-agents", nil).want(t, 200).list(t, "agents") {
			out = append(out, a["host"].(string))
		}
		return out
	}
	require.Eventually(t, func() bool { return len(hosts()) == 1 }, 10*time.Second, 20*time.Millisecond)
	register(t, s.Store(), "net2", "dhcp")
	dhcp1 := service.AgentRowID("net1", "dhcp")
	call(t, adm, "DELETE", "/v2.0/agents/"+dhcp1, nil).wantError(t, 409, "AgentInUse")

	kill1()
	killed := time.Now()
	require.Equal(t, false, call(t, adm, "GET", "/v2.0/agents/"+dhcp1, nil).want(t, 200).obj(t, "agent")["alive"])
	require.Equal(t, []string{"net1"}, hosts(), "still within the down time")
	require.Eventually(t, func() bool { h := hosts(); return len(h) == 1 && h[0] == "net2" }, 10*time.Second, 50*time.Millisecond)
	moved := time.Since(killed)
	t.Logf("network moved %.2f s after its DHCP host died (down time %v)", moved.Seconds(), downTime)
	require.GreaterOrEqual(t, moved, downTime)

	call(t, adm, "DELETE", "/v2.0/agents/"+dhcp1, nil).want(t, 204)
	rows := rowsByType(t, adm)
	require.NotContains(t, rows, "net1/DHCP agent")
	require.Contains(t, rows, "net2/DHCP agent")
}

// Two servers on one etcd: exactly one schedules.
func TestSchedulerOneLeaderAcrossServers(t *testing.T) {
	onSecond(t, admin) // starts the second server on srv's etcd
	require.Eventually(t, func() bool { return srv.Scheduler().Leading() != second.Scheduler().Leading() },
		10*time.Second, 20*time.Millisecond, "exactly one of two servers leads")
	time.Sleep(300 * time.Millisecond)
	require.NotEqual(t, srv.Scheduler().Leading(), second.Scheduler().Leading())
}

// The etcd election hands leadership over on resign and when the leader's
// session dies (its client gone), within the session TTL.
func TestEtcdElectorHandover(t *testing.T) {
	prefix := store.LeaderPrefix + "test-" + t.Name()
	newElector := func(id string) (*scheduler.EtcdElector, *etcdstore.Store) {
		st, err := etcdstore.Connect(srv.EtcdClient())
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		return &scheduler.EtcdElector{Client: st.Client(), Prefix: prefix, ID: id, TTL: 1}, st
	}
	a, _ := newElector("a")
	b, _ := newElector("b")
	c, cst := newElector("c")
	d, _ := newElector("d")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leadA, resignA, err := a.Campaign(ctx)
	require.NoError(t, err)
	type won struct {
		lead   context.Context
		resign func()
	}
	campaign := func(e *scheduler.EtcdElector) chan won {
		ch := make(chan won, 1)
		go func() {
			l, r, err := e.Campaign(ctx)
			if err == nil {
				ch <- won{l, r}
			}
		}()
		return ch
	}
	bWon := campaign(b)
	select {
	case <-bWon:
		t.Fatal("b leads while a does")
	case <-time.After(500 * time.Millisecond):
	}
	resignA()
	require.Error(t, leadA.Err(), "a's leadership context ends on resign")
	var wb won
	select {
	case wb = <-bWon:
	case <-time.After(5 * time.Second):
		t.Fatal("b did not take over after a resigned")
	}
	cWon := campaign(c)
	start := time.Now()
	wb.resign() // b steps down: c follows
	select {
	case <-cWon:
		t.Logf("handover after resign in %.0f ms", time.Since(start).Seconds()*1000)
	case <-time.After(5 * time.Second):
		t.Fatal("c did not take over")
	}
	dWon := campaign(d)
	start = time.Now()
	require.NoError(t, cst.Close()) // c dies without resigning: its session lease expires
	select {
	case <-dWon:
		t.Logf("handover after the leader died in %.2f s (session TTL 1 s)", time.Since(start).Seconds())
	case <-time.After(15 * time.Second):
		t.Fatal("d did not take over from a dead leader")
	}
}
