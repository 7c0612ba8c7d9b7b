package ipam

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

var pool24 = []Range{{Start: netip.MustParseAddr("10.0.0.2"), End: netip.MustParseAddr("10.0.0.254")}}

// alloc takes the lowest free address as the service does: reserve it in
// held (in flight), then commit it to u.
func alloc(u *Used, pools []Range, held map[netip.Addr]bool) (string, bool) {
	ip, ok := u.LowestFree(pools, func(a netip.Addr) bool {
		if held[a] {
			return false
		}
		held[a] = true
		return true
	})
	if ok {
		u.Add(ip)
	}
	return ip.String(), ok
}

func TestLowestFirstAndReuse(t *testing.T) {
	var u Used
	held := map[netip.Addr]bool{}
	for _, want := range []string{"10.0.0.2", "10.0.0.3", "10.0.0.4"} {
		got, ok := alloc(&u, pool24, held)
		require.True(t, ok)
		require.Equal(t, want, got)
	}
	// The hint skips the dense front; a freed address below it is reused.
	require.Equal(t, netip.MustParseAddr("10.0.0.5"), u.hint)
	u.Remove(netip.MustParseAddr("10.0.0.3"))
	delete(held, netip.MustParseAddr("10.0.0.3"))
	require.False(t, u.Has(netip.MustParseAddr("10.0.0.3")))
	got, _ := alloc(&u, pool24, held)
	require.Equal(t, "10.0.0.3", got, "a freed address is reused")
	got, _ = alloc(&u, pool24, held)
	require.Equal(t, "10.0.0.5", got)
}

func TestInFlightNotShared(t *testing.T) {
	var u Used
	held := map[netip.Addr]bool{netip.MustParseAddr("10.0.0.2"): true} // another request holds .2
	got, _ := alloc(&u, pool24, held)
	require.Equal(t, "10.0.0.3", got)
	// The other request gives .2 up unallocated: it is free again.
	delete(held, netip.MustParseAddr("10.0.0.2"))
	u.Release(netip.MustParseAddr("10.0.0.2"))
	got, _ = alloc(&u, pool24, held)
	require.Equal(t, "10.0.0.2", got, "an uncommitted reservation is free again")
}

func TestHintResetWhenPoolsChange(t *testing.T) {
	var u Used
	wide := []Range{{Start: netip.MustParseAddr("10.0.0.10"), End: netip.MustParseAddr("10.0.0.20")}}
	for range 3 {
		alloc(&u, wide, map[netip.Addr]bool{})
	}
	lower := []Range{{Start: netip.MustParseAddr("10.0.0.2"), End: netip.MustParseAddr("10.0.0.20")}}
	u.ResetHint()
	got, _ := alloc(&u, lower, map[netip.Addr]bool{})
	require.Equal(t, "10.0.0.2", got)
}

func TestExhaustion(t *testing.T) {
	var u Used
	small := []Range{
		{Start: netip.MustParseAddr("10.0.0.2"), End: netip.MustParseAddr("10.0.0.3")},
		{Start: netip.MustParseAddr("10.0.0.9"), End: netip.MustParseAddr("10.0.0.9")},
	}
	held := map[netip.Addr]bool{}
	var got []string
	for range 3 {
		ip, ok := alloc(&u, small, held)
		require.True(t, ok)
		got = append(got, ip)
	}
	require.Equal(t, []string{"10.0.0.2", "10.0.0.3", "10.0.0.9"}, got)
	_, ok := alloc(&u, small, held)
	require.False(t, ok)
	// Edge of the address space: iteration must stop, not wrap.
	var top Used
	last := []Range{{Start: netip.MustParseAddr("255.255.255.255"), End: netip.MustParseAddr("255.255.255.255")}}
	_, ok = alloc(&top, last, held)
	require.True(t, ok)
	_, ok = alloc(&top, last, held)
	require.False(t, ok)
}

// TestManyHeldIsLinear: one request holding thousands of addresses (a port
// with many fixed IPs, a bulk create) must not rescan the ones it already
// holds for each next choice. Counted in take calls, not timed.
func TestManyHeldIsLinear(t *testing.T) {
	var u Used
	big := []Range{{Start: netip.MustParseAddr("10.0.0.2"), End: netip.MustParseAddr("10.0.255.254")}}
	held := map[netip.Addr]bool{}
	calls := 0
	for range 10000 {
		_, ok := u.LowestFree(big, func(a netip.Addr) bool {
			calls++
			if held[a] {
				return false
			}
			held[a] = true
			return true
		})
		require.True(t, ok)
	}
	require.Equal(t, 10000, calls, "each choice looks at one address")
}

func BenchmarkLowestFreeHeld10000(b *testing.B) {
	big := []Range{{Start: netip.MustParseAddr("10.0.0.2"), End: netip.MustParseAddr("10.0.255.254")}}
	for range b.N {
		var u Used
		held := map[netip.Addr]bool{}
		for range 10000 {
			u.LowestFree(big, func(a netip.Addr) bool {
				if held[a] {
					return false
				}
				held[a] = true
				return true
			})
		}
	}
}
