package dataplane

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/pipeline"
)

// seqStates are states one host goes through: networks of every type come
// and go, ports move between networks, lose port security or go admin
// down, peers change.
func seqStates() []hoststate.State {
	ip := netip.MustParseAddr
	nets := map[string]hoststate.Network{
		"net-a": {ID: "net-a", Type: "vxlan", SegmentationID: 111},
		"net-b": {ID: "net-b", Type: "gre", SegmentationID: 222},
		"net-c": {ID: "net-c", Type: "vlan", PhysicalNetwork: "physnet1", SegmentationID: 100},
		"net-d": {ID: "net-d", Type: "flat", PhysicalNetwork: "physnet1"},
	}
	port := func(id, net, mac, addr string) hoststate.Port {
		return hoststate.Port{ID: id, NetworkID: net, MAC: mac, IPs: []netip.Addr{ip(addr)}, PortSecurity: true, AdminStateUp: true}
	}
	state := func(peers []hoststate.Peer, ports ...hoststate.Port) hoststate.State {
		s := hoststate.State{Host: "h1", LocalIP: ip("10.99.0.1"), TunnelTypes: []string{"vxlan", "gre"},
			BridgeMappings: map[string]string{"physnet1": "br-ex"},
			Networks:       map[string]hoststate.Network{}, Ports: map[string]hoststate.Port{}, Peers: peers}
		for _, p := range ports {
			s.Ports[p.ID] = p
			s.Networks[p.NetworkID] = nets[p.NetworkID]
		}
		return s
	}
	peer := func(n byte, nets ...string) hoststate.Peer {
		return hoststate.Peer{Host: "h" + string('0'+n), IP: netip.AddrFrom4([4]byte{10, 99, 0, n}), Networks: nets}
	}
	noSec := port("p3", "net-a", "fa:16:3e:00:00:03", "10.0.0.3")
	noSec.PortSecurity = false
	down := port("p1", "net-a", "fa:16:3e:00:00:01", "10.0.0.1")
	down.AdminStateUp = false
	pairs := port("p2", "net-a", "fa:16:3e:00:00:02", "10.0.0.2")
	pairs.AllowedAddressPairs = []hoststate.AddressPair{{Prefix: netip.MustParsePrefix("10.0.0.128/25"), MAC: "fa:16:3e:00:00:99"}}
	return []hoststate.State{
		state(nil),
		state([]hoststate.Peer{peer(2, "net-a")}, port("p1", "net-a", "fa:16:3e:00:00:01", "10.0.0.1")),
		state([]hoststate.Peer{peer(2, "net-a", "net-b"), peer(3, "net-b")},
			port("p1", "net-a", "fa:16:3e:00:00:01", "10.0.0.1"), port("p2", "net-b", "fa:16:3e:00:00:02", "10.0.0.2"), noSec),
		state([]hoststate.Peer{peer(3, "net-b")},
			port("p2", "net-b", "fa:16:3e:00:00:02", "10.0.0.2"), port("p4", "net-c", "fa:16:3e:00:00:04", "10.1.0.4")),
		state(nil, down, port("p3", "net-c", "fa:16:3e:00:00:03", "10.1.0.3"), port("p4", "net-d", "fa:16:3e:00:00:04", "10.2.0.4")),
		state([]hoststate.Peer{peer(2, "net-a"), peer(3, "net-a")},
			port("p1", "net-a", "fa:16:3e:00:00:01", "10.0.0.1"), pairs, noSec, port("p4", "net-a", "fa:16:3e:00:00:04", "10.0.0.4")),
	}
}

// newFakeDataplane returns a started Dataplane on a fake OVS with four VM
// interfaces and one of an unknown port plugged into br-int.
func newFakeDataplane(t *testing.T) (*Dataplane, *fakeOVS) {
	f := newFakeOVS()
	d := New(Config{Host: "h1", BridgeMappings: map[string]string{"physnet1": "br-ex"}})
	d.flushZone = func(context.Context, int) error { return nil }
	require.NoError(t, d.start(context.Background(), f, f))
	t.Cleanup(d.Close)
	for _, p := range []string{"p1", "p2", "p3", "p4", "stray"} {
		f.plug("tap-"+p, p)
	}
	return d, f
}

// TestApplySequence applies the states in random orders: after each Apply,
// OVS must look exactly as if that state had been applied to a fresh host.
func TestApplySequence(t *testing.T) {
	states := seqStates()
	want := make([]string, len(states))
	for i, s := range states {
		d, f := newFakeDataplane(t)
		_, err := d.Apply(context.Background(), s)
		require.NoError(t, err)
		want[i] = f.String()
	}
	assert.Contains(t, want[2], "port vxlan-0a630002 type=vxlan")
	assert.Contains(t, want[2], "table=22,priority=1,dl_vlan=<net-b> actions=strip_vlan,load:0xde->NXM_NX_TUN_ID[],output:gre-0a630002,output:gre-0a630003")
	assert.Contains(t, want[3], "table=0,priority=4,in_port=phy-br-ex,dl_vlan=<net-c> actions=mod_vlan_vid:100,NORMAL")
	assert.Contains(t, want[4], "port tap-p1 type= options=map[] tag=4095")
	assert.NotContains(t, want[4], "vxlan-")

	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		d, f := newFakeDataplane(t)
		for _, i := range rng.Perm(len(states)) {
			_, err := d.Apply(context.Background(), states[i])
			require.NoError(t, err)
			require.Equal(t, want[i], f.String(), "round %d, state %d", round, i)
		}
	}
}

// TestApplyResults checks what Apply reports per port and that local
// VLANs are lowest-free, stable, and freed with their last port.
func TestApplyResults(t *testing.T) {
	states := seqStates()
	d, f := newFakeDataplane(t)
	var flushed []int
	d.flushZone = func(_ context.Context, zone int) error { flushed = append(flushed, zone); return nil }
	ctx := context.Background()
	res, err := d.Apply(ctx, states[2])
	require.NoError(t, err)
	assert.Equal(t, []hoststate.PortResult{
		{PortID: "p1", LocalVLAN: 1, Bound: true},
		{PortID: "p2", LocalVLAN: 2, Bound: true},
		{PortID: "p3", LocalVLAN: 1, Bound: true},
	}, res)
	assert.Equal(t, 4095, *f.ports["tap-stray"].Tag)
	assert.Equal(t, 4095, *f.ports["tap-p4"].Tag)

	// net-a goes away; net-b keeps 2; net-c takes the freed 1.
	res, err = d.Apply(ctx, states[3])
	require.NoError(t, err)
	assert.Equal(t, []hoststate.PortResult{
		{PortID: "p2", LocalVLAN: 2, Bound: true},
		{PortID: "p4", LocalVLAN: 1, Bound: true},
	}, res)
	assert.Equal(t, "net-c", f.ports["tap-p4"].OtherConfig[ocNetUUID])
	// Each new network's zone is emptied once: 1 and 2 when first used,
	// 1 again when net-c reuses it (net-a's entries must not decide net-c's
	// connections).
	assert.Equal(t, []int{1, 2, 1}, flushed)
	assert.Equal(t, "100", f.ports["tap-p4"].OtherConfig[ocSegID])

	// A restarted agent (new Dataplane, same OVS) keeps the numbering.
	d.Close()
	d2 := New(Config{Host: "h1", BridgeMappings: map[string]string{"physnet1": "br-ex"}})
	d2.flushZone = func(_ context.Context, zone int) error { flushed = append(flushed, zone); return nil }
	require.NoError(t, d2.start(ctx, f, f))
	defer d2.Close()
	assert.Equal(t, "2", f.bridges["br-int"].ExternalIDs[extRound])
	res, err = d2.Apply(ctx, states[3])
	require.NoError(t, err)
	assert.Equal(t, 2, res[0].LocalVLAN)
	assert.Equal(t, 1, res[1].LocalVLAN)
	assert.Equal(t, []int{1, 2, 1}, flushed, "a restarted agent keeps the conntrack entries of its networks")

	// Admin down: dead VLAN, not bound.
	res, err = d2.Apply(ctx, states[4])
	require.NoError(t, err)
	assert.Equal(t, hoststate.PortResult{PortID: "p1"}, res[0])
	assert.Equal(t, 4095, *f.ports["tap-p1"].Tag)
}

// flushOrder is a flowWriter that records whether a zone flush was still
// running when a bridge's flows went in.
type flushOrder struct {
	*fakeOVS
	flushing atomic.Int32
	early    atomic.Bool
}

func (o *flushOrder) Sync(ctx context.Context, br string, round uint16, fs []pipeline.Flow) error {
	o.early.Store(o.early.Load() || o.flushing.Load() > 0)
	return o.fakeOVS.Sync(ctx, br, round, fs)
}

func (o *flushOrder) Apply(ctx context.Context, br string, fs []pipeline.Flow) error {
	o.early.Store(o.early.Load() || o.flushing.Load() > 0)
	return o.fakeOVS.Apply(ctx, br, fs)
}

// The conntrack zones of new networks are flushed while the tags go in,
// but always before any flow that uses them.
func TestFlushBeforeFlows(t *testing.T) {
	f := newFakeOVS()
	o := &flushOrder{fakeOVS: f}
	d := New(Config{Host: "h1", BridgeMappings: map[string]string{"physnet1": "br-ex"}})
	var flushed []int
	d.flushZone = func(_ context.Context, zone int) error {
		o.flushing.Add(1)
		defer o.flushing.Add(-1)
		time.Sleep(20 * time.Millisecond)
		flushed = append(flushed, zone)
		return nil
	}
	ctx := context.Background()
	require.NoError(t, d.start(ctx, f, o))
	defer d.Close()
	for _, p := range []string{"p1", "p2", "p3", "p4", "stray"} {
		f.plug("tap-"+p, p)
	}
	_, err := d.Apply(ctx, seqStates()[2])
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2}, flushed)
	assert.False(t, o.early.Load(), "flows installed while a zone was being flushed")
}
