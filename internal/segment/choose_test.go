package segment

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/store"
)

// taker is the service's take: a set of allocated or reserved keys.
type taker map[string]bool

func (t taker) take(s Segment) bool {
	if t[s.Key()] {
		return false
	}
	t[s.Key()] = true
	return true
}

func TestChooseTenantLowestFirstThenNextType(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TenantNetworkTypes = []string{"vxlan", "vlan"}
	cfg.VNIRanges = []Range{{Min: 5, Max: 6}}
	cfg.NetworkVLANRanges = map[string][]Range{"physnet2": {{Min: 10, Max: 10}}, "physnet1": {{Min: 20, Max: 20}}}
	used := taker{}
	var got []Segment
	for range 4 {
		seg, err := cfg.ChooseTenant(used.take)
		require.NoError(t, err)
		got = append(got, seg)
	}
	require.Equal(t, []Segment{
		{NetworkType: "vxlan", SegmentationID: 5},
		{NetworkType: "vxlan", SegmentationID: 6},
		{NetworkType: "vlan", PhysicalNetwork: "physnet1", SegmentationID: 20}, // physnets in name order
		{NetworkType: "vlan", PhysicalNetwork: "physnet2", SegmentationID: 10},
	}, got)
	_, err := cfg.ChooseTenant(used.take)
	require.True(t, errors.Is(err, ErrNoNetwork))
	require.EqualError(t, err, "Unable to create the network. No tenant network is available for allocation.")
	// Freeing makes the ID available again.
	delete(used, got[1].Key())
	seg, err := cfg.ChooseTenant(used.take)
	require.NoError(t, err)
	require.Equal(t, got[1], seg)
}

func TestChooseTenantLocal(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TenantNetworkTypes = []string{"local"}
	seg, err := cfg.ChooseTenant(func(Segment) bool { panic("local allocates nothing") })
	require.NoError(t, err)
	require.Equal(t, Segment{NetworkType: "local"}, seg)
	require.Empty(t, seg.Key())
}

func TestChooseProvider(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NetworkVLANRanges = map[string][]Range{"physnet1": {{Min: 100, Max: 101}}}
	cfg.FlatNetworks = []string{"*"}
	used := taker{}
	vlan := Segment{NetworkType: "vlan", PhysicalNetwork: "physnet1", SegmentationID: 100}
	_, err := cfg.Choose(vlan, used.take)
	require.NoError(t, err)
	_, err = cfg.Choose(vlan, used.take)
	require.True(t, errors.Is(err, ErrVLANInUse))
	require.EqualError(t, err, "Unable to create the network. The VLAN 100 on physical network physnet1 is in use.")
	// Partial vlan: the physnet's lowest free id.
	got, err := cfg.Choose(Segment{NetworkType: "vlan"}, used.take)
	require.NoError(t, err)
	require.Equal(t, Segment{NetworkType: "vlan", PhysicalNetwork: "physnet1", SegmentationID: 101}, got)
	_, err = cfg.Choose(Segment{NetworkType: "vlan", PhysicalNetwork: "physnet1"}, used.take)
	require.True(t, errors.Is(err, ErrNoNetwork))
	// Admin ids outside tenant ranges are fine, once.
	vx := Segment{NetworkType: "vxlan", SegmentationID: 5000}
	_, err = cfg.Choose(vx, used.take)
	require.NoError(t, err)
	_, err = cfg.Choose(vx, used.take)
	require.True(t, errors.Is(err, ErrTunnelIDInUse))
	// Tenant allocation is unaffected by admin ids outside its range.
	got, err = cfg.Choose(Segment{NetworkType: "vxlan"}, used.take)
	require.NoError(t, err)
	require.Equal(t, 1000, got.SegmentationID)
	flat := Segment{NetworkType: "flat", PhysicalNetwork: "ext"}
	_, err = cfg.Choose(flat, used.take)
	require.NoError(t, err)
	_, err = cfg.Choose(flat, used.take)
	require.True(t, errors.Is(err, ErrFlatInUse))
	require.Equal(t, store.SegmentKey("flat", "ext", 0), flat.Key(), "flat: one network per physnet")
}
