package service

import (
	"net/netip"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/ipam"
	"github.com/vland/vland/internal/store"
)

// alloc collects what one write allocates: the keys to compare-and-create
// and the in-process reservations to release when the attempt ends.
type alloc struct {
	s         *Service
	owner     string   // the port's device_owner
	keys      []string // allocation keys to create (cond: absent)
	reserved  []string // reservation keys held
	committed bool     // keys are in the store (and claimed in the cache)

	// who is the caller: errors must not reveal what it cannot see.
	who identity.Identity
}

// release gives up the attempt's reservations; addresses it held but did
// not commit are free again for the cache's lowest-free scan.
func (a *alloc) release() {
	a.s.res.release(a.reserved...)
	if !a.committed {
		a.s.cache.release(a.reserved)
	}
}

// commit records that the attempt's keys are stored.
func (a *alloc) commit() {
	a.s.cache.claim(a.keys...)
	a.committed = true
}

// reserve takes key for this attempt; false if another in-flight request
// of this server holds it or the cache knows it is allocated.
func (a *alloc) reserve(key string, used bool) bool {
	if used || !a.s.res.take(key) {
		return false
	}
	a.reserved = append(a.reserved, key)
	a.keys = append(a.keys, key)
	return true
}

// chooseMAC reserves the requested MAC or a random free one.
func (a *alloc) chooseMAC(want Opt[string], netID string) (string, error) {
	if want.has() {
		mac, err := ipam.NormalizeMAC(want.V)
		if err != nil {
			return "", err
		}
		if !a.reserve(store.MACKey(netID, mac), a.s.cache.hasMAC(netID, mac)) {
			return "", ipam.MACInUse(netID, mac)
		}
		return mac, nil
	}
	for range 64 {
		mac := ipam.RandomMAC()
		if a.reserve(store.MACKey(netID, mac), a.s.cache.hasMAC(netID, mac)) {
			return mac, nil
		}
	}
	return "", fault.New(ErrBusy, "Unable to generate a unique mac address; retry.")
}

// subnetSet is the subnets of one network, as the port's write sees them.
type subnetSet struct {
	byID  map[string]versioned[storedSubnet]
	order []string // the network's subnet order
}

func (s *Service) networkSubnets(n *api.Network) subnetSet {
	set := subnetSet{byID: map[string]versioned[storedSubnet]{}}
	for _, id := range n.Subnets {
		if v, ok := s.cache.subnet(id); ok && !v.obj.Deleting {
			set.byID[id] = v
			set.order = append(set.order, id)
		}
	}
	return set
}

// fixedIPs resolves a port's requested fixed_ips (or the automatic
// choice) into addresses, reserving each. keep are addresses the port
// already holds (on update) and may keep without a new allocation.
func (a *alloc) fixedIPs(req Opt[[]api.FixedIP], n *api.Network, subs subnetSet, keep map[api.FixedIP]bool) ([]api.FixedIP, error) {
	if !req.Set {
		return a.automatic(n, subs)
	}
	if max := a.s.cfg.MaxFixedIPsPerPort; len(req.V) > max {
		return nil, fault.InvalidInput("Exceeded maximum amount of fixed ips per port: %d given, at most %d.", len(req.V), max)
	}
	out := make([]api.FixedIP, 0, len(req.V))
	seen := map[api.FixedIP]bool{}
	for _, f := range req.V {
		got, err := a.oneFixedIP(f, n, subs, keep)
		if err != nil {
			return nil, err
		}
		if seen[got] {
			return nil, fault.InvalidInput("Duplicate IP address '%s'", got.IPAddress)
		}
		seen[got] = true
		out = append(out, got)
	}
	return out, nil
}

// automatic gives one address from the first subnet of each IP version
// that has a free one (Neutron's default allocation).
func (a *alloc) automatic(n *api.Network, subs subnetSet) ([]api.FixedIP, error) {
	var out []api.FixedIP
	for _, version := range []int{4, 6} {
		tried, got := false, false
		for _, id := range subs.order {
			v := subs.byID[id]
			sub := &v.obj.Subnet
			if sub.IPVersion != version {
				continue
			}
			tried = true
			if ip, ok := a.freeIP(sub); ok {
				out = append(out, api.FixedIP{SubnetID: id, IPAddress: ip.String()})
				got = true
				break
			}
		}
		if tried && !got {
			return nil, ipam.GenerationFailure(n.ID)
		}
	}
	return nonNil(out), nil
}

// freeIP reserves the lowest free address of the subnet's pools.
func (a *alloc) freeIP(sub *api.Subnet) (netip.Addr, bool) {
	return a.s.cache.lowestFree(sub.ID, ipam.PoolsOf(sub.AllocationPools), func(ip netip.Addr) bool {
		return a.reserve(store.IPKey(sub.ID, ip.String()), false)
	})
}

// oneFixedIP resolves one fixed_ips entry: by subnet, by address (which
// implies its subnet), or both.
func (a *alloc) oneFixedIP(f api.FixedIP, n *api.Network, subs subnetSet, keep map[api.FixedIP]bool) (api.FixedIP, error) {
	if f.SubnetID == "" && f.IPAddress == "" {
		return f, fault.BadAttr("fixed_ips", "a fixed IP needs a subnet_id or an ip_address")
	}
	var ip netip.Addr
	if f.IPAddress != "" {
		var err error
		if ip, err = ipam.ParseAddr("fixed_ips", f.IPAddress); err != nil {
			return f, err
		}
	}
	v, err := a.subnetFor(f.SubnetID, ip, n, subs)
	if err != nil {
		return f, err
	}
	sub := &v.obj.Subnet
	if !ip.IsValid() {
		got, ok := a.freeIP(sub)
		if !ok {
			return f, ipam.GenerationFailure(n.ID)
		}
		return api.FixedIP{SubnetID: sub.ID, IPAddress: got.String()}, nil
	}
	out := api.FixedIP{SubnetID: sub.ID, IPAddress: ip.String()}
	if keep[out] {
		return out, nil
	}
	if err := checkHostIP(sub, ip, a.owner); err != nil {
		return out, err
	}
	if !a.reserve(store.IPKey(sub.ID, out.IPAddress), a.s.cache.hasIP(sub.ID, ip)) {
		return out, ipam.AlreadyAllocated(ip, sub.ID)
	}
	return out, nil
}

// subnetFor finds the subnet of a fixed_ips entry on network n.
func (a *alloc) subnetFor(id string, ip netip.Addr, n *api.Network, subs subnetSet) (versioned[storedSubnet], error) {
	if id != "" {
		v, ok := subs.byID[id]
		if !ok {
			// Another network's subnet is "invalid" only if the caller
			// may see it; else it is missing, as one that does not exist.
			other, exists := a.s.cache.subnet(id)
			if !exists || !a.s.subnetVisible(a.who, &other.obj.Subnet) {
				return v, subnetNotFound(id)
			}
			return v, fault.InvalidInput("Failed to create port on network %s, because fixed_ips included invalid subnet %s", n.ID, id)
		}
		if ip.IsValid() && !netip.MustParsePrefix(v.obj.CIDR).Contains(ip) {
			return v, ipam.InvalidIPForSubnet(ip)
		}
		return v, nil
	}
	for _, sid := range subs.order {
		if netip.MustParsePrefix(subs.byID[sid].obj.CIDR).Contains(ip) {
			return subs.byID[sid], nil
		}
	}
	return versioned[storedSubnet]{}, ipam.NoSubnetFor(ip)
}

// checkHostIP rejects the network and broadcast addresses, and the
// gateway address for anything but a router interface.
func checkHostIP(sub *api.Subnet, ip netip.Addr, owner string) error {
	if err := ipam.CheckHost(netip.MustParsePrefix(sub.CIDR), ip); err != nil {
		return err
	}
	if sub.GatewayIP != nil && *sub.GatewayIP == ip.String() && !strings.HasPrefix(owner, "network:router_interface") {
		return ipam.AlreadyAllocated(ip, sub.ID)
	}
	return nil
}
