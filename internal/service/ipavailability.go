package service

import (
	"context"
	"sort"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/ipam"
)

// Network IP availability (Neutron's network-ip-availability, admin
// only): per network and subnet, the addresses of the allocation pools
// (total) and the addresses allocated (used), as the cache has them.

// ListIPAvailability returns every network's availability, by network id.
// A version (4 or 6; 0: all) keeps only that version's subnets, and the
// networks that have some, as Neutron's ip_version filter.
func (s *Service) ListIPAvailability(ctx context.Context, version int) ([]api.NetworkIPAvailability, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	if !who.IsAdmin() {
		return nil, forbidden("get_network_ip_availability")
	}
	nets := s.cache.allNetworks()
	out := make([]api.NetworkIPAvailability, 0, len(nets))
	for _, v := range nets {
		if v.obj.Deleting {
			continue
		}
		if a := s.ipAvailability(&v.obj.Network, version); version == 0 || len(a.SubnetIPAvailability) > 0 {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NetworkID < out[j].NetworkID })
	return out, nil
}

// GetIPAvailability returns one network's availability.
func (s *Service) GetIPAvailability(ctx context.Context, id string) (api.NetworkIPAvailability, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.NetworkIPAvailability{}, err
	}
	if !who.IsAdmin() {
		return api.NetworkIPAvailability{}, forbidden("get_network_ip_availability")
	}
	v, ok := s.cache.network(id)
	if !ok || v.obj.Deleting {
		return api.NetworkIPAvailability{}, networkNotFound(id)
	}
	return s.ipAvailability(&v.obj.Network, 0), nil
}

func (s *Service) ipAvailability(n *api.Network, version int) api.NetworkIPAvailability {
	out := api.NetworkIPAvailability{NetworkID: n.ID, NetworkName: n.Name, ProjectID: n.ProjectID, TenantID: n.ProjectID,
		SubnetIPAvailability: []api.SubnetIPAvailability{}}
	for _, id := range n.Subnets {
		v, ok := s.cache.subnet(id)
		if !ok || (version != 0 && v.obj.IPVersion != version) {
			continue
		}
		sub := &v.obj.Subnet
		a := api.SubnetIPAvailability{SubnetID: sub.ID, SubnetName: sub.Name, CIDR: sub.CIDR, IPVersion: sub.IPVersion,
			UsedIPs: uint64(s.cache.ipCount(sub.ID))}
		for _, r := range ipam.PoolsOf(sub.AllocationPools) {
			a.TotalIPs = ipam.AddSat(a.TotalIPs, r.Size())
		}
		out.TotalIPs = ipam.AddSat(out.TotalIPs, a.TotalIPs)
		out.UsedIPs = ipam.AddSat(out.UsedIPs, a.UsedIPs)
		out.SubnetIPAvailability = append(out.SubnetIPAvailability, a)
	}
	return out
}

// ipCount is the number of addresses allocated on a subnet.
func (c *cache) ipCount(subnetID string) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if set := c.ips[subnetID]; set != nil {
		return set.Len()
	}
	return 0
}
