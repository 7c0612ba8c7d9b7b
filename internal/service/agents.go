package service

import (
	"context"
	"sort"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
)

// ListAgents returns the host agents, one row per role a host runs (see
// AgentRows). Only admins see them (get_agent); as Neutron filters a list
// by policy, others get an empty list, not a 403. An agent is alive while
// its leased key exists; heartbeat_timestamp comes from its heartbeat key.
func (s *Service) ListAgents(ctx context.Context) ([]api.Agent, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !who.IsAdmin() {
		return nil, nil
	}
	if err := s.cache.sync(ctx); err != nil {
		return nil, err
	}
	out, err := s.agentRows(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// GetAgent returns one agent by id (not found for non-admins, who see
// none).
func (s *Service) GetAgent(ctx context.Context, id string) (api.Agent, error) {
	all, err := s.ListAgents(ctx)
	if err != nil {
		return api.Agent{}, err
	}
	for _, a := range all {
		if a.ID == id {
			return a, nil
		}
	}
	return api.Agent{}, fault.New(ErrAgentNotFound, "Agent %s could not be found.", id)
}
