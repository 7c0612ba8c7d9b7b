package ipam

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/fault"
)

func TestRandomMAC(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		mac := RandomMAC()
		require.True(t, strings.HasPrefix(mac, macPrefix+":"), mac)
		norm, err := NormalizeMAC(mac)
		require.NoError(t, err)
		require.Equal(t, mac, norm)
		seen[mac] = true
	}
	// 1000 draws from 2^24: a handful of collisions at most, never mostly equal.
	require.Greater(t, len(seen), 990)
}

func TestNormalizeMAC(t *testing.T) {
	tests := []struct{ in, want string }{
		{"FA:16:3E:AA:BB:CC", "fa:16:3e:aa:bb:cc"},
		{"fa-16-3e-aa-bb-cc", "fa:16:3e:aa:bb:cc"},
		{"00:00:00:00:00:00", ""}, // all zero
		{"01:00:5e:00:00:01", ""}, // multicast
		{"ff:ff:ff:ff:ff:ff", ""}, // broadcast
		{"fa:16:3e:aa:bb", ""},
		{" fa:16:3e:00:00:01", ""},                                          // Neutron refuses whitespace
		{"00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01", ""}, // infiniband
		{"nonsense", ""},
	}
	for _, tc := range tests {
		got, err := NormalizeMAC(tc.in)
		if tc.want == "" {
			require.True(t, errors.Is(err, fault.ErrBadRequest), "%q: %v", tc.in, err)
			require.Equal(t, "Invalid input for mac_address. Reason: '"+tc.in+"' is not a valid MAC address.", err.Error())
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
	}
}
