package dataplane

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/ovs/daemon/daemontest"
)

// TestTunnelPortsScale measures, on one real OVS (netdev), what a host
// pays for many peers on one VXLAN network in each tunnel port mode: br-tun
// ports, the first Apply with all peers, and the Apply when one more peer
// joins (what every host of the network does when a new host gets a port).
// Figures feed the choice of the default in docs/pipeline.md.
func TestTunnelPortsScale(t *testing.T) {
	const peers = 100
	for _, mode := range []string{hoststate.TunnelPortsPerPeer, hoststate.TunnelPortsFlow} {
		t.Run(mode, func(t *testing.T) {
			o := daemontest.Start(t)
			local := netip.MustParseAddr("10.98.0.1")
			dp := New(Config{Host: "host1", DatapathType: "netdev", OVSDB: o.DBSock(), RunDir: o.RunDir(), NetNS: o.NetNS(),
				LocalIP: local, TunnelTypes: []string{"vxlan"}, CanaryInterval: time.Hour})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			require.NoError(t, dp.Start(ctx))
			t.Cleanup(dp.Close)
			// One local port (an internal interface) makes the network local.
			_, err := o.Vsctl(ctx, "add-port", "br-int", "vm1", "--", "set", "Interface", "vm1", "type=internal",
				"external_ids:iface-id=port-1")
			require.NoError(t, err)
			n := hoststate.Network{ID: "net", Type: "vxlan", SegmentationID: 5000, MTU: 1450}
			st := func(k int) hoststate.State {
				s := hoststate.State{Host: "host1", LocalIP: local, TunnelTypes: []string{"vxlan"}, TunnelPorts: mode,
					Networks: map[string]hoststate.Network{"net": n},
					Ports: map[string]hoststate.Port{"port-1": {ID: "port-1", NetworkID: "net", MAC: "fa:16:3e:00:00:01",
						IPs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}, AdminStateUp: true}}}
				for i := range k {
					ip := netip.AddrFrom4([4]byte{10, 98, byte(1 + i/250), byte(2 + i%250)})
					s.Peers = append(s.Peers, hoststate.Peer{Host: fmt.Sprintf("h%03d", i), IP: ip, Networks: []string{"net"},
						Ports: []hoststate.Port{{ID: fmt.Sprintf("p%03d", i), NetworkID: "net", MAC: fmt.Sprintf("fa:16:3e:01:%02x:%02x", i/256, i%256),
							IPs: []netip.Addr{netip.AddrFrom4([4]byte{10, 0, byte(1 + i/250), byte(2 + i%250)})}, AdminStateUp: true}}})
				}
				return s
			}
			start := time.Now()
			res, err := dp.Apply(ctx, st(peers))
			require.NoError(t, err)
			first := time.Since(start)
			require.Len(t, res, 1)
			require.True(t, res[0].Bound)
			start = time.Now()
			_, err = dp.Apply(ctx, st(peers+1))
			require.NoError(t, err)
			join := time.Since(start)

			out, err := o.Vsctl(ctx, "list-ports", "br-tun")
			require.NoError(t, err)
			tunnels := 0
			for _, p := range strings.Fields(out) {
				if strings.HasPrefix(p, "vxlan-") {
					tunnels++
				}
			}
			flows, err := o.Ofctl(ctx, "dump-flows", "br-tun")
			require.NoError(t, err)
			nflows := strings.Count(flows, "cookie=")
			t.Logf("FIGURE: tunnel ports %s, %d peers: %d br-tun tunnel ports, %d br-tun flows; first Apply %v, Apply when one more peer joins %v",
				mode, peers+1, tunnels, nflows, first.Round(time.Millisecond), join.Round(time.Millisecond))
			want := peers + 1
			if mode == hoststate.TunnelPortsFlow {
				want = 1
			}
			require.Equal(t, want, tunnels)
			require.Contains(t, flows, "dl_dst=fa:16:3e:01:00:64", "the joining peer's port has its l2population flow")
		})
	}
}
