package scheduler

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/service"
	"github.com/vland/vland/internal/store"
)

// A network with a DHCP subnet gets one DHCP port on the least loaded
// DHCP host, with Neutron's shape; its addresses follow the DHCP subnets,
// and the port goes with the last DHCP subnet and with the network.
func TestPlacement(t *testing.T) {
	f := newFixture(t)
	f.agent("compute1") // compute only: never a DHCP host
	f.agent("net1", api.RoleDHCP, api.RoleL3)
	f.agent("net2", api.RoleCompute, api.RoleDHCP)
	s := f.scheduler(Config{})

	plain, _ := f.network(false, "10.9.0.0/24")
	n1, subs := f.network(true, "10.1.0.0/24")
	n2, _ := f.network(true, "10.2.0.0/24")
	reconcile(t, s)
	require.Empty(t, f.hosts(plain.ID), "no DHCP subnet, no DHCP port")
	require.Len(t, f.hosts(n1.ID), 1)
	h1 := f.hosts(n1.ID)[0]
	require.Contains(t, []string{"net1", "net2"}, h1)
	require.Len(t, f.hosts(n2.ID), 1)
	require.NotEqual(t, h1, f.hosts(n2.ID)[0], "the second network goes to the less loaded host")
	require.Equal(t, []string{h1}, f.agentsOf(n1.ID))

	p := f.dhcpPorts(n1.ID)[h1]
	require.Equal(t, service.DHCPDeviceID(h1, n1.ID), p.DeviceID)
	require.Regexp(t, `^dhcp[0-9a-f-]{36}-`+n1.ID+`$`, p.DeviceID)
	require.Equal(t, n1.ProjectID, p.ProjectID)
	require.Equal(t, []api.FixedIP{{SubnetID: subs[0].ID, IPAddress: "10.1.0.2"}}, p.FixedIPs)

	reconcile(t, s)
	require.Equal(t, p.ID, f.dhcpPorts(n1.ID)[h1].ID, "a second pass changes nothing")

	sub2 := f.subnet(n1.ID, "10.1.1.0/24", true)
	f.subnet(n1.ID, "10.1.2.0/24", false)
	reconcile(t, s)
	p2 := f.dhcpPorts(n1.ID)[h1]
	require.Equal(t, p.ID, p2.ID)
	require.ElementsMatch(t, []api.FixedIP{{SubnetID: subs[0].ID, IPAddress: "10.1.0.2"}, {SubnetID: sub2.ID, IPAddress: "10.1.1.2"}}, p2.FixedIPs)

	off := service.SubnetRequest{EnableDHCP: service.Some(false)}
	for _, id := range []string{subs[0].ID, sub2.ID} {
		_, err := f.svc.UpdateSubnet(adminCtx, id, off, -1)
		require.NoError(t, err)
	}
	reconcile(t, s)
	require.Empty(t, f.hosts(n1.ID), "no DHCP subnet left: the port goes")

	require.NoError(t, f.svc.DeleteNetwork(adminCtx, n2.ID, -1), "a network with its DHCP port deletes")
	reconcile(t, s)
	kvs, _, err := f.st.List(context.Background(), "/vland/dhcp-bindings/"+n2.ID+"/")
	require.NoError(t, err)
	require.Empty(t, kvs, "the binding of a deleted network goes")
}

// A dead DHCP host keeps its networks for the down time; then they move to
// a live host and its DHCP port goes.
func TestDownTimeMovesNetworks(t *testing.T) {
	f := newFixture(t)
	f.agent("net1", api.RoleDHCP)
	s := f.scheduler(Config{AgentDownTime: 10 * time.Second})
	n, _ := f.network(true, "10.1.0.0/24")
	reconcile(t, s)
	require.Equal(t, []string{"net1"}, f.hosts(n.ID))

	f.setAlive("net1", false)
	reconcile(t, s)
	require.Equal(t, []string{"net1"}, f.hosts(n.ID), "no other host: the network stays")
	f.agent("net2", api.RoleDHCP)
	f.now = f.now.Add(9 * time.Second)
	reconcile(t, s)
	require.Equal(t, []string{"net1"}, f.hosts(n.ID), "dead 9 s of a 10 s down time: not yet")
	require.Equal(t, f.now.Add(time.Second), s.wake, "the leader wakes when the down time ends")
	f.now = f.now.Add(2 * time.Second)
	reconcile(t, s)
	require.Equal(t, []string{"net2"}, f.hosts(n.ID), "dead past the down time: moved")
	require.Equal(t, []string{"net2"}, f.agentsOf(n.ID))
}

// Restarting the agent (dead for a moment) or the server (a new scheduler
// with fresh clocks) never moves a network.
func TestRestartDoesNotMove(t *testing.T) {
	f := newFixture(t)
	f.agent("net1", api.RoleDHCP)
	f.agent("net2", api.RoleDHCP)
	s := f.scheduler(Config{AgentDownTime: 10 * time.Second})
	n, _ := f.network(true, "10.1.0.0/24")
	reconcile(t, s)
	require.Equal(t, []string{"net1"}, f.hosts(n.ID))
	port := f.dhcpPorts(n.ID)["net1"].ID

	f.setAlive("net1", false) // agent restart: dead a moment
	reconcile(t, s)
	f.now = f.now.Add(3 * time.Second)
	f.setAlive("net1", true)
	reconcile(t, s)
	f.now = f.now.Add(time.Hour)
	reconcile(t, s)
	require.Equal(t, port, f.dhcpPorts(n.ID)["net1"].ID, "agent restart: same host, same port")

	f.setAlive("net1", false) // dead for an hour already, then the server restarts
	reconcile(t, s)
	f.now = f.now.Add(time.Hour)
	s2 := f.scheduler(Config{AgentDownTime: 10 * time.Second})
	reconcile(t, s2)
	require.Equal(t, []string{"net1"}, f.hosts(n.ID), "a new leader starts the down time afresh")
	f.now = f.now.Add(11 * time.Second)
	reconcile(t, s2)
	require.Equal(t, []string{"net2"}, f.hosts(n.ID))
}

// dhcp_agents_per_network=2 puts each network on two hosts; a host dead
// past the down time is replaced when a third exists and kept otherwise.
func TestTwoAgentsPerNetwork(t *testing.T) {
	f := newFixture(t)
	f.agent("net1", api.RoleDHCP)
	f.agent("net2", api.RoleDHCP)
	s := f.scheduler(Config{AgentsPerNetwork: 2, AgentDownTime: time.Second})
	n, _ := f.network(true, "10.1.0.0/24")
	reconcile(t, s)
	require.Equal(t, []string{"net1", "net2"}, f.hosts(n.ID))
	ips := map[string]bool{}
	for _, p := range f.dhcpPorts(n.ID) {
		ips[p.FixedIPs[0].IPAddress] = true
	}
	require.Len(t, ips, 2, "each DHCP port has its own address")

	f.setAlive("net2", false)
	reconcile(t, s)
	f.now = f.now.Add(2 * time.Second)
	reconcile(t, s)
	require.Equal(t, []string{"net1", "net2"}, f.hosts(n.ID), "no third host: the dead one keeps its place")

	f.agent("net3", api.RoleDHCP)
	reconcile(t, s)
	require.Equal(t, []string{"net1", "net3"}, f.hosts(n.ID))
}

// An admin moving a network by hand: removed from a host, it goes to
// another and never back by itself; added back, it is served there again.
func TestManualMove(t *testing.T) {
	f := newFixture(t)
	f.agent("net1", api.RoleDHCP)
	f.agent("net2", api.RoleDHCP)
	s := f.scheduler(Config{})
	n, _ := f.network(true, "10.1.0.0/24")
	reconcile(t, s)
	require.Equal(t, []string{"net1"}, f.hosts(n.ID))

	dhcp1 := service.AgentRowID("net1", api.RoleDHCP)
	require.NoError(t, f.svc.RemoveDHCPNetwork(adminCtx, dhcp1, n.ID))
	require.Empty(t, f.hosts(n.ID), "the DHCP port goes with the binding")
	reconcile(t, s)
	require.Equal(t, []string{"net2"}, f.hosts(n.ID))
	reconcile(t, s)
	require.Equal(t, []string{"net2"}, f.hosts(n.ID))

	require.NoError(t, f.svc.AddDHCPNetwork(adminCtx, dhcp1, n.ID))
	reconcile(t, s)
	require.Equal(t, []string{"net1", "net2"}, f.hosts(n.ID), "added by hand beyond dhcp_agents_per_network")
	nets, err := f.svc.ListDHCPNetworks(adminCtx, dhcp1)
	require.NoError(t, err)
	require.Len(t, nets, 1)
	require.Equal(t, n.ID, nets[0].ID)
}

// Of two schedulers sharing an election one leads; when it stops the
// other takes over, and together they never make two ports.
func TestOneLeader(t *testing.T) {
	f := newFixture(t)
	f.agent("net1", api.RoleDHCP)
	el := NewLocalElection()
	cfg := Config{Tick: 10 * time.Millisecond, Debounce: time.Millisecond}
	a, b := New(f.st, f.svc, el, cfg), New(f.st, f.svc, el, cfg)
	actx, stopA := context.WithCancel(context.Background())
	bctx, stopB := context.WithCancel(context.Background())
	defer stopB()
	doneA := make(chan struct{})
	go func() { a.Run(actx); close(doneA) }()
	require.Eventually(t, a.Leading, 2*time.Second, 5*time.Millisecond)
	go b.Run(bctx)

	n, _ := f.network(true, "10.1.0.0/24")
	require.Eventually(t, func() bool { return len(f.hosts(n.ID)) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.False(t, b.Leading(), "one leader at a time")

	stopA()
	<-doneA
	require.Eventually(t, b.Leading, 2*time.Second, 5*time.Millisecond)
	n2, _ := f.network(true, "10.2.0.0/24")
	require.Eventually(t, func() bool { return len(f.hosts(n2.ID)) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Len(t, f.hosts(n.ID), 1)
}

// A running leader wakes for what matters: a DHCP port deleted by hand
// comes back; tenant ports and agent heartbeats wake nobody.
func TestRunReactsToDHCPPortChanges(t *testing.T) {
	f := newFixture(t)
	f.agent("net1", api.RoleDHCP)
	s := New(f.st, f.svc, NewLocalElection(), Config{Tick: 10 * time.Millisecond, Debounce: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	n, _ := f.network(true, "10.1.0.0/24")
	require.Eventually(t, func() bool { return len(f.hosts(n.ID)) == 1 }, 5*time.Second, 10*time.Millisecond)
	old := f.dhcpPorts(n.ID)["net1"].ID
	require.NoError(t, f.svc.DeletePort(adminCtx, old, -1))
	require.Eventually(t, func() bool { p, ok := f.dhcpPorts(n.ID)["net1"]; return ok && p.ID != old },
		5*time.Second, 10*time.Millisecond, "the scheduler puts the DHCP port back")

	require.True(t, s.relevant(store.Event{Type: store.EventDelete, KV: store.KV{Key: store.NetworkPortKey(n.ID, f.dhcpPorts(n.ID)["net1"].ID)}}))
	dhcp, _ := json.Marshal(f.dhcpPorts(n.ID)["net1"])
	require.True(t, s.relevant(store.Event{Type: store.EventPut, KV: store.KV{Key: store.NetworkPortKey(n.ID, "y"), Value: dhcp}}), "a DHCP port's copy")
	tenant, _ := json.Marshal(api.Port{ID: "x", NetworkID: n.ID, DeviceOwner: "compute:nova"})
	require.False(t, s.relevant(store.Event{Type: store.EventPut, KV: store.KV{Key: store.NetworkPortKey(n.ID, "x"), Value: tenant}}), "a tenant port's copy")
	// Values of servers before the index carried the ports' JSON.
	require.False(t, s.relevant(store.Event{Type: store.EventPut, KV: store.KV{Key: store.NetworkPortKey(n.ID, "x"), Value: []byte("compute:nova")}}))
	require.True(t, s.relevant(store.Event{Type: store.EventPut, KV: store.KV{Key: store.NetworkPortKey(n.ID, "y"), Value: []byte("network:dhcp")}}))
	require.False(t, s.relevant(store.Event{Type: store.EventDelete, KV: store.KV{Key: store.NetworkPortKey(n.ID, "x")}}))
	rec, _ := json.Marshal(api.Agent{Host: "net1", Configurations: api.AgentConfig{IntegrationBr: "br-int", Roles: []string{"dhcp"}, Devices: 7}})
	require.False(t, s.relevant(store.Event{Type: store.EventPut, KV: store.KV{Key: store.AgentKey("net1"), Value: rec}}), "a heartbeat rewrite")
	rec, _ = json.Marshal(api.Agent{Host: "net1", Configurations: api.AgentConfig{IntegrationBr: "br-int", Roles: []string{"compute"}}})
	require.True(t, s.relevant(store.Event{Type: store.EventPut, KV: store.KV{Key: store.AgentKey("net1"), Value: rec}}), "the dhcp role went")
}

// Many networks spread evenly over the DHCP hosts; the figures are one
// pass that places them all and one that finds nothing to do.
func TestBalanceAndPassTime(t *testing.T) {
	f := newFixture(t)
	for _, h := range []string{"net1", "net2", "net3"} {
		f.agent(h, api.RoleDHCP)
	}
	s := f.scheduler(Config{})
	const nets = 150
	ids := make([]string, nets)
	for i := range ids {
		n, _ := f.network(true, "10.1.0.0/24")
		ids[i] = n.ID
	}
	start := time.Now()
	reconcile(t, s)
	placed := time.Since(start)
	start = time.Now()
	reconcile(t, s)
	idle := time.Since(start)
	t.Logf("FIGURE: %d networks on 3 DHCP hosts: placing pass %v, idle pass %v", nets, placed.Round(time.Millisecond), idle.Round(time.Millisecond))
	per := map[string]int{}
	for _, id := range ids {
		hs := f.hosts(id)
		require.Len(t, hs, 1)
		per[hs[0]]++
	}
	require.Equal(t, map[string]int{"net1": nets / 3, "net2": nets / 3, "net3": nets / 3}, per)
}

// A pass finds the DHCP ports through the network port index whether its
// values are the ports' JSON or, as older servers wrote them, the
// device_owner alone: no port is created twice during an upgrade.
func TestSnapshotReadsOldIndexValues(t *testing.T) {
	f := newFixture(t)
	f.agent("net1", api.RoleDHCP)
	s := f.scheduler(Config{})
	n, _ := f.network(true, "10.1.0.0/24")
	reconcile(t, s)
	p := f.dhcpPorts(n.ID)["net1"]
	snap, err := read(context.Background(), f.st)
	require.NoError(t, err)
	require.Len(t, snap.ports, 1, "found through the port's JSON")
	_, err = f.st.Txn(context.Background(), nil, []store.Op{{Key: store.NetworkPortKey(n.ID, p.ID), Value: []byte("network:dhcp")}})
	require.NoError(t, err)
	snap, err = read(context.Background(), f.st)
	require.NoError(t, err)
	require.Len(t, snap.ports, 1, "found through the old device_owner value")
	require.Equal(t, p.ID, snap.ports[0].ID)
	reconcile(t, s)
	require.Equal(t, []string{"net1"}, f.hosts(n.ID))
	require.Equal(t, p.ID, f.dhcpPorts(n.ID)["net1"].ID, "the port is kept, not made again")
}
