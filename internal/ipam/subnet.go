package ipam

import (
	"net/netip"
	"strings"

	"github.com/vland/vland/api"
)

// SubnetRequest is a subnet as the user asked for it; ValidateSubnet
// checks it and fills in Neutron's defaults.
type SubnetRequest struct {
	// CIDR must be a network address ("10.0.0.5/24" is rejected).
	CIDR string
	// IPVersion is 4 or 6; 0 takes it from CIDR.
	IPVersion int
	// GatewayIP: nil means the default (first host address); NoGateway set
	// means gateway_ip: null.
	GatewayIP *string
	NoGateway bool
	// Pools: nil means the default (every host address but the gateway);
	// a non-nil empty slice means no pool at all.
	Pools []api.AllocationPool
}

// Subnet is a validated subnet's addressing.
type Subnet struct {
	Prefix netip.Prefix
	// Gateway is the zero Addr when the subnet has none.
	Gateway netip.Addr
	// Pools are sorted, disjoint and inside the host range.
	Pools []Range
}

// ParseCIDR parses a subnet CIDR, refusing host bits like Neutron does.
func ParseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, invalidInput("cidr", "'%s' is not a valid IP subnet", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, invalidInput("cidr", "'%s' isn't a recognized IP subnet cidr, '%s' is recommended", s, p.Masked())
	}
	return p, nil
}

// ValidateSubnet checks req and returns the subnet with defaults filled in.
func ValidateSubnet(req SubnetRequest) (Subnet, error) {
	p, err := ParseCIDR(req.CIDR)
	if err != nil {
		return Subnet{}, err
	}
	if v := ipVersion(p); req.IPVersion != 0 && req.IPVersion != v {
		return Subnet{}, invalidOperation("Cidr %s does not match ip_version %d", p, req.IPVersion)
	}
	gw, err := gateway(p, req)
	if err != nil {
		return Subnet{}, err
	}
	sub := Subnet{Prefix: p, Gateway: gw}
	if req.Pools == nil {
		sub.Pools = DefaultPools(p, gw)
		return sub, nil
	}
	if sub.Pools, err = parsePools(p, req.Pools); err != nil {
		return Subnet{}, err
	}
	for _, r := range sub.Pools {
		if gw.IsValid() && r.Contains(gw) {
			return Subnet{}, newError(KindGatewayConflict, 409,
				"Gateway ip %s conflicts with allocation pool %s", gw, r)
		}
	}
	return sub, nil
}

// gateway returns the requested, default or absent gateway.
func gateway(p netip.Prefix, req SubnetRequest) (netip.Addr, error) {
	if req.NoGateway {
		return netip.Addr{}, nil
	}
	if req.GatewayIP == nil {
		if hosts, ok := hostRange(p); ok {
			return hosts.Start, nil
		}
		return netip.Addr{}, nil
	}
	gw, err := netip.ParseAddr(strings.TrimSpace(*req.GatewayIP))
	if err != nil {
		return netip.Addr{}, invalidInput("gateway_ip", "'%s' is not a valid IP address", *req.GatewayIP)
	}
	if !p.Contains(gw) || isNetworkOrBroadcast(p, gw) {
		return netip.Addr{}, invalidOperation("Gateway is not valid on subnet")
	}
	return gw, nil
}

// DefaultPools is every host address of p except gw (split around it).
func DefaultPools(p netip.Prefix, gw netip.Addr) []Range {
	hosts, ok := hostRange(p)
	if !ok {
		return []Range{}
	}
	if !gw.IsValid() {
		return []Range{hosts}
	}
	return splitAround(hosts, gw)
}

// parsePools parses and checks explicit pools: valid addresses of p's
// family, start <= end, inside the host range, not overlapping.
func parsePools(p netip.Prefix, in []api.AllocationPool) ([]Range, error) {
	out := make([]Range, 0, len(in))
	hosts, hasHosts := hostRange(p)
	for _, ap := range in {
		r, err := ParseRange(ap.Start, ap.End)
		if err != nil || r.Start.BitLen() != p.Addr().BitLen() {
			return nil, newError(KindInvalidAllocationPool, 400, "The allocation pool %s-%s is not valid.", ap.Start, ap.End)
		}
		if !hasHosts || !hosts.Contains(r.Start) || !hosts.Contains(r.End) {
			return nil, newError(KindOutOfBoundsAllocationPool, 400,
				"The allocation pool %s spans beyond the subnet cidr %s.", r, p)
		}
		out = append(out, r)
	}
	sortRanges(out)
	for i := 1; i < len(out); i++ {
		if out[i-1].Overlaps(out[i]) {
			return nil, newError(KindOverlappingAllocationPools, 409,
				"Found overlapping allocation pools: %s %s for subnet %s.", out[i-1], out[i], p)
		}
	}
	return out, nil
}

// ParseRange parses an inclusive range; start must not be after end.
func ParseRange(start, end string) (Range, error) {
	s, err1 := netip.ParseAddr(strings.TrimSpace(start))
	e, err2 := netip.ParseAddr(strings.TrimSpace(end))
	if err1 != nil || err2 != nil || s.BitLen() != e.BitLen() || s.Compare(e) > 0 || s.Zone() != "" {
		return Range{}, newError(KindInvalidAllocationPool, 400, "The allocation pool %s-%s is not valid.", start, end)
	}
	return Range{Start: s.Unmap(), End: e.Unmap()}, nil
}

// CheckFixedIP parses a requested fixed IP and checks it belongs to the
// subnet (inside the CIDR, not its network or broadcast address). Like
// Neutron it may lie outside the allocation pools.
func (s Subnet) CheckFixedIP(raw string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(raw))
	if err != nil {
		return netip.Addr{}, invalidInput("fixed_ips", "'%s' is not a valid IP address", raw)
	}
	if !s.Prefix.Contains(a) || isNetworkOrBroadcast(s.Prefix, a) {
		return netip.Addr{}, newError(KindInvalidIPForSubnet, 400,
			"IP address %s is not a valid IP for the specified subnet.", a)
	}
	return a, nil
}

// APIPools converts the pools to wire form.
func (s Subnet) APIPools() []api.AllocationPool {
	out := make([]api.AllocationPool, len(s.Pools))
	for i, r := range s.Pools {
		out[i] = api.AllocationPool{Start: r.Start.String(), End: r.End.String()}
	}
	return out
}

// APIGateway converts the gateway to wire form (nil = none).
func (s Subnet) APIGateway() *string {
	if !s.Gateway.IsValid() {
		return nil
	}
	g := s.Gateway.String()
	return &g
}

// FromAPI rebuilds the addressing of a stored subnet (no defaults applied;
// the stored pools and gateway are taken as they are).
func FromAPI(in api.Subnet) (Subnet, error) {
	p, err := ParseCIDR(in.CIDR)
	if err != nil {
		return Subnet{}, err
	}
	sub := Subnet{Prefix: p, Pools: make([]Range, 0, len(in.AllocationPools))}
	if in.GatewayIP != nil && *in.GatewayIP != "" {
		if sub.Gateway, err = netip.ParseAddr(*in.GatewayIP); err != nil {
			return Subnet{}, invalidInput("gateway_ip", "'%s' is not a valid IP address", *in.GatewayIP)
		}
	}
	for _, ap := range in.AllocationPools {
		r, err := ParseRange(ap.Start, ap.End)
		if err != nil {
			return Subnet{}, err
		}
		sub.Pools = append(sub.Pools, r)
	}
	sortRanges(sub.Pools)
	return sub, nil
}

func ipVersion(p netip.Prefix) int {
	if p.Addr().Is4() {
		return 4
	}
	return 6
}
