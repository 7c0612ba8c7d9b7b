package serviceport

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNames(t *testing.T) {
	require.Equal(t, "tap0123456789a", TapName("0123456789abcdef"))
	require.Equal(t, "qr-0123456789a", Name("qr-", "0123456789abcdef"))
	require.Equal(t, "ns-abc", Name("ns-", "abc"))
}

func TestOwnerIDs(t *testing.T) {
	out := `{attached-mac="fa:16:3e:00:00:01", iface-id="p1", iface-status=active, vland-router="r1"}
{attached-mac="fa:16:3e:00:00:02", iface-id="p2", vland-router=r2}
{attached-mac="fa:16:3e:00:00:03", iface-id="p3", vland-dhcp-network="n1"}
{}
`
	require.Equal(t, []string{"r1", "r2"}, ownerIDs(out, "vland-router"))
	require.Equal(t, []string{"n1"}, ownerIDs(out, "vland-dhcp-network"))
	require.Empty(t, ownerIDs("", "vland-router"))
}
