package dataplane

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/hoststate"
)

// TestTwoHosts runs seeds 000/001 on two real OVS instances: VMs on a
// VXLAN network and on a GRE network with the same CIDR talk across hosts
// and not across networks; anti-spoofing drops spoofers unless port
// security is off; a vswitchd restart is detected and repaired.
func TestTwoHosts(t *testing.T) {
	l := newLab(t)
	h1, h2 := l.hosts[0], l.hosts[1]
	l.nets["net-a"] = hoststate.Network{ID: "net-a", Type: "vxlan", SegmentationID: 111, MTU: 1450}
	l.nets["net-b"] = hoststate.Network{ID: "net-b", Type: "gre", SegmentationID: 222, MTU: 1450}
	for _, h := range l.hosts {
		l.start(h, "vxlan", "gre")
	}
	// A new network's conntrack zone is emptied through the host's own
	// ovs-vswitchd (OVS_RUNDIR): the command must work on a real switch.
	require.NoError(t, h1.dp.flushConntrackZone(context.Background(), 4000))
	a1 := l.addVM(h1, "a1", "net-a", "fa:16:3e:00:00:a1", "10.0.0.1/24")
	l.addVM(h2, "a2", "net-a", "fa:16:3e:00:00:a2", "10.0.0.2/24")
	b1 := l.addVM(h1, "b1", "net-b", "fa:16:3e:00:00:b1", "10.0.0.1/24")
	l.addVM(h2, "b2", "net-b", "fa:16:3e:00:00:b2", "10.0.0.2/24")
	l.addVM(h2, "b3", "net-b", "fa:16:3e:00:00:b3", "10.0.0.3/24")
	arpSpoof := l.addVM(h1, "sa", "net-a", "fa:16:3e:00:00:5a", "10.0.0.9/24") // port says .5
	arpSpoof.port.IPs[0] = arpSpoof.port.IPs[0].Prev().Prev().Prev().Prev()
	macSpoof := l.addVM(h1, "sm", "net-a", "fa:16:3e:00:00:66", "10.0.0.6/24")
	macSpoof.port.MAC = "fa:16:3e:00:00:6a" // the VM uses another MAC than its port's

	start := time.Now()
	res := l.applyAll("vxlan", "gre")
	t.Logf("first apply of both hosts: %v", time.Since(start))
	for _, vm := range l.vms {
		assert.True(t, res[vm.port.ID].Bound, vm.port.ID)
	}
	start = time.Now()
	l.applyAll("vxlan", "gre")
	t.Logf("converged re-apply of both hosts: %v", time.Since(start))
	assert.Equal(t, 1, res["port-a1"].LocalVLAN)
	assert.Equal(t, 2, res["port-b1"].LocalVLAN)

	t.Run("vxlan", func(t *testing.T) {
		start := time.Now()
		require.True(t, a1.ping("10.0.0.2"), "a1 -> a2 over VXLAN")
		t.Logf("first ping: %v", time.Since(start))
		assert.Equal(t, "fa:16:3e:00:00:a2", a1.neighMAC(t, "10.0.0.2"))
		tun := h1.dumpFlows(t, "br-tun")
		assert.Regexp(t, `table=4,.*tun_id=0x6f actions=mod_vlan_vid:1,resubmit\(,10\)`, tun)
		assert.Regexp(t, `table=20,.*hard_timeout=300.*dl_dst=fa:16:3e:00:00:a2`, tun, "learned flow")
		assert.Contains(t, tun, "cookie=0x766d000000000006")
	})
	t.Run("gre same cidr", func(t *testing.T) {
		require.True(t, b1.ping("10.0.0.2"), "b1 -> b2 over GRE")
		assert.Equal(t, "fa:16:3e:00:00:b2", b1.neighMAC(t, "10.0.0.2"))
		assert.Regexp(t, `table=3,.*tun_id=0xde actions=mod_vlan_vid:2`, h1.dumpFlows(t, "br-tun"))
		assert.True(t, b1.ping("10.0.0.3"))
		assert.False(t, a1.ping("10.0.0.3"), "net-a must not reach net-b's 10.0.0.3")
	})
	t.Run("spoofing", func(t *testing.T) {
		assert.False(t, arpSpoof.ping("10.0.0.2"), "ARP spoofer")
		assert.False(t, macSpoof.ping("10.0.0.2"), "MAC spoofer")
		arpSpoof.port.PortSecurity, macSpoof.port.PortSecurity = false, false
		l.applyAll("vxlan", "gre")
		assert.True(t, arpSpoof.ping("10.0.0.2"), "ARP spoofer without port security")
		assert.True(t, macSpoof.ping("10.0.0.2"), "MAC spoofer without port security")
	})
	t.Run("vswitchd restart", func(t *testing.T) {
		ctx := context.Background()
		drain(h1.dp.Changes())
		require.NoError(t, h1.ovs.RestartVswitchd(ctx))
		start := time.Now()
		select {
		case <-h1.dp.Changes():
		case <-time.After(10 * time.Second):
			t.Fatal("no change signalled after vswitchd restart")
		}
		t.Logf("restart signalled after %v", time.Since(start))
		// Wait until the canary says so (the first signal may be the OVSDB one).
		require.Eventually(t, func() bool {
			_, err := h1.dp.Apply(ctx, l.state(h1, "vxlan", "gre"))
			return err == nil && strings.Contains(h1.dumpFlows(t, "br-int", "table=23"), "cookie=")
		}, 10*time.Second, 200*time.Millisecond)
		t.Logf("flows back after %v", time.Since(start))
		assert.True(t, a1.ping("10.0.0.2"), "a1 -> a2 after restart")
	})
}

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// TestProviderNetworks: a flat and a VLAN network on physnet1 (br-ex on
// both hosts, joined by a "physical" link) carry VM traffic between hosts,
// isolated from each other although they use the same CIDR.
func TestProviderNetworks(t *testing.T) {
	l := newLab(t)
	l.mappings = map[string]string{"physnet1": "br-ex"}
	h1, h2 := l.hosts[0], l.hosts[1]
	for _, h := range l.hosts {
		l.start(h, "vxlan")
	}
	l.connectProvider("br-ex")
	l.nets["net-f"] = hoststate.Network{ID: "net-f", Type: "flat", PhysicalNetwork: "physnet1"}
	l.nets["net-v"] = hoststate.Network{ID: "net-v", Type: "vlan", PhysicalNetwork: "physnet1", SegmentationID: 100}
	f1 := l.addVM(h1, "f1", "net-f", "fa:16:3e:00:00:f1", "10.5.0.1/24")
	l.addVM(h2, "f2", "net-f", "fa:16:3e:00:00:f2", "10.5.0.2/24")
	v1 := l.addVM(h1, "v1", "net-v", "fa:16:3e:00:01:01", "10.5.0.1/24")
	l.addVM(h2, "v2", "net-v", "fa:16:3e:00:01:02", "10.5.0.2/24")
	l.addVM(h2, "v3", "net-v", "fa:16:3e:00:01:03", "10.5.0.3/24")
	res := l.applyAll("vxlan")
	for _, vm := range l.vms {
		assert.True(t, res[vm.port.ID].Bound, vm.port.ID)
	}
	require.True(t, f1.ping("10.5.0.2"), "flat f1 -> f2")
	assert.Equal(t, "fa:16:3e:00:00:f2", f1.neighMAC(t, "10.5.0.2"))
	require.True(t, v1.ping("10.5.0.2"), "vlan v1 -> v2")
	assert.Equal(t, "fa:16:3e:00:01:02", v1.neighMAC(t, "10.5.0.2"))
	assert.False(t, f1.ping("10.5.0.3"), "flat must not reach the vlan network")
	assert.Regexp(t, `in_port=\d+,dl_vlan=\d+ actions=mod_vlan_vid:100,NORMAL`, h1.dumpFlows(t, "br-ex"))
	assert.Empty(t, strings.TrimSpace(grepLines(h1.dumpFlows(t, "br-tun"), "table=22,.*dl_vlan")), "no flooding to tunnels for provider networks")
}

func grepLines(s, pattern string) string {
	re := regexp.MustCompile(pattern)
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if re.MatchString(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
