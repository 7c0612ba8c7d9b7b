package probe_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/link"
	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/probe"
	"github.com/vland/vland/internal/testutil"
)

// TestAFPacketCapturesEveryKind runs the real Wire on two namespaces joined
// by a plain veth pair, where nothing filters: every frame of every kind,
// the forged ones included, must be captured at the other end, none at the
// sender's own NIC. This is what makes "captured nothing" in the lab mean
// "nothing arrived".
func TestAFPacketCapturesEveryKind(t *testing.T) {
	testutil.RequireRoot(t)
	p := testutil.Prefix()
	eps := []probe.Endpoint{
		{Name: "x1", Project: "x", IP: "10.9.0.1", MAC: "fa:16:3e:00:09:01", NetNS: p + "-x1"},
		{Name: "x2", Project: "x", IP: "10.9.0.2", MAC: "fa:16:3e:00:09:02", NetNS: p + "-x2"},
	}
	for _, e := range eps {
		require.NoError(t, netns.Create(e.NetNS))
		t.Cleanup(func() { _ = netns.Delete(e.NetNS) })
		// No IPv6: the kernel then sends nothing by itself on these NICs.
		_, err := netns.Run(context.Background(), e.NetNS, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		require.NoError(t, err)
	}
	mac := func(s string) net.HardwareAddr { m, _ := net.ParseMAC(s); return m }
	require.NoError(t, link.AddVeth(link.End{NS: eps[0].NetNS, Name: "eth0", MAC: mac(eps[0].MAC)},
		link.End{NS: eps[1].NetNS, Name: "eth0", MAC: mac(eps[1].MAC)}))
	for _, e := range eps {
		n, err := link.Open(e.NetNS)
		require.NoError(t, err)
		require.NoError(t, n.SetUp("eth0"))
		n.Close()
	}

	// No ping here (no addresses): the Execer says every ping works and
	// reports the right MAC, so the verdicts rest on the capture alone.
	run := func(_ context.Context, vm string, argv ...string) ([]byte, error) {
		if argv[0] == "ip" && argv[1] == "-j" {
			peer := eps[0]
			if vm == eps[0].Name {
				peer = eps[1]
			}
			return []byte(`[{"lladdr":"` + peer.MAC + `"}]`), nil
		}
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rs, err := probe.Matrix(ctx, run, probe.AFPacket{}, eps)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	for _, r := range rs {
		require.Equal(t, probe.Reached, r.Verdict, "%s -> %s: %s", r.From, r.To, r.Detail)
		for k, c := range r.Kinds {
			require.Equal(t, c.Sent, c.Seen, "%s -> %s: %s", r.From, r.To, probe.Kind(k))
		}
		require.Equal(t, probe.FramesPerPair(), r.Seen())
		require.Zero(t, r.Stray, "frames counted twice, or not sent by the probe")
	}
	t.Logf("\n%s%s", probe.Table(eps, rs), probe.Sum(rs).Summary())

	// A capture sees what arrives, not what its own VM sends.
	c, err := probe.AFPacket{}.Listen(eps[0])
	require.NoError(t, err)
	frame := make([]byte, 60)
	copy(frame, "\xff\xff\xff\xff\xff\xff\xfa\x16\x3e\x00\x09\x01\x88\xb5")
	require.NoError(t, probe.AFPacket{}.Send(ctx, eps[0], [][]byte{frame}))
	time.Sleep(200 * time.Millisecond)
	require.Zero(t, c.Received(), "outgoing frame captured")
	require.NoError(t, probe.AFPacket{}.Send(ctx, eps[1], [][]byte{frame}))
	require.Eventually(t, func() bool { return c.Received() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Len(t, c.Stop(), 1)

	// An endpoint without its namespace is an error, not a verdict.
	bad := append([]probe.Endpoint{}, eps...)
	bad[1].NetNS = p + "-missing"
	_, err = probe.Matrix(ctx, run, probe.AFPacket{}, bad)
	require.ErrorIs(t, err, netns.ErrNotFound)
}
