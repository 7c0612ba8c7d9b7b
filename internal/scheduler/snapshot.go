package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/service"
	"github.com/vland/vland/internal/store"
)

// snapshot is what one scheduling pass decides from, read from the store.
type snapshot struct {
	networks map[string]network
	hosts    map[string]host
	// bindings: network id -> host -> removed by an admin.
	bindings map[string]map[string]bool
	ports    []api.Port // the DHCP ports the scheduler manages
	// dhcpIndex are the network port index keys of DHCP ports.
	dhcpIndex map[string]bool
	// routers are the router ids; l3Bindings: router id -> host -> removed.
	routers    map[string]bool
	l3Bindings map[string]map[string]bool
}

type network struct {
	api.Network
	Deleting    bool `json:"vland:deleting"`
	dhcpSubnets []string
}

// host is one host's agent as the scheduler sees it.
type host struct {
	dhcp    bool // runs the DHCP role
	alive   bool
	enabled bool // the DHCP row's admin_state_up
	l3      bool // runs the L3 role
	l3On    bool // the L3 row's admin_state_up
}

// read lists what the scheduler needs. Each prefix is read on its own;
// a change between the reads triggers another pass anyway.
func read(ctx context.Context, st store.Store) (*snapshot, error) {
	s := &snapshot{networks: map[string]network{}, hosts: map[string]host{}, bindings: map[string]map[string]bool{},
		dhcpIndex: map[string]bool{}, routers: map[string]bool{}, l3Bindings: map[string]map[string]bool{}}
	if err := each(ctx, st, store.NetworksPrefix, func(_ string, n network) {
		if !n.Deleting {
			s.networks[n.ID] = n
		}
	}); err != nil {
		return nil, err
	}
	if err := each(ctx, st, store.SubnetsPrefix, func(_ string, sub api.Subnet) {
		if n, ok := s.networks[sub.NetworkID]; ok && sub.EnableDHCP {
			n.dhcpSubnets = append(n.dhcpSubnets, sub.ID)
			s.networks[sub.NetworkID] = n
		}
	}); err != nil {
		return nil, err
	}
	for id, n := range s.networks {
		slices.Sort(n.dhcpSubnets)
		s.networks[id] = n
	}
	if err := s.readDHCPPorts(ctx, st); err != nil {
		return nil, err
	}
	if err := s.readAgents(ctx, st); err != nil {
		return nil, err
	}
	if err := each(ctx, st, store.RoutersPrefix, func(_ string, r api.Router) { s.routers[r.ID] = true }); err != nil {
		return nil, err
	}
	if err := each(ctx, st, store.L3BindingsPrefix, func(_ string, b service.L3Binding) {
		if s.l3Bindings[b.RouterID] == nil {
			s.l3Bindings[b.RouterID] = map[string]bool{}
		}
		s.l3Bindings[b.RouterID][b.Host] = b.Removed
	}); err != nil {
		return nil, err
	}
	return s, each(ctx, st, store.DHCPBindingsPrefix, func(_ string, b service.DHCPBinding) {
		if s.bindings[b.NetworkID] == nil {
			s.bindings[b.NetworkID] = map[string]bool{}
		}
		s.bindings[b.NetworkID][b.Host] = b.Removed
	})
}

// readDHCPPorts finds the DHCP ports through the network port index,
// whose values are copies of the ports. A value of an older server (the
// device_owner alone) sends it to the port's own key.
func (s *snapshot) readDHCPPorts(ctx context.Context, st store.Store) error {
	kvs, _, err := st.List(ctx, store.NetworkPortsPrefix)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		if store.PortIndexOwner(kv.Value) != service.DeviceOwnerDHCP {
			continue
		}
		s.dhcpIndex[kv.Key] = true
		value := kv.Value
		if value[0] != '{' {
			id := kv.Key[strings.LastIndex(kv.Key, "/")+1:]
			pkv, err := st.Get(ctx, store.PortKey(id))
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted since the listing
			} else if err != nil {
				return err
			}
			value = pkv.Value
		}
		var p api.Port
		if json.Unmarshal(value, &p) == nil && service.IsSchedulerDHCPPort(&p) {
			s.ports = append(s.ports, p)
		}
	}
	return nil
}

func (s *snapshot) readAgents(ctx context.Context, st store.Store) error {
	settings := map[string]bool{}
	if err := each(ctx, st, store.AgentSettingsPrefix, func(key string, v struct {
		AdminStateUp *bool `json:"admin_state_up"`
	}) {
		if v.AdminStateUp != nil {
			settings[strings.TrimPrefix(key, store.AgentSettingsPrefix)] = *v.AdminStateUp
		}
	}); err != nil {
		return err
	}
	if err := each(ctx, st, store.AgentsPrefix, func(_ string, a api.Agent) {
		enabled, set := settings[service.AgentRowID(a.Host, api.RoleDHCP)]
		l3On, l3Set := settings[service.AgentRowID(a.Host, api.RoleL3)]
		s.hosts[a.Host] = host{dhcp: slices.Contains(api.RolesOf(&a), api.RoleDHCP), enabled: enabled || !set,
			l3: slices.Contains(api.RolesOf(&a), api.RoleL3), l3On: l3On || !l3Set}
	}); err != nil {
		return err
	}
	keys, _, err := st.ListKeys(ctx, store.AgentAlivePrefix)
	if err != nil {
		return err
	}
	for _, k := range keys {
		name := strings.TrimPrefix(k, store.AgentAlivePrefix)
		if h, ok := s.hosts[name]; ok {
			h.alive = true
			s.hosts[name] = h
		}
	}
	return nil
}

// each decodes every value under prefix; undecodable values are skipped.
func each[T any](ctx context.Context, st store.Store, prefix string, f func(key string, v T)) error {
	kvs, _, err := st.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		var v T
		if json.Unmarshal(kv.Value, &v) == nil {
			f(kv.Key, v)
		}
	}
	return nil
}
