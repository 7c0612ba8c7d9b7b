package agentcmd

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"32MiB": 32 << 20, "1GiB": 1 << 30, "512KiB": 512 << 10, "1000": 1000, "7B": 7, "0": 0, "off": 0} {
		got, err := parseBytes(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "32MB", "-1MiB", "MiB", "9999999999GiB"} {
		_, err := parseBytes(in)
		require.Error(t, err, in)
	}
}
