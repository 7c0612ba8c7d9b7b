package segment

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/fault"
)

func TestParseRanges(t *testing.T) {
	tests := []struct {
		in      string
		want    []Range
		wantErr bool
	}{
		{"", nil, false},
		{"1000:2000", []Range{{1000, 2000}}, false},
		{"1000:2000, 3000:3010", []Range{{1000, 2000}, {3000, 3010}}, false},
		{"5:5", []Range{{5, 5}}, false},
		{"2000:1000", nil, true},
		{"1000", nil, true},
		{"a:b", nil, true},
		{"1:2:3", nil, true},
	}
	for _, tc := range tests {
		got, err := ParseRanges(tc.in)
		if tc.wantErr {
			require.ErrorIs(t, err, ErrConfig, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestParseVLANRanges(t *testing.T) {
	got, err := ParseVLANRanges("physnet1:100:200,physnet1:300:310, physnet2")
	require.NoError(t, err)
	require.Equal(t, map[string][]Range{"physnet1": {{100, 200}, {300, 310}}, "physnet2": {}}, got)
	for _, bad := range []string{"physnet1:100", ":100:200", "p:200:100", "p:a:b", "p:1:2:3"} {
		_, err := ParseVLANRanges(bad)
		require.ErrorIs(t, err, ErrConfig, bad)
	}
	require.Equal(t, []string{"a", "b"}, ParseList(" a, ,b"))
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	require.NoError(t, ok.Validate())
	tests := map[string]func(c *Config){
		"unknown tenant type": func(c *Config) { c.TenantNetworkTypes = []string{"vxlan", "bogus"} },
		"flat tenant type":    func(c *Config) { c.TenantNetworkTypes = []string{"flat"} },
		"vni too big":         func(c *Config) { c.VNIRanges = []Range{{1, 1 << 24}} },
		"vlan 4095":           func(c *Config) { c.NetworkVLANRanges = map[string][]Range{"p": {{4000, 4095}}} },
		"vlan 0":              func(c *Config) { c.NetworkVLANRanges = map[string][]Range{"p": {{0, 10}}} },
		"gre reversed":        func(c *Config) { c.TunnelIDRanges = []Range{{10, 1}} },
		"tiny mtu":            func(c *Config) { c.GlobalPhysnetMTU = 0 },
	}
	for name, mutate := range tests {
		c := DefaultConfig()
		mutate(&c)
		require.ErrorIs(t, c.Validate(), ErrConfig, name)
	}
	big := DefaultConfig()
	big.TunnelIDRanges = []Range{{1, 1<<32 - 1}}
	require.NoError(t, big.Validate(), "gre ids are 32-bit")
}

func TestMTU(t *testing.T) {
	tests := []struct {
		typ  string
		want int
	}{
		{TypeVXLAN, 1450}, {TypeGRE, 1458}, {TypeGeneve, 1442},
		{TypeVLAN, 1500}, {TypeFlat, 1500}, {TypeLocal, 1500},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, MTU(tc.typ, 1500), tc.typ)
	}
	require.Equal(t, 8950, MTU(TypeVXLAN, 9000))
	c := DefaultConfig()
	c.GlobalPhysnetMTU = 9000
	require.Equal(t, 8942, c.NetworkMTU(TypeGeneve))
}

func TestValidateProvider(t *testing.T) {
	c := DefaultConfig()
	c.NetworkVLANRanges = map[string][]Range{"physnet1": {{100, 200}}, "physnet2": {}}
	c.FlatNetworks = []string{"physnet1"}
	tests := []struct {
		seg  Segment
		good bool
	}{
		{Segment{NetworkType: TypeLocal}, true},
		{Segment{NetworkType: TypeLocal, PhysicalNetwork: "physnet1"}, false},
		{Segment{NetworkType: TypeLocal, SegmentationID: 3}, false},
		{Segment{NetworkType: TypeFlat, PhysicalNetwork: "physnet1"}, true},
		{Segment{NetworkType: TypeFlat}, false},
		{Segment{NetworkType: TypeFlat, PhysicalNetwork: "physnet9"}, false},
		{Segment{NetworkType: TypeFlat, PhysicalNetwork: "physnet1", SegmentationID: 5}, false},
		{Segment{NetworkType: TypeVLAN, PhysicalNetwork: "physnet1", SegmentationID: 100}, true},
		{Segment{NetworkType: TypeVLAN, PhysicalNetwork: "physnet1", SegmentationID: 4094}, true}, // outside tenant range: admin may
		{Segment{NetworkType: TypeVLAN, PhysicalNetwork: "physnet2", SegmentationID: 7}, true},
		{Segment{NetworkType: TypeVLAN, PhysicalNetwork: "physnet1", SegmentationID: 4095}, false},
		{Segment{NetworkType: TypeVLAN, PhysicalNetwork: "physnet1", SegmentationID: -1}, false},
		{Segment{NetworkType: TypeVLAN, PhysicalNetwork: "physnet9", SegmentationID: 100}, false},
		{Segment{NetworkType: TypeVLAN, SegmentationID: 100}, false},
		{Segment{NetworkType: TypeVLAN}, true},                              // partial
		{Segment{NetworkType: TypeVLAN, PhysicalNetwork: "physnet1"}, true}, // partial
		{Segment{NetworkType: TypeVXLAN, SegmentationID: 1 << 24}, false},
		{Segment{NetworkType: TypeVXLAN, SegmentationID: 1<<24 - 1}, true},
		{Segment{NetworkType: TypeVXLAN, PhysicalNetwork: "physnet1", SegmentationID: 5}, false},
		{Segment{NetworkType: TypeGeneve, SegmentationID: 77}, true},
		{Segment{NetworkType: TypeGRE, SegmentationID: 1<<32 - 1}, true},
		{Segment{NetworkType: TypeGRE, SegmentationID: 1 << 32}, false},
		{Segment{NetworkType: TypeVXLAN}, true}, // partial
		{Segment{NetworkType: "ipip"}, false},
		{Segment{}, false},
		{Segment{NetworkType: TypeVXLAN, SegmentationID: -1}, false}, // an explicit 0
		{Segment{NetworkType: TypeFlat, PhysicalNetwork: "physnet1", SegmentationID: -1}, false},
	}
	for _, tc := range tests {
		err := c.ValidateProvider(tc.seg)
		if tc.good {
			require.NoError(t, err, "%+v", tc.seg)
			continue
		}
		require.True(t, errors.Is(err, fault.ErrInvalidInput), "%+v: %v", tc.seg, err)
	}
}

func TestWithDefaults(t *testing.T) {
	require.Equal(t, DefaultConfig(), Config{}.WithDefaults())
	c := Config{NetworkVLANRanges: map[string][]Range{"p": {{1, 2}}}, TenantNetworkTypes: []string{TypeVLAN}}.WithDefaults()
	require.Equal(t, 1500, c.GlobalPhysnetMTU)
	require.Equal(t, []string{TypeVLAN}, c.TenantNetworkTypes)
	c = Config{GlobalPhysnetMTU: 9000}.WithDefaults()
	require.Equal(t, []string{TypeVXLAN}, c.TenantNetworkTypes)
	require.Nil(t, c.VNIRanges, "explicit config: no tenant ranges invented")
}
