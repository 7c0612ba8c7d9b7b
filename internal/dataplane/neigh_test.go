package dataplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/testutil"
)

// fakeNeighCmds is ovs-vswitchd's route table and tunnel neighbour cache:
// an arping that is answered adds the next hop to the cache, as
// ovs-vswitchd's snooping does.
type fakeNeighCmds struct {
	mu       sync.Mutex
	routes   map[string]string // peer -> ovs/route/lookup output
	cache    map[string]string // next hop -> bridge
	silent   map[string]bool   // next hops that never answer
	calls    []string
	arpinged chan string
}

func newFakeNeighCmds() *fakeNeighCmds {
	return &fakeNeighCmds{routes: map[string]string{}, cache: map[string]string{}, silent: map[string]bool{},
		arpinged: make(chan string, 100)}
}

// route makes peer reachable via bridge, through gw ("" = on-link).
func (f *fakeNeighCmds) route(peer, bridge, gw string) {
	if gw == "" {
		gw = "::"
	}
	f.routes[peer] = fmt.Sprintf("src 172.31.0.11\ngateway %s\ndev %s\n", gw, bridge)
}

func (f *fakeNeighCmds) appctl(_ context.Context, args ...string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, strings.Join(args, " "))
	switch args[0] {
	case "tnl/neigh/show":
		var b strings.Builder
		b.WriteString("IP                                            MAC                 Bridge\n")
		b.WriteString("==========================================================================\n")
		for ip, br := range f.cache {
			fmt.Fprintf(&b, "%-45s fa:16:3e:aa:bb:cc   %s\n", ip, br)
		}
		return b.String(), nil
	case "ovs/route/lookup":
		if out, ok := f.routes[args[1]]; ok {
			return out, nil
		}
		return "Not found\n", errors.New("exit status 2")
	}
	return "", errors.New("unknown command")
}

func (f *fakeNeighCmds) arping(_ context.Context, dev string, ip netip.Addr) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := "arping " + dev + " " + ip.String()
	f.calls = append(f.calls, call)
	f.arpinged <- call
	if f.silent[ip.String()] {
		return false, nil
	}
	f.cache[ip.String()] = dev
	return true, nil
}

// take returns the commands run since the last take.
func (f *fakeNeighCmds) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

// TestNeighPrimer checks which next hops the primer arpings: the ones
// missing from the cache, each once however many peers sit behind it,
// through the bridge ovs-vswitchd routes by; a peer without a route costs
// one lookup per recheck, a primed one no more than the cache read.
func TestNeighPrimer(t *testing.T) {
	ctx := context.Background()
	f := newFakeNeighCmds()
	f.route("172.31.0.12", "br-phy", "")                // on-link, not cached
	f.route("172.31.0.13", "br-phy", "")                // on-link, cached already
	f.route("10.20.0.5", "br-phy", "172.31.0.1")        // two peers behind one router
	f.route("10.20.0.6", "br-phy", "::ffff:172.31.0.1") // (OVS prints mapped gateways either way)
	f.route("fd00::7", "br-phy6", "")                   // IPv6: not primed
	f.cache["172.31.0.13"] = "br-phy"
	n := newNeighPrimer(f, slog.New(slog.DiscardHandler))
	t0 := time.Now()

	n.update(addrs("172.31.0.12", "172.31.0.13", "10.20.0.5", "10.20.0.6", "fd00::7", "192.0.2.9"))
	n.pass(ctx, t0)
	assert.Equal(t, []string{
		"tnl/neigh/show",
		"ovs/route/lookup 172.31.0.12",
		"ovs/route/lookup 172.31.0.13",
		"ovs/route/lookup 10.20.0.5",
		"ovs/route/lookup 10.20.0.6",
		"ovs/route/lookup fd00::7",
		"ovs/route/lookup 192.0.2.9", // no route: nothing to prime
		"arping br-phy 172.31.0.12",
		"arping br-phy 172.31.0.1",
	}, f.take())

	// Everything answered: a pass only reads the cache, and the peer
	// without a route is not looked up again before the recheck.
	n.pass(ctx, t0.Add(time.Second))
	assert.Equal(t, []string{"tnl/neigh/show"}, f.take())
	n.pass(ctx, t0.Add(neighRecheck))
	assert.Equal(t, []string{"tnl/neigh/show", "ovs/route/lookup fd00::7", "ovs/route/lookup 192.0.2.9"}, f.take())

	// An entry aged out of the cache is primed again (its route looked up
	// afresh, it is old); one whose next hop does not answer is retried on
	// the next pass, the route not looked up again before the recheck.
	delete(f.cache, "172.31.0.13")
	f.silent["172.31.0.13"] = true
	n.pass(ctx, t0.Add(neighRecheck+time.Second))
	assert.Equal(t, []string{"tnl/neigh/show", "ovs/route/lookup 172.31.0.13", "arping br-phy 172.31.0.13"}, f.take())
	n.pass(ctx, t0.Add(neighRecheck+2*time.Second))
	assert.Equal(t, []string{"tnl/neigh/show", "arping br-phy 172.31.0.13"}, f.take())

	// A peer that leaves is forgotten; when it comes back it is new.
	require.Len(t, n.kick, 1)
	<-n.kick
	n.update(addrs("172.31.0.12"))
	assert.Empty(t, n.kick, "no new peer, no wake-up")
	n.update(addrs("172.31.0.12", "10.20.0.5"))
	assert.Len(t, n.kick, 1, "a new peer wakes the primer")
	n.pass(ctx, t0.Add(neighRecheck+3*time.Second))
	assert.Equal(t, []string{"tnl/neigh/show", "ovs/route/lookup 10.20.0.5"}, f.take())
}

func TestParseNeighOutputs(t *testing.T) {
	r, ok := parseRouteLookup("src 172.31.0.11\ngateway ::\ndev br-phy\n", netip.MustParseAddr("172.31.0.12"))
	assert.True(t, ok)
	assert.Equal(t, neighRoute{bridge: "br-phy", nextHop: netip.MustParseAddr("172.31.0.12")}, r)
	r, ok = parseRouteLookup("src 172.31.0.11\ngateway 172.31.0.1\ndev br-phy\n", netip.MustParseAddr("10.0.0.1"))
	assert.True(t, ok)
	assert.Equal(t, neighRoute{bridge: "br-phy", nextHop: netip.MustParseAddr("172.31.0.1")}, r)
	_, ok = parseRouteLookup("Not found\n", netip.MustParseAddr("10.0.0.1"))
	assert.False(t, ok)

	show := "IP                                            MAC                 Bridge\n" +
		"==========================================================================\n" +
		"172.31.0.13                                   0a:58:ac:1f:00:0d   br-phy\n" +
		"fd00::13                                      0a:58:ac:1f:00:0e   br-phy   STATIC\n"
	assert.Equal(t, map[neighRoute]bool{
		{bridge: "br-phy", nextHop: netip.MustParseAddr("172.31.0.13")}: true,
		{bridge: "br-phy", nextHop: netip.MustParseAddr("fd00::13")}:    true,
	}, parseTnlNeigh(show))
}

// TestApplyPrimesNeighbours: on the userspace datapath, Apply hands the
// tunnel peers to the primer, which arpings their next hops in the
// background; the kernel datapath has no primer.
func TestApplyPrimesNeighbours(t *testing.T) {
	f := newFakeOVS()
	d := New(Config{Host: "h1", DatapathType: "netdev", BridgeMappings: map[string]string{"physnet1": "br-ex"}})
	cmds := newFakeNeighCmds()
	cmds.route("10.99.0.2", "br-phy", "")
	cmds.route("10.99.0.3", "br-phy", "")
	d.neigh = newNeighPrimer(cmds, slog.New(slog.DiscardHandler))
	d.flushZone = func(context.Context, int) error { return nil }
	require.NoError(t, d.start(context.Background(), f, f))
	t.Cleanup(d.Close)
	for _, p := range []string{"p1", "p2", "p3", "p4", "stray"} {
		f.plug("tap-"+p, p)
	}
	states := seqStates()
	_, err := d.Apply(context.Background(), states[2]) // peers 10.99.0.2 and .3
	require.NoError(t, err)
	var got []string
	for range 2 {
		select {
		case c := <-cmds.arpinged:
			got = append(got, c)
		case <-time.After(5 * time.Second):
			t.Fatalf("primer did not arping both peers, got %v", got)
		}
	}
	assert.ElementsMatch(t, []string{"arping br-phy 10.99.0.2", "arping br-phy 10.99.0.3"}, got)

	assert.Nil(t, New(Config{Host: "h1", DatapathType: "system"}).neigh, "the kernel resolves neighbours itself")
}

// TestTunnelNeighboursOnOVS: on two real userspace-datapath switches with
// no traffic at all, a tunnel peer's underlay address enters ovs-vswitchd's
// neighbour cache as soon as Apply creates the tunnel (without the primer
// it stays empty until a packet is dropped for it), and again after the
// entry is lost (flushed here, aged out in life) or ovs-vswitchd restarts.
func TestTunnelNeighboursOnOVS(t *testing.T) {
	testutil.RequireBinary(t, "arping")
	l := newLab(t)
	l.nets["net-a"] = hoststate.Network{ID: "net-a", Type: "vxlan", SegmentationID: 111, MTU: 1450}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, h := range l.hosts {
		h.dp = New(Config{Host: h.name, DatapathType: "netdev", OVSDB: h.ovs.DBSock(), RunDir: h.ovs.RunDir(),
			NetNS: h.ovs.NetNS(), LocalIP: h.ip, TunnelTypes: []string{"vxlan"}, CanaryInterval: time.Hour})
		h.dp.neigh.recheck = 300 * time.Millisecond
		require.NoError(t, h.dp.Start(ctx))
		t.Cleanup(h.dp.Close)
	}
	neighs := func(h *labHost) string {
		out, err := h.ovs.Appctl(ctx, "ovs-vswitchd", "tnl/neigh/show")
		if err != nil {
			return err.Error() // (polled from require.Eventually's goroutine)
		}
		return out
	}
	knows := func(h, peer *labHost) bool { return strings.Contains(neighs(h), peer.ip.String()+" ") }
	h1, h2 := l.hosts[0], l.hosts[1]
	require.False(t, knows(h1, h2) || knows(h2, h1), "a fresh switch knows no neighbour:\n%s", neighs(h1))

	start := time.Now()
	for _, pair := range [][2]*labHost{{h1, h2}, {h2, h1}} {
		h, peer := pair[0], pair[1]
		s := hoststate.State{Host: h.name, LocalIP: h.ip, TunnelTypes: []string{"vxlan"}, TunnelPorts: hoststate.TunnelPortsFlow,
			Networks: map[string]hoststate.Network{"net-a": l.nets["net-a"]},
			Peers:    []hoststate.Peer{{Host: peer.name, IP: peer.ip, Networks: []string{"net-a"}}}}
		_, err := h.dp.Apply(ctx, s)
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return knows(h1, h2) && knows(h2, h1) }, 3*time.Second, 20*time.Millisecond,
		"host1:\n%s\nhost2:\n%s", neighs(h1), neighs(h2))
	t.Logf("FIGURE: tunnel neighbours known %v after Apply", time.Since(start).Round(time.Millisecond))

	// An entry ages out after minutes, long after the datapath flow of the
	// last ARP reply went (10 s idle): purge that flow too, or the next
	// reply would skip the upcall in which ovs-vswitchd snoops it.
	for _, cmd := range []string{"tnl/neigh/flush", "revalidator/purge"} {
		_, err := h1.ovs.Appctl(ctx, "ovs-vswitchd", cmd)
		require.NoError(t, err)
	}
	require.False(t, knows(h1, h2))
	require.Eventually(t, func() bool { return knows(h1, h2) }, 3*time.Second, 20*time.Millisecond, "primed again after the entry went")

	// A restarted ovs-vswitchd starts with an empty cache.
	require.NoError(t, h1.ovs.RestartVswitchd(ctx))
	start = time.Now()
	require.Eventually(t, func() bool { return knows(h1, h2) }, 5*time.Second, 50*time.Millisecond, "primed again after a vswitchd restart")
	t.Logf("FIGURE: tunnel neighbour known again %v after ovs-vswitchd restarted", time.Since(start).Round(time.Millisecond))
}
