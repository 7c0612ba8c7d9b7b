package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/store"
)

// ErrAgentAlive: an admin tried to delete an agent that is still alive
// (it would register again at once).
var ErrAgentAlive = errors.New("service: agent is alive")

// agentIDSpace is the UUID namespace of the ids of service rows: the row
// of role R on host H is uuid5(agentIDSpace, "H/R"), stable across agent
// and server restarts without storing it.
var agentIDSpace = uuid.MustParse("6b1f8a52-8f0c-4b43-9a3e-3c1d5a3b7e21")

// AgentRowID is the id of a host's row for a role other than compute (the
// compute row keeps the id in the host's record).
func AgentRowID(host, role string) string {
	return uuid.NewSHA1(agentIDSpace, []byte(host+"/"+role)).String()
}

// agentSettings is what an admin set on one row (PUT /v2.0/agents/{id}).
type agentSettings struct {
	AdminStateUp *bool   `json:"admin_state_up,omitempty"`
	Description  *string `json:"description,omitempty"`
}

// AgentRequest is PUT /v2.0/agents/{id}.
type AgentRequest struct {
	AdminStateUp Opt[bool]
	Description  Opt[string]
}

// AgentRows expands host records into /v2.0/agents rows, one per role
// the host runs, with the settings admins gave each row (by agent id).
// dhcpNets counts the networks each host's DHCP agent serves.
func AgentRows(recs []api.Agent, settings map[string]agentSettings, dhcpNets map[string]int) []api.Agent {
	var out []api.Agent
	for _, rec := range recs {
		roles := api.RolesOf(&rec)
		for _, ar := range api.AgentRoles {
			if !slices.Contains(roles, ar.Role) {
				continue
			}
			row := rec
			row.AgentType, row.Binary, row.Topic = ar.AgentType, ar.Binary, ar.Topic
			if ar.Role != api.RoleCompute {
				row.ID = AgentRowID(rec.Host, ar.Role)
				row.Configurations = api.AgentConfig{Service: serviceConfig(ar.Role, dhcpNets[rec.Host])}
			}
			if st, ok := settings[row.ID]; ok {
				row.AdminStateUp = deref(st.AdminStateUp, row.AdminStateUp)
				row.Description = deref(st.Description, row.Description)
			}
			out = append(out, row)
		}
	}
	return out
}

// serviceConfig is a service row's configurations, in Neutron's keys.
func serviceConfig(role string, networks int) map[string]any {
	switch role {
	case api.RoleDHCP:
		return map[string]any{"dhcp_driver": "dnsmasq", "dhcp_lease_duration": 86400, "networks": networks,
			"notifies_port_ready": true, "log_agent_heartbeats": false}
	case api.RoleL3:
		return map[string]any{"agent_mode": "legacy", "routers": 0, "log_agent_heartbeats": false}
	default:
		return map[string]any{"log_agent_heartbeats": false}
	}
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// agentRows returns every row, alive from the cache, settings and DHCP
// bindings from the store.
func (s *Service) agentRows(ctx context.Context) ([]api.Agent, error) {
	settings, err := s.agentSettings(ctx)
	if err != nil {
		return nil, err
	}
	binds, err := s.dhcpBindings(ctx)
	if err != nil {
		return nil, err
	}
	perHost := map[string]int{}
	for _, b := range binds {
		if !b.obj.Removed {
			perHost[b.obj.Host]++
		}
	}
	return AgentRows(s.cache.agentList(), settings, perHost), nil
}

func (s *Service) agentSettings(ctx context.Context) (map[string]agentSettings, error) {
	kvs, _, err := s.st.List(ctx, store.AgentSettingsPrefix)
	if err != nil {
		return nil, err
	}
	out := map[string]agentSettings{}
	for _, kv := range kvs {
		var st agentSettings
		if json.Unmarshal(kv.Value, &st) == nil {
			out[kv.Key[len(store.AgentSettingsPrefix):]] = st
		}
	}
	return out, nil
}

// UpdateAgent sets a row's admin_state_up or description (admin only). A
// DHCP agent that is disabled gets no new networks but keeps its own.
func (s *Service) UpdateAgent(ctx context.Context, id string, r AgentRequest, _ int64) (api.Agent, error) {
	if _, err := s.GetAgent(ctx, id); err != nil { // admin only: others see none (404)
		return api.Agent{}, err
	}
	key := store.AgentSettingsKey(id)
	err := s.retry(ctx, func() error {
		var st agentSettings
		var rev int64
		if kv, err := s.st.Get(ctx, key); err == nil {
			_ = json.Unmarshal(kv.Value, &st)
			rev = kv.ModRevision
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if r.AdminStateUp.Set {
			st.AdminStateUp = &r.AdminStateUp.V
		}
		if r.Description.Set {
			st.Description = &r.Description.V
		}
		_, err := s.txn(ctx, []store.Cond{{Key: key, ModRevision: rev}}, []store.Op{{Key: key, Value: mustJSON(st)}})
		return err
	})
	if err != nil {
		return api.Agent{}, err
	}
	return s.GetAgent(ctx, id)
}

// DeleteAgent forgets a dead host: its record (all its rows), its
// settings and its DHCP bindings, which the scheduler then places
// elsewhere. A live agent is a 409: it would only register again.
func (s *Service) DeleteAgent(ctx context.Context, id string, _ int64) error {
	a, err := s.GetAgent(ctx, id) // admin only: others see no agents
	if err != nil {
		return err
	}
	if a.Alive {
		return fault.New(ErrAgentAlive, "Agent %s is alive; stop it before deleting it.", id)
	}
	ops := []store.Op{{Key: store.AgentKey(a.Host), Delete: true}, {Key: store.AgentHeartbeatKey(a.Host), Delete: true}}
	for _, ar := range api.AgentRoles {
		rid := AgentRowID(a.Host, ar.Role)
		if ar.Role == api.RoleCompute {
			rid = s.computeRowID(a.Host)
		}
		ops = append(ops, store.Op{Key: store.AgentSettingsKey(rid), Delete: true})
	}
	binds, err := s.dhcpBindings(ctx)
	if err != nil {
		return err
	}
	for _, b := range binds {
		if b.obj.Host == a.Host {
			ops = append(ops, store.Op{Key: store.DHCPBindingKey(b.obj.NetworkID, a.Host), Delete: true})
		}
	}
	if _, err := s.txn(ctx, nil, ops); err != nil {
		return fmt.Errorf("service: delete agent: %w", err)
	}
	return nil
}

// computeRowID is the id in the host's record ("" if none).
func (s *Service) computeRowID(host string) string {
	for _, a := range s.cache.agentList() {
		if a.Host == host {
			return a.ID
		}
	}
	return ""
}
