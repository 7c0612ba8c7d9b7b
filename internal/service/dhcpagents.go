package service

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// Errors of the dhcp_agent_scheduler extension, as Neutron names them.
var (
	// ErrInvalidDHCPAgent: the agent is not a DHCP agent or is disabled (404).
	ErrInvalidDHCPAgent = errors.New("service: not a valid DHCP agent")
	// ErrNetworkHostedByDHCPAgent: the network is on that agent already (409).
	ErrNetworkHostedByDHCPAgent = errors.New("service: network hosted by DHCP agent")
	// ErrNetworkNotHostedByDHCPAgent: the network is not on that agent (409).
	ErrNetworkNotHostedByDHCPAgent = errors.New("service: network not hosted by DHCP agent")
)

// DeviceOwnerDHCP is the device_owner of DHCP ports.
const DeviceOwnerDHCP = "network:dhcp"

// DHCPBinding says that the DHCP agent of Host serves NetworkID. Removed
// marks a binding an admin took away (DELETE dhcp-networks): the
// scheduler never puts the network back on that host by itself, until an
// admin adds it again.
type DHCPBinding struct {
	NetworkID string `json:"network_id"`
	Host      string `json:"host"`
	Removed   bool   `json:"removed,omitempty"`
	CreatedAt string `json:"created_at"`
}

// DHCPDeviceID is the device_id of the DHCP port of host on a network,
// Neutron's shape: "dhcp" + uuid5(DNS namespace, host) + "-" + network id.
func DHCPDeviceID(host, networkID string) string {
	return "dhcp" + uuid.NewSHA1(uuid.NameSpaceDNS, []byte(host)).String() + "-" + networkID
}

// dhcpBindings lists every binding from the store (bindings are few and
// read rarely: by the scheduler API and the agents list).
func (s *Service) dhcpBindings(ctx context.Context) ([]versioned[DHCPBinding], error) {
	kvs, _, err := s.st.List(ctx, store.DHCPBindingsPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]versioned[DHCPBinding], 0, len(kvs))
	for _, kv := range kvs {
		var b DHCPBinding
		if json.Unmarshal(kv.Value, &b) == nil {
			out = append(out, versioned[DHCPBinding]{b, kv.ModRevision})
		}
	}
	return out, nil
}

// dhcpRow finds a DHCP agent row by id for the scheduler API (admin only).
func (s *Service) dhcpRow(ctx context.Context, who identity.Identity, agentID, action string) (api.Agent, error) {
	if !who.IsAdmin() {
		return api.Agent{}, forbidden(action)
	}
	return s.GetAgent(ctx, agentID)
}

// ListDHCPNetworks is GET /v2.0/agents/{id}/dhcp-networks: the networks
// the agent serves.
func (s *Service) ListDHCPNetworks(ctx context.Context, agentID string) ([]api.Network, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.dhcpRow(ctx, who, agentID, "get_dhcp-networks")
	if err != nil {
		return nil, err
	}
	out := []api.Network{}
	if a.AgentType != api.AgentTypeDHCP {
		return out, nil
	}
	binds, err := s.dhcpBindings(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range binds {
		if b.obj.Host != a.Host || b.obj.Removed {
			continue
		}
		if n, ok := s.cache.network(b.obj.NetworkID); ok && !n.obj.Deleting {
			out = append(out, n.obj.Network)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ListNetworkDHCPAgents is GET /v2.0/networks/{id}/dhcp-agents.
func (s *Service) ListNetworkDHCPAgents(ctx context.Context, networkID string) ([]api.Agent, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	if !who.IsAdmin() {
		return nil, forbidden("get_dhcp-agents")
	}
	if _, ok := s.cache.network(networkID); !ok {
		return nil, networkNotFound(networkID)
	}
	binds, err := s.dhcpBindings(ctx)
	if err != nil {
		return nil, err
	}
	hosts := map[string]bool{}
	for _, b := range binds {
		if b.obj.NetworkID == networkID && !b.obj.Removed {
			hosts[b.obj.Host] = true
		}
	}
	rows, err := s.ListAgents(ctx)
	if err != nil {
		return nil, err
	}
	out := []api.Agent{}
	for _, a := range rows {
		if a.AgentType == api.AgentTypeDHCP && hosts[a.Host] {
			out = append(out, a)
		}
	}
	return out, nil
}

// AddDHCPNetwork is POST /v2.0/agents/{id}/dhcp-networks: the agent serves
// the network from now on (the scheduler creates its DHCP port), even
// beyond dhcp_agents_per_network, as in Neutron.
func (s *Service) AddDHCPNetwork(ctx context.Context, agentID, networkID string) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	if !who.IsAdmin() {
		return forbidden("create_dhcp-network")
	}
	if n, ok := s.cache.network(networkID); !ok || n.obj.Deleting {
		return networkNotFound(networkID)
	}
	a, err := s.dhcpRow(ctx, who, agentID, "create_dhcp-network")
	if err != nil {
		return err
	}
	if a.AgentType != api.AgentTypeDHCP || !a.AdminStateUp {
		return fault.New(ErrInvalidDHCPAgent, "Agent %s is not a valid DHCP Agent or has been disabled", agentID)
	}
	key := store.DHCPBindingKey(networkID, a.Host)
	return s.retry(ctx, func() error {
		n, ok := s.cache.network(networkID)
		if !ok || n.obj.Deleting {
			return networkNotFound(networkID)
		}
		var rev int64
		if kv, err := s.st.Get(ctx, key); err == nil {
			var b DHCPBinding
			if json.Unmarshal(kv.Value, &b) == nil && !b.Removed {
				return fault.New(ErrNetworkHostedByDHCPAgent, "The network %s has been already hosted by the DHCP Agent %s.", networkID, agentID)
			}
			rev = kv.ModRevision
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		b := DHCPBinding{NetworkID: networkID, Host: a.Host, CreatedAt: s.timestamp()}
		_, err := s.txn(ctx, []store.Cond{{Key: key, ModRevision: rev}, {Key: store.NetworkKey(networkID), ModRevision: n.rev}},
			[]store.Op{{Key: key, Value: mustJSON(b)}})
		return err
	})
}

// RemoveDHCPNetwork is DELETE /v2.0/agents/{id}/dhcp-networks/{network}:
// the agent stops serving the network, its DHCP port goes in the same
// transaction, and the binding stays as a removal mark (see DHCPBinding).
func (s *Service) RemoveDHCPNetwork(ctx context.Context, agentID, networkID string) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	if !who.IsAdmin() {
		return forbidden("delete_dhcp-network")
	}
	if _, ok := s.cache.network(networkID); !ok {
		return networkNotFound(networkID)
	}
	a, err := s.dhcpRow(ctx, who, agentID, "delete_dhcp-network")
	if err != nil {
		return err
	}
	notHosted := fault.New(ErrNetworkNotHostedByDHCPAgent, "The network %s is not hosted by the DHCP agent %s.", networkID, agentID)
	if a.AgentType != api.AgentTypeDHCP {
		return notHosted
	}
	return s.retry(ctx, func() error {
		key := store.DHCPBindingKey(networkID, a.Host)
		kv, err := s.st.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return notHosted
		} else if err != nil {
			return err
		}
		var b DHCPBinding
		if json.Unmarshal(kv.Value, &b) != nil || b.Removed {
			return notHosted
		}
		b.Removed = true
		conds, ops := s.dhcpPortDeletes(networkID, a.Host)
		conds = append(conds, store.Cond{Key: key, ModRevision: kv.ModRevision})
		_, err = s.txn(ctx, conds, append(ops, store.Op{Key: key, Value: mustJSON(b)}))
		return err
	})
}

// dhcpPortDeletes are the deletes of host's DHCP ports on a network.
func (s *Service) dhcpPortDeletes(networkID, host string) ([]store.Cond, []store.Op) {
	var conds []store.Cond
	var ops []store.Op
	dev := DHCPDeviceID(host, networkID)
	for _, p := range s.cache.networkPorts(networkID) {
		if p.obj.DeviceOwner == DeviceOwnerDHCP && p.obj.DeviceID == dev {
			conds = append(conds, store.Cond{Key: store.PortKey(p.obj.ID), ModRevision: p.rev})
			ops = append(ops, s.portDeleteOps(&p.obj)...)
		}
	}
	return conds, ops
}

// BindDHCP makes host's DHCP agent serve a network (the scheduler's
// placement). An existing binding, removal marks included, is left alone.
func (s *Service) BindDHCP(ctx context.Context, networkID, host string) error {
	b := DHCPBinding{NetworkID: networkID, Host: host, CreatedAt: s.timestamp()}
	key := store.DHCPBindingKey(networkID, host)
	_, err := s.txn(ctx, []store.Cond{{Key: key}}, []store.Op{{Key: key, Value: mustJSON(b)}})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	return err
}

// UnbindDHCP forgets a binding and deletes host's DHCP port on the network
// in one transaction (the scheduler moving a network off a dead host, or
// cleaning up after a deleted network).
func (s *Service) UnbindDHCP(ctx context.Context, networkID, host string) error {
	if err := s.cache.sync(ctx); err != nil {
		return err
	}
	return s.retry(ctx, func() error {
		conds, ops := s.dhcpPortDeletes(networkID, host)
		_, err := s.txn(ctx, conds, append(ops, store.Op{Key: store.DHCPBindingKey(networkID, host), Delete: true}))
		return err
	})
}

// schedulerCtx is the identity the scheduler writes ports with.
func schedulerCtx(ctx context.Context) context.Context {
	return identity.WithContext(ctx, identity.Identity{UserName: "vland-scheduler", Roles: []string{identity.RoleAdmin}})
}

// CreateDHCPPort creates host's DHCP port on a network: project of the
// network, bound to host, one address on each of subnets.
func (s *Service) CreateDHCPPort(ctx context.Context, n api.Network, host string, subnets []string) (api.Port, error) {
	ips := make([]api.FixedIP, len(subnets))
	for i, id := range subnets {
		ips[i] = api.FixedIP{SubnetID: id}
	}
	r := PortRequest{
		NetworkID: Some(n.ID), ProjectID: Some(n.ProjectID), DeviceOwner: Some(DeviceOwnerDHCP),
		DeviceID: Some(DHCPDeviceID(host, n.ID)), BindingHostID: Some(host), FixedIPs: Some(ips),
	}
	ports, err := s.CreatePorts(schedulerCtx(ctx), []PortRequest{r})
	if err != nil {
		return api.Port{}, err
	}
	return ports[0], nil
}

// SetDHCPPortSubnets gives a DHCP port one address on each of subnets,
// keeping the addresses it has on them.
func (s *Service) SetDHCPPortSubnets(ctx context.Context, portID string, subnets []string) error {
	ips := make([]api.FixedIP, len(subnets))
	for i, id := range subnets {
		ips[i] = api.FixedIP{SubnetID: id}
	}
	_, err := s.UpdatePort(schedulerCtx(ctx), portID, PortRequest{FixedIPs: Some(ips)}, -1)
	return err
}

// DeleteDHCPPort deletes a DHCP port the scheduler no longer wants.
func (s *Service) DeleteDHCPPort(ctx context.Context, portID string) error {
	err := s.DeletePort(schedulerCtx(ctx), portID, -1)
	if errors.Is(err, ErrPortNotFound) {
		return nil
	}
	return err
}

// IsSchedulerDHCPPort reports whether p is a DHCP port the scheduler
// manages: its device_id has the shape DHCPDeviceID gives (DHCP ports that
// users create with other device ids are left alone).
func IsSchedulerDHCPPort(p *api.Port) bool {
	return p.DeviceOwner == DeviceOwnerDHCP && strings.HasPrefix(p.DeviceID, "dhcp") &&
		strings.HasSuffix(p.DeviceID, "-"+p.NetworkID)
}
