package ipam

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
)

func ptr(s string) *string { return &s }

func req(cidr string) SubnetRequest { return SubnetRequest{Prefix: netip.MustParsePrefix(cidr)} }

func TestParseCIDR(t *testing.T) {
	tests := []struct {
		in      string
		version int
		kind    error
		msg     string
	}{
		{"10.0.0.0/24", 0, nil, ""},
		{"10.0.0.0/24", 4, nil, ""},
		{"fd00::/64", 6, nil, ""},
		{"10.0.0.5/24", 4, fault.ErrBadRequest,
			"Invalid input for cidr. Reason: '10.0.0.5/24' isn't a recognized IP subnet cidr, '10.0.0.0/24' is recommended."},
		{"10.0.0/24", 0, fault.ErrBadRequest, "Invalid input for cidr. Reason: '10.0.0/24' is not a valid IP subnet."},
		{"10.0.0.0/33", 0, fault.ErrBadRequest, ""},
		{"10.0.0.0/24", 6, fault.ErrInvalidInput, "Invalid input for operation: Cidr 10.0.0.0/24 does not match ip_version 6."},
	}
	for _, tc := range tests {
		p, err := ParseCIDR(tc.in, tc.version)
		if tc.kind == nil {
			require.NoError(t, err, tc.in)
			require.Equal(t, tc.in, p.String())
			continue
		}
		require.ErrorIs(t, err, tc.kind, tc.in)
		if tc.msg != "" {
			require.Equal(t, tc.msg, err.Error())
		}
	}
}

func TestValidateSubnet(t *testing.T) {
	tests := []struct {
		name      string
		req       SubnetRequest
		wantGW    string // "" = none
		wantPools string
		wantKind  error
		wantMsg   string
	}{
		{name: "defaults", req: req("10.0.0.0/24"), wantGW: "10.0.0.1", wantPools: "[10.0.0.2-10.0.0.254]"},
		{name: "no gateway", req: SubnetRequest{Prefix: netip.MustParsePrefix("10.0.0.0/29"), NoGateway: true},
			wantPools: "[10.0.0.1-10.0.0.6]"},
		{name: "gateway in the middle", req: SubnetRequest{Prefix: netip.MustParsePrefix("10.0.0.0/29"), GatewayIP: ptr("10.0.0.3")},
			wantGW: "10.0.0.3", wantPools: "[10.0.0.1-10.0.0.2 10.0.0.4-10.0.0.6]"},
		{name: "gateway last host", req: SubnetRequest{Prefix: netip.MustParsePrefix("10.0.0.0/29"), GatewayIP: ptr("10.0.0.6")},
			wantGW: "10.0.0.6", wantPools: "[10.0.0.1-10.0.0.5]"},
		{name: "gateway outside is on-link", req: SubnetRequest{Prefix: netip.MustParsePrefix("10.0.0.0/24"), GatewayIP: ptr("10.0.1.1")},
			wantGW: "10.0.1.1", wantPools: "[10.0.0.1-10.0.0.254]"},
		{name: "gateway network address", req: SubnetRequest{Prefix: netip.MustParsePrefix("10.0.0.0/24"), GatewayIP: ptr("10.0.0.0")},
			wantKind: fault.ErrInvalidInput, wantMsg: "Invalid input for operation: Gateway is not valid on subnet."},
		{name: "gateway broadcast", req: SubnetRequest{Prefix: netip.MustParsePrefix("10.0.0.0/24"), GatewayIP: ptr("10.0.0.255")},
			wantKind: fault.ErrInvalidInput},
		{name: "gateway other version", req: SubnetRequest{Prefix: netip.MustParsePrefix("10.0.0.0/24"), GatewayIP: ptr("fd00::1")},
			wantKind: fault.ErrInvalidInput, wantMsg: "Invalid input for operation: gateway_ip 'fd00::1' does not match the subnet's ip_version 4."},
		{name: "gateway garbage", req: SubnetRequest{Prefix: netip.MustParsePrefix("10.0.0.0/24"), GatewayIP: ptr("nope")},
			wantKind: fault.ErrBadRequest, wantMsg: "Invalid input for gateway_ip. Reason: 'nope' is not a valid IP address."},
		{name: "explicit pools sorted", req: withPools("10.0.0.0/24", "10.0.0.100", "10.0.0.200", "10.0.0.10", "10.0.0.20"),
			wantGW: "10.0.0.1", wantPools: "[10.0.0.10-10.0.0.20 10.0.0.100-10.0.0.200]"},
		{name: "empty pools", req: SubnetRequest{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Pools: []api.AllocationPool{}},
			wantGW: "10.0.0.1", wantPools: "[]"},
		{name: "pool contains gateway", req: withPools("10.0.0.0/24", "10.0.0.1", "10.0.0.50"), wantKind: ErrGatewayInPool,
			wantMsg: "Gateway ip 10.0.0.1 conflicts with allocation pool 10.0.0.1-10.0.0.50"},
		{name: "pool outside", req: withPools("10.0.0.0/24", "10.0.0.200", "10.0.1.5"), wantKind: ErrInvalidPool,
			wantMsg: "The allocation pool 10.0.0.200-10.0.1.5 spans beyond the subnet cidr 10.0.0.0/24."},
		{name: "pool has broadcast", req: withPools("10.0.0.0/24", "10.0.0.200", "10.0.0.255"), wantKind: ErrInvalidPool},
		{name: "pool reversed", req: withPools("10.0.0.0/24", "10.0.0.50", "10.0.0.40"), wantKind: ErrInvalidPool,
			wantMsg: "The allocation pool 10.0.0.50-10.0.0.40 is not valid."},
		{name: "pool garbage", req: withPools("10.0.0.0/24", "x", "10.0.0.40"), wantKind: ErrInvalidPool},
		{name: "pool wrong family", req: withPools("10.0.0.0/24", "fd00::2", "fd00::5"), wantKind: ErrInvalidPool},
		{name: "pools overlap", req: withPools("10.0.0.0/24", "10.0.0.10", "10.0.0.20", "10.0.0.20", "10.0.0.30"),
			wantKind: ErrOverlappingPools, wantMsg: "Found overlapping allocation pools: 10.0.0.10-10.0.0.20 10.0.0.20-10.0.0.30 for subnet 10.0.0.0/24."},
		{name: "slash 30", req: req("192.168.1.0/30"), wantGW: "192.168.1.1", wantPools: "[192.168.1.2-192.168.1.2]"},
		{name: "slash 31 has no hosts", req: req("192.168.1.6/31"), wantPools: "[]"},
		{name: "slash 32 pool", req: withPools("192.168.1.7/32", "192.168.1.7", "192.168.1.7"), wantKind: ErrInvalidPool},
		{name: "ipv6 defaults", req: req("fd00:1::/64"), wantGW: "fd00:1::1", wantPools: "[fd00:1::2-fd00:1::ffff:ffff:ffff:ffff]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sub, err := ValidateSubnet(tc.req)
			if tc.wantKind != nil {
				require.True(t, errors.Is(err, tc.wantKind), "want %v, got %v", tc.wantKind, err)
				if tc.wantMsg != "" {
					require.Equal(t, tc.wantMsg, err.Error())
				}
				return
			}
			require.NoError(t, err)
			gw := ""
			if g := sub.APIGateway(); g != nil {
				gw = *g
			}
			require.Equal(t, tc.wantGW, gw)
			require.Equal(t, tc.wantPools, fmt.Sprint(sub.Pools))
			require.Equal(t, sub.Pools, PoolsOf(sub.APIPools()), "wire round trip")
		})
	}
}

// withPools is a request on cidr with pools given as start, end, ...
func withPools(cidr string, bounds ...string) SubnetRequest {
	r := req(cidr)
	r.Pools = []api.AllocationPool{}
	for i := 0; i+1 < len(bounds); i += 2 {
		r.Pools = append(r.Pools, api.AllocationPool{Start: bounds[i], End: bounds[i+1]})
	}
	return r
}

func TestCheckHost(t *testing.T) {
	p := netip.MustParsePrefix("10.0.0.0/24")
	for _, ok := range []string{"10.0.0.1", "10.0.0.5", "10.0.0.254"} {
		require.NoError(t, CheckHost(p, netip.MustParseAddr(ok)), ok)
	}
	for _, bad := range []string{"10.0.0.0", "10.0.0.255", "10.0.1.5", "fd00::1"} {
		err := CheckHost(p, netip.MustParseAddr(bad))
		require.ErrorIs(t, err, ErrInvalidIPForSubnet, bad)
		require.Equal(t, "IP address "+bad+" is not a valid IP for the specified subnet.", err.Error())
	}
	v6 := netip.MustParsePrefix("fd00::/126")
	require.ErrorIs(t, CheckHost(v6, netip.MustParseAddr("fd00::")), ErrInvalidIPForSubnet, "subnet-router anycast")
	require.NoError(t, CheckHost(v6, netip.MustParseAddr("fd00::3")), "IPv6 has no broadcast")
	_, err := ParseAddr("fixed_ips", "fe80::1%eth0")
	require.ErrorIs(t, err, fault.ErrBadRequest)
}

func TestNameserversAndRoutes(t *testing.T) {
	ns, err := Nameservers([]string{"8.8.8.8", "2001:4860:4860:0:0:0:0:8888"})
	require.NoError(t, err)
	require.Equal(t, []string{"8.8.8.8", "2001:4860:4860::8888"}, ns)
	_, err = Nameservers([]string{"1.1.1.1", "1.1.1.1"})
	require.EqualError(t, err, "Invalid input for dns_nameservers. Reason: Duplicate nameserver '1.1.1.1'.")
	_, err = Nameservers([]string{"x"})
	require.ErrorIs(t, err, fault.ErrBadRequest)
	routes, err := HostRoutes([]api.HostRoute{{Destination: "10.9.0.5/16", NextHop: "10.0.0.1"}}, 4)
	require.NoError(t, err)
	require.Equal(t, []api.HostRoute{{Destination: "10.9.0.0/16", NextHop: "10.0.0.1"}}, routes)
	_, err = HostRoutes([]api.HostRoute{{Destination: "fd00::/64", NextHop: "10.0.0.1"}}, 4)
	require.EqualError(t, err, "Invalid input for host_routes. Reason: 'fd00::/64' is not a valid destination.")
	_, err = HostRoutes([]api.HostRoute{{Destination: "0.0.0.0/0", NextHop: "fd00::1"}}, 4)
	require.ErrorIs(t, err, fault.ErrBadRequest)
}
