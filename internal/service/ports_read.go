package service

import (
	"context"
	"sort"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/identity"
)

// fillBinding sets the vif fields from the host the port is bound to (its
// own binding:host_id, else the host its agent reported); datapath is that
// host's OVS datapath type.
func fillBinding(p *api.Port, reported, datapath string) {
	host := p.BindingHostID
	if host == "" {
		host = reported
	}
	if host == "" {
		p.BindingVIFType, p.BindingVIFDetails = api.VIFTypeUnbound, map[string]any{}
		return
	}
	if datapath == "" {
		datapath = "system" // Neutron's default
	}
	p.BindingHostID = host
	p.BindingVIFType = api.VIFTypeOVS
	p.BindingVIFDetails = map[string]any{
		"port_filter": true, "ovs_hybrid_plug": false, "datapath_type": datapath,
		"bridge_name": "br-int", "connectivity": "l2",
	}
}

// portView merges the agent-reported status into a stored port. Only the
// record of the host the port is bound to counts (others are stale: the
// port moved); see cache.portStatus.
func (s *Service) portView(p api.Port) api.Port {
	p.Status = api.StatusDown
	reported := ""
	if st, ok := s.cache.portStatus(p.ID, p.BindingHostID); ok {
		reported = st.Host
		if st.Status != "" {
			p.Status = st.Status
		}
	}
	host := p.BindingHostID
	if host == "" {
		host = reported
	}
	fillBinding(&p, reported, s.cache.datapath(host))
	p.ExtraDHCPOpts = nonNil(p.ExtraDHCPOpts)
	p.DNSAssignment = dnsAssignment(&p, s.networkOf(p.NetworkID))
	return p
}

// GetPort returns a port the caller may see.
func (s *Service) GetPort(ctx context.Context, id string) (api.Port, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.Port{}, err
	}
	v, ok := s.cache.port(id)
	if !ok || !s.portVisible(who, &v.obj.Port) {
		return api.Port{}, portNotFound(id)
	}
	return s.portView(v.obj.Port), nil
}

func (s *Service) portVisible(who identity.Identity, p *api.Port) bool {
	return canSeePort(who, p, s.networkOf(p.NetworkID))
}

// networkOf is the cached network with id, nil if there is none (the
// policy of a subnet or port depends on its network's owner).
func (s *Service) networkOf(id string) *api.Network {
	n, ok := s.cache.network(id)
	if !ok {
		return nil
	}
	return &n.obj.Network
}

// ListPorts returns every port the caller may see, by id.
func (s *Service) ListPorts(ctx context.Context) ([]api.Port, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	var out []api.Port
	for _, v := range s.cache.allPorts() {
		if s.portVisible(who, &v.obj.Port) {
			out = append(out, s.portView(v.obj.Port))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
