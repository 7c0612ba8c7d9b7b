package link_test

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/link"
	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/testutil"
)

// TestVethBetweenNamespaces builds two namespaces joined by a veth pair and
// checks addresses, MTU, MAC and that packets cross (ping).
func TestVethBetweenNamespaces(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireBinary(t, "ping", "ethtool")
	p := testutil.Prefix()
	a, b := p+"-a", p+"-b"
	for _, ns := range []string{a, b} {
		require.NoError(t, netns.Create(ns))
		t.Cleanup(func() { _ = netns.Delete(ns) })
	}
	mac, _ := net.ParseMAC("fa:16:3e:00:00:01")
	require.NoError(t, link.AddVeth(link.End{NS: a, Name: "eth0", MAC: mac, MTU: 1450}, link.End{NS: b, Name: "tapx", MTU: 1450}))
	require.NoError(t, link.AddVeth(link.End{NS: a, Name: "eth0"}, link.End{NS: b, Name: "tapx"}), "idempotent")

	na, err := link.Open(a)
	require.NoError(t, err)
	defer na.Close()
	nb, err := link.Open(b)
	require.NoError(t, err)
	defer nb.Close()

	require.NoError(t, nb.AddBridge("br0"))
	require.NoError(t, nb.SetMaster("tapx", "br0"))
	require.NoError(t, nb.AddAddr("br0", netip.MustParsePrefix("10.9.0.2/24")))
	require.NoError(t, na.AddAddr("eth0", netip.MustParsePrefix("10.9.0.1/24")))
	require.NoError(t, na.AddAddr("eth0", netip.MustParsePrefix("10.9.0.1/24")), "idempotent")
	require.NoError(t, na.SetUp("eth0"))
	require.NoError(t, nb.SetUp("tapx"))
	require.NoError(t, na.AddDefaultRoute("eth0", netip.MustParseAddr("10.9.0.2")))
	require.NoError(t, link.TxOffloadOff(context.Background(), a, "eth0"))

	l, err := na.Get("eth0")
	require.NoError(t, err)
	require.Equal(t, 1450, l.Attrs().MTU)
	require.Equal(t, mac.String(), l.Attrs().HardwareAddr.String())
	addrs, err := na.Addrs("eth0")
	require.NoError(t, err)
	require.Contains(t, addrs, netip.MustParsePrefix("10.9.0.1/24"))

	out, err := netns.Run(context.Background(), a, "ping", "-c1", "-W2", "10.9.0.2")
	require.NoError(t, err, string(out))
	out, err = netns.Run(context.Background(), a, "ethtool", "-k", "eth0")
	require.NoError(t, err)
	require.Contains(t, string(out), "tx-checksumming: off")

	require.NoError(t, nb.Delete("tapx"))
	require.False(t, na.Exists("eth0"), "deleting one end removes the pair")
	_, err = na.Get("eth0")
	require.ErrorIs(t, err, link.ErrNotFound)
}
