package ipam

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
)

func ptr(s string) *string { return &s }

// pools formats ranges compactly for table comparisons.
func pools(rs []Range) string { return fmt.Sprint(rs) }

func TestValidateSubnet(t *testing.T) {
	tests := []struct {
		name      string
		req       SubnetRequest
		wantGW    string // "" = none
		wantPools string
		wantKind  string
		wantMsg   string
	}{
		{name: "defaults", req: SubnetRequest{CIDR: "10.0.0.0/24"},
			wantGW: "10.0.0.1", wantPools: "[10.0.0.2-10.0.0.254]"},
		{name: "host bits", req: SubnetRequest{CIDR: "10.0.0.5/24"}, wantKind: KindInvalidInput,
			wantMsg: "Invalid input for cidr. Reason: '10.0.0.5/24' isn't a recognized IP subnet cidr, '10.0.0.0/24' is recommended."},
		{name: "garbage cidr", req: SubnetRequest{CIDR: "10.0.0/24"}, wantKind: KindInvalidInput},
		{name: "version mismatch", req: SubnetRequest{CIDR: "10.0.0.0/24", IPVersion: 6}, wantKind: KindInvalidInput},
		{name: "no gateway", req: SubnetRequest{CIDR: "10.0.0.0/29", NoGateway: true},
			wantPools: "[10.0.0.1-10.0.0.6]"},
		{name: "gateway in the middle", req: SubnetRequest{CIDR: "10.0.0.0/29", GatewayIP: ptr("10.0.0.3")},
			wantGW: "10.0.0.3", wantPools: "[10.0.0.1-10.0.0.2 10.0.0.4-10.0.0.6]"},
		{name: "gateway last host", req: SubnetRequest{CIDR: "10.0.0.0/29", GatewayIP: ptr("10.0.0.6")},
			wantGW: "10.0.0.6", wantPools: "[10.0.0.1-10.0.0.5]"},
		{name: "gateway network address", req: SubnetRequest{CIDR: "10.0.0.0/24", GatewayIP: ptr("10.0.0.0")},
			wantKind: KindInvalidInput, wantMsg: "Invalid input for operation: Gateway is not valid on subnet."},
		{name: "gateway broadcast", req: SubnetRequest{CIDR: "10.0.0.0/24", GatewayIP: ptr("10.0.0.255")},
			wantKind: KindInvalidInput},
		{name: "gateway outside", req: SubnetRequest{CIDR: "10.0.0.0/24", GatewayIP: ptr("10.0.1.1")},
			wantKind: KindInvalidInput},
		{name: "gateway garbage", req: SubnetRequest{CIDR: "10.0.0.0/24", GatewayIP: ptr("nope")},
			wantKind: KindInvalidInput},
		{name: "explicit pools sorted", req: SubnetRequest{CIDR: "10.0.0.0/24", Pools: []api.AllocationPool{
			{Start: "10.0.0.100", End: "10.0.0.200"}, {Start: "10.0.0.10", End: "10.0.0.20"}}},
			wantGW: "10.0.0.1", wantPools: "[10.0.0.10-10.0.0.20 10.0.0.100-10.0.0.200]"},
		{name: "empty pools", req: SubnetRequest{CIDR: "10.0.0.0/24", Pools: []api.AllocationPool{}},
			wantGW: "10.0.0.1", wantPools: "[]"},
		{name: "pool contains gateway", req: SubnetRequest{CIDR: "10.0.0.0/24", Pools: []api.AllocationPool{
			{Start: "10.0.0.1", End: "10.0.0.50"}}}, wantKind: KindGatewayConflict,
			wantMsg: "Gateway ip 10.0.0.1 conflicts with allocation pool 10.0.0.1-10.0.0.50"},
		{name: "pool outside", req: SubnetRequest{CIDR: "10.0.0.0/24", Pools: []api.AllocationPool{
			{Start: "10.0.0.200", End: "10.0.1.5"}}}, wantKind: KindOutOfBoundsAllocationPool},
		{name: "pool has network address", req: SubnetRequest{CIDR: "10.0.0.0/24", NoGateway: true,
			Pools: []api.AllocationPool{{Start: "10.0.0.0", End: "10.0.0.5"}}}, wantKind: KindOutOfBoundsAllocationPool},
		{name: "pool has broadcast", req: SubnetRequest{CIDR: "10.0.0.0/24",
			Pools: []api.AllocationPool{{Start: "10.0.0.200", End: "10.0.0.255"}}}, wantKind: KindOutOfBoundsAllocationPool},
		{name: "pool reversed", req: SubnetRequest{CIDR: "10.0.0.0/24", Pools: []api.AllocationPool{
			{Start: "10.0.0.50", End: "10.0.0.40"}}}, wantKind: KindInvalidAllocationPool},
		{name: "pool garbage", req: SubnetRequest{CIDR: "10.0.0.0/24", Pools: []api.AllocationPool{
			{Start: "x", End: "10.0.0.40"}}}, wantKind: KindInvalidAllocationPool},
		{name: "pool wrong family", req: SubnetRequest{CIDR: "10.0.0.0/24", Pools: []api.AllocationPool{
			{Start: "fd00::2", End: "fd00::5"}}}, wantKind: KindInvalidAllocationPool},
		{name: "pools overlap", req: SubnetRequest{CIDR: "10.0.0.0/24", Pools: []api.AllocationPool{
			{Start: "10.0.0.10", End: "10.0.0.20"}, {Start: "10.0.0.20", End: "10.0.0.30"}}},
			wantKind: KindOverlappingAllocationPools},
		{name: "slash 30", req: SubnetRequest{CIDR: "192.168.1.0/30"},
			wantGW: "192.168.1.1", wantPools: "[192.168.1.2-192.168.1.2]"},
		{name: "slash 32 has no hosts", req: SubnetRequest{CIDR: "192.168.1.7/32"}, wantPools: "[]"},
		{name: "ipv6 defaults", req: SubnetRequest{CIDR: "fd00:1::/64"},
			wantGW: "fd00:1::1", wantPools: "[fd00:1::2-fd00:1::ffff:ffff:ffff:ffff]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sub, err := ValidateSubnet(tc.req)
			if tc.wantKind != "" {
				var e *Error
				require.True(t, errors.As(err, &e), "want *Error, got %v", err)
				require.Equal(t, tc.wantKind, e.Kind)
				if tc.wantMsg != "" {
					require.Equal(t, tc.wantMsg, e.Message)
				}
				return
			}
			require.NoError(t, err)
			gw := ""
			if sub.Gateway.IsValid() {
				gw = sub.Gateway.String()
			}
			require.Equal(t, tc.wantGW, gw)
			require.Equal(t, tc.wantPools, pools(sub.Pools))
			require.NotContains(t, sub.Pools, sub.Gateway)
		})
	}
}

func TestErrorStatus(t *testing.T) {
	_, err := ValidateSubnet(SubnetRequest{CIDR: "10.0.0.0/24", Pools: []api.AllocationPool{{Start: "10.0.0.1", End: "10.0.0.9"}}})
	var e interface {
		NeutronType() string
		HTTPStatus() int
	}
	require.True(t, errors.As(err, &e))
	require.Equal(t, 409, e.HTTPStatus())
	require.Equal(t, "GatewayConflictWithAllocationPools", e.NeutronType())
}

func TestCheckFixedIP(t *testing.T) {
	sub, err := ValidateSubnet(SubnetRequest{CIDR: "10.0.0.0/24",
		Pools: []api.AllocationPool{{Start: "10.0.0.100", End: "10.0.0.200"}}})
	require.NoError(t, err)
	tests := []struct {
		ip       string
		wantKind string
	}{
		{"10.0.0.5", ""}, // outside the pools is allowed, like Neutron
		{"10.0.0.1", ""}, // the gateway (router interfaces take it)
		{"10.0.0.150", ""},
		{"10.0.0.0", KindInvalidIPForSubnet},
		{"10.0.0.255", KindInvalidIPForSubnet},
		{"10.0.1.5", KindInvalidIPForSubnet},
		{"fd00::1", KindInvalidIPForSubnet},
		{"banana", KindInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.ip, func(t *testing.T) {
			ip, err := sub.CheckFixedIP(tc.ip)
			if tc.wantKind == "" {
				require.NoError(t, err)
				require.Equal(t, netip.MustParseAddr(tc.ip), ip)
				return
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.wantKind, e.Kind)
		})
	}
}

func TestOverlaps(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"10.0.0.0/24", "10.0.0.0/24", true},
		{"10.0.0.0/16", "10.0.5.0/24", true},
		{"10.0.5.0/24", "10.0.0.0/16", true},
		{"10.0.0.0/24", "10.0.1.0/24", false},
		{"10.0.0.0/24", "fd00::/64", false},
		{"10.0.0.7/24", "10.0.0.128/25", true}, // host bits ignored
	}
	for _, tc := range tests {
		got := Overlaps(netip.MustParsePrefix(tc.a), netip.MustParsePrefix(tc.b))
		require.Equal(t, tc.want, got, "%s vs %s", tc.a, tc.b)
	}
}

func TestAPIRoundTrip(t *testing.T) {
	sub, err := ValidateSubnet(SubnetRequest{CIDR: "10.1.0.0/24", GatewayIP: ptr("10.1.0.129")})
	require.NoError(t, err)
	in := api.Subnet{CIDR: "10.1.0.0/24", GatewayIP: sub.APIGateway(), AllocationPools: sub.APIPools()}
	require.Equal(t, []api.AllocationPool{{Start: "10.1.0.1", End: "10.1.0.128"}, {Start: "10.1.0.130", End: "10.1.0.254"}},
		in.AllocationPools)
	back, err := FromAPI(in)
	require.NoError(t, err)
	require.Equal(t, sub, back)
	noGW, err := ValidateSubnet(SubnetRequest{CIDR: "10.1.0.0/24", NoGateway: true})
	require.NoError(t, err)
	require.Nil(t, noGW.APIGateway())
}
