package agent

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConfigTunnelPorts(t *testing.T) {
	for _, ok := range []string{"", "per-peer", "flow"} {
		c := Config{HostConfig: HostConfig{Host: "h", TunnelPorts: ok}}
		require.NoError(t, c.withDefaults().validate(), ok)
	}
	c := Config{HostConfig: HostConfig{Host: "h", TunnelPorts: "mesh"}}
	require.ErrorIs(t, c.withDefaults().validate(), ErrConfig)
}

func TestParseBridgeMappings(t *testing.T) {
	got, err := ParseBridgeMappings([]string{"physnet1:br-ex", " physnet2:br-eth1"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"physnet1": "br-ex", "physnet2": "br-eth1"}, got)
	got, err = ParseBridgeMappings(nil)
	require.NoError(t, err)
	require.Empty(t, got)
	for _, bad := range [][]string{{"physnet1"}, {":br-ex"}, {"physnet1:"}, {"p:a", "p:b"}} {
		_, err := ParseBridgeMappings(bad)
		require.True(t, errors.Is(err, ErrConfig), "%v: %v", bad, err)
	}
}

func TestRoles(t *testing.T) {
	cfg := Config{}.withDefaults()
	if !cfg.HasRole("compute") || cfg.HasRole("dhcp") {
		t.Fatalf("default roles %v, want compute only", cfg.Roles)
	}
	if err := ValidateRoles([]string{"compute", "dhcp", "l3", "metadata"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{{"dns"}, {"dhcp", "dhcp"}, {""}} {
		if err := ValidateRoles(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("roles %q: %v, want ErrConfig", bad, err)
		}
	}
}
