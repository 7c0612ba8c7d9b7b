package ipam

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRandomMAC(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		mac, err := RandomMAC(DefaultMACPrefix)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(mac, "fa:16:3e:"), mac)
		norm, err := NormalizeMAC(mac)
		require.NoError(t, err)
		require.Equal(t, mac, norm)
		seen[mac] = true
	}
	// 1000 draws from 2^24: a handful of collisions at most, never mostly equal.
	require.Greater(t, len(seen), 990)
	for _, bad := range []string{"", "01:00:00", "zz", "fa:1g", "f:16", "fa:16:3e:00:00:00", "fa:16:3e:00:00:00:00"} {
		_, err := RandomMAC(bad)
		require.Error(t, err, bad)
	}
}

func TestNormalizeMAC(t *testing.T) {
	tests := []struct{ in, want string }{
		{"FA:16:3E:AA:BB:CC", "fa:16:3e:aa:bb:cc"},
		{"fa-16-3e-aa-bb-cc", "fa:16:3e:aa:bb:cc"},
		{" fa:16:3e:00:00:01 ", "fa:16:3e:00:00:01"},
		{"00:00:00:00:00:00", ""}, // all zero
		{"01:00:5e:00:00:01", ""}, // multicast
		{"ff:ff:ff:ff:ff:ff", ""}, // broadcast
		{"fa:16:3e:aa:bb", ""},
		{"00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01", ""}, // infiniband
		{"nonsense", ""},
	}
	for _, tc := range tests {
		got, err := NormalizeMAC(tc.in)
		if tc.want == "" {
			var e *Error
			require.ErrorAs(t, err, &e, tc.in)
			require.Equal(t, KindInvalidInput, e.Kind)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
	}
}
