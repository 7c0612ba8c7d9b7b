package ipam

import (
	"net/netip"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
)

// SubnetRequest is a subnet's addressing as the client asked for it (on
// update: as it will be, the current values standing in for attributes
// the client did not send). ValidateSubnet checks it and fills in
// Neutron's defaults.
type SubnetRequest struct {
	// Prefix comes from ParseCIDR.
	Prefix netip.Prefix
	// GatewayIP: nil means the default (first host address); NoGateway
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

// ParseCIDR parses a subnet cidr the way Neutron's "type:subnet" validator
// does: a network address (host bits zero), of the requested version
// unless version is 0.
func ParseCIDR(s string, version int) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, fault.BadAttr("cidr", "'%s' is not a valid IP subnet", s)
	}
	if p.Masked() != p {
		return p, fault.BadAttr("cidr", "'%s' isn't a recognized IP subnet cidr, '%s' is recommended", s, p.Masked())
	}
	if v := Version(p.Addr()); version != 0 && v != version {
		return p, fault.InvalidInput("Cidr %s does not match ip_version %d", s, version)
	}
	return p, nil
}

// Version is a's IP version, 4 or 6.
func Version(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

// ParseAddr parses one address given for attribute attr.
func ParseAddr(attr, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return a, fault.BadAttr(attr, "'%s' is not a valid IP address", s)
	}
	return a, nil
}

// ValidateSubnet checks req and returns the subnet with defaults filled in.
func ValidateSubnet(req SubnetRequest) (Subnet, error) {
	gw, err := gateway(req)
	if err != nil {
		return Subnet{}, err
	}
	sub := Subnet{Prefix: req.Prefix, Gateway: gw}
	if req.Pools == nil {
		sub.Pools = DefaultPools(req.Prefix, gw)
		return sub, nil
	}
	if sub.Pools, err = parsePools(req.Prefix, req.Pools); err != nil {
		return Subnet{}, err
	}
	for _, r := range sub.Pools {
		if gw.IsValid() && r.Contains(gw) {
			return Subnet{}, fault.New(ErrGatewayInPool, "Gateway ip %s conflicts with allocation pool %s", gw, r)
		}
	}
	return sub, nil
}

// gateway returns the requested, default or absent gateway. Like Neutron
// it may lie outside the subnet (an on-link router), but not be the
// subnet's network or broadcast address.
func gateway(req SubnetRequest) (netip.Addr, error) {
	p := req.Prefix
	hosts, ok := hostRange(p)
	switch {
	case req.NoGateway:
		return netip.Addr{}, nil
	case req.GatewayIP == nil && ok:
		return hosts.Start, nil
	case req.GatewayIP == nil:
		return netip.Addr{}, nil
	}
	gw, err := ParseAddr("gateway_ip", *req.GatewayIP)
	if err != nil {
		return gw, err
	}
	if v := Version(p.Addr()); Version(gw) != v {
		return gw, fault.InvalidInput("gateway_ip '%s' does not match the subnet's ip_version %d", *req.GatewayIP, v)
	}
	if p.Contains(gw) && (!ok || !hosts.Contains(gw)) {
		return gw, fault.InvalidInput("Gateway is not valid on subnet")
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

// parsePools validates explicit allocation pools against the subnet, as
// Neutron's _validate_allocation_pools does, and sorts them.
func parsePools(p netip.Prefix, in []api.AllocationPool) ([]Range, error) {
	out := make([]Range, 0, len(in))
	hosts, _ := hostRange(p)
	for _, ap := range in {
		start, err1 := netip.ParseAddr(ap.Start)
		end, err2 := netip.ParseAddr(ap.End)
		if err1 != nil || err2 != nil || start.Is4() != p.Addr().Is4() || start.Is4() != end.Is4() {
			return nil, fault.New(ErrInvalidPool, "The allocation pool %s-%s is not valid.", ap.Start, ap.End)
		}
		r := Range{Start: start.Unmap(), End: end.Unmap()}
		if !p.Contains(r.Start) || !p.Contains(r.End) || r.Start.Less(hosts.Start) || hosts.End.Less(r.End) {
			return nil, fault.New(ErrInvalidPool, "The allocation pool %s-%s spans beyond the subnet cidr %s.", ap.Start, ap.End, p)
		}
		if r.End.Less(r.Start) {
			return nil, fault.New(ErrInvalidPool, "The allocation pool %s-%s is not valid.", ap.Start, ap.End)
		}
		out = append(out, r)
	}
	sortRanges(out)
	for i := 1; i < len(out); i++ {
		if out[i-1].Overlaps(out[i]) {
			return nil, fault.New(ErrOverlappingPools, "Found overlapping allocation pools: %s %s for subnet %s.", out[i-1], out[i], p)
		}
	}
	return out, nil
}

// CheckHost checks that ip may be given to a port on the subnet: inside
// the CIDR, not its network or (IPv4) broadcast address. Like Neutron it
// may lie outside the allocation pools.
func CheckHost(p netip.Prefix, ip netip.Addr) error {
	if hosts, ok := hostRange(p); !ok || !hosts.Contains(ip) {
		return InvalidIPForSubnet(ip)
	}
	return nil
}

// PoolsOf reads a stored subnet's pools (validated when written).
func PoolsOf(in []api.AllocationPool) []Range {
	out := make([]Range, 0, len(in))
	for _, ap := range in {
		a, err1 := netip.ParseAddr(ap.Start)
		b, err2 := netip.ParseAddr(ap.End)
		if err1 == nil && err2 == nil {
			out = append(out, Range{Start: a, End: b})
		}
	}
	return out
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
