package lab_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/lab"
)

// TestVMPingAcrossHosts is the data-plane check: two VMs of one VXLAN
// network on different hosts ping each other through br-int, br-tun and a
// userspace VXLAN tunnel over the underlay; a VM of another project's
// network with the same addresses is not reached.
func TestVMPingAcrossHosts(t *testing.T) {
	l, _, _ := newLab(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := l.Client()
	netA, _ := makeNetwork(t, ctx, c, "neta", "10.1.0.0/24")
	netB, _ := makeNetwork(t, ctx, c, "netb", "10.1.0.0/24")
	require.Equal(t, 1450, netA.MTU, "VXLAN network MTU")

	for _, s := range []lab.VMSpec{
		{Name: "a1", Network: netA.ID, Host: "host1", IP: "10.1.0.11"},
		{Name: "a2", Network: netA.ID, Host: "host2", IP: "10.1.0.12"},
		{Name: "b2", Network: netB.ID, Host: "host2", IP: "10.1.0.13"},
	} {
		_, err := l.CreateVM(ctx, s)
		require.NoError(t, err)
	}
	// The agents need a moment to program the new ports.
	require.Eventually(t, func() bool {
		_, err := l.Exec(ctx, "a1", "ping", "-c1", "-W1", "10.1.0.12")
		return err == nil
	}, 30*time.Second, 500*time.Millisecond, "a1 (host1) -> a2 (host2) over VXLAN")
	out, err := l.Exec(ctx, "a2", "ping", "-c3", "-i0.2", "-W2", "10.1.0.11")
	require.NoError(t, err, string(out))
	// Isolation: b2 (other network, same subnet) is not reachable from a1.
	_, err = l.Exec(ctx, "a1", "ping", "-c2", "-i0.2", "-W1", "10.1.0.13")
	require.Error(t, err, "a1 reached b2 on another network")
}
