package service

import (
	"context"
	"encoding/json"
	"errors"
	"sort"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/store"
)

// Errors of the l3_agent_scheduler extension, as Neutron names them.
var (
	// ErrInvalidL3Agent: the agent is not an L3 agent or is disabled (404).
	ErrInvalidL3Agent = errors.New("service: not a valid L3 agent")
	// ErrRouterHostedByL3Agent: the router is on an L3 agent already (409).
	ErrRouterHostedByL3Agent = errors.New("service: router hosted by L3 agent")
	// ErrRouterNotHostedByL3Agent: the router is not on that agent (409).
	ErrRouterNotHostedByL3Agent = errors.New("service: router not hosted by L3 agent")
)

// L3Binding says that the L3 agent of Host realises RouterID. Removed marks
// a binding an admin took away (DELETE l3-routers): the scheduler does not
// put the router back on that host by itself (see DHCPBinding).
type L3Binding struct {
	RouterID  string `json:"router_id"`
	Host      string `json:"host"`
	Removed   bool   `json:"removed,omitempty"`
	CreatedAt string `json:"created_at"`
}

func (s *Service) l3Bindings(ctx context.Context) ([]versioned[L3Binding], error) {
	kvs, _, err := s.st.List(ctx, store.L3BindingsPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]versioned[L3Binding], 0, len(kvs))
	for _, kv := range kvs {
		var b L3Binding
		if json.Unmarshal(kv.Value, &b) == nil {
			out = append(out, versioned[L3Binding]{b, kv.ModRevision})
		}
	}
	return out, nil
}

// ListL3Routers is GET /v2.0/agents/{id}/l3-routers: the routers the
// agent realises.
func (s *Service) ListL3Routers(ctx context.Context, agentID string) ([]api.Router, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.dhcpRow(ctx, who, agentID, "get_l3-routers")
	if err != nil {
		return nil, err
	}
	out := []api.Router{}
	if a.AgentType != api.AgentTypeL3 {
		return out, nil
	}
	binds, err := s.l3Bindings(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range binds {
		if b.obj.Host != a.Host || b.obj.Removed {
			continue
		}
		if r, ok := s.cache.router(b.obj.RouterID); ok {
			out = append(out, r.obj.Router)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ListRouterL3Agents is GET /v2.0/routers/{id}/l3-agents.
func (s *Service) ListRouterL3Agents(ctx context.Context, routerID string) ([]api.Agent, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	if !who.IsAdmin() {
		return nil, forbidden("get_l3-agents")
	}
	if _, ok := s.cache.router(routerID); !ok {
		return nil, routerNotFound(routerID)
	}
	hosts, err := s.routerHosts(ctx, routerID)
	if err != nil {
		return nil, err
	}
	rows, err := s.ListAgents(ctx)
	if err != nil {
		return nil, err
	}
	out := []api.Agent{}
	for _, a := range rows {
		if a.AgentType == api.AgentTypeL3 && hosts[a.Host] {
			out = append(out, a)
		}
	}
	return out, nil
}

// routerHosts are the hosts bound to a router (removal marks aside).
func (s *Service) routerHosts(ctx context.Context, routerID string) (map[string]bool, error) {
	binds, err := s.l3Bindings(ctx)
	if err != nil {
		return nil, err
	}
	hosts := map[string]bool{}
	for _, b := range binds {
		if b.obj.RouterID == routerID && !b.obj.Removed {
			hosts[b.obj.Host] = true
		}
	}
	return hosts, nil
}

// AddL3Router is POST /v2.0/agents/{id}/l3-routers: the agent realises the
// router from now on (already there: a no-op). A router lives on one L3
// agent: one hosted elsewhere is 409 (remove it there first), as in Neutron.
func (s *Service) AddL3Router(ctx context.Context, agentID, routerID string) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	if !who.IsAdmin() {
		return forbidden("create_l3-router")
	}
	if _, ok := s.cache.router(routerID); !ok {
		return routerNotFound(routerID)
	}
	a, err := s.dhcpRow(ctx, who, agentID, "create_l3-router")
	if err != nil {
		return err
	}
	if a.AgentType != api.AgentTypeL3 || !a.AdminStateUp {
		return fault.New(ErrInvalidL3Agent, "Agent %s is not a L3 Agent or has been disabled", agentID)
	}
	return s.retry(ctx, func() error {
		r, ok := s.cache.router(routerID)
		if !ok {
			return routerNotFound(routerID)
		}
		kvs, _, err := s.st.List(ctx, store.L3BindingsOf(routerID))
		if err != nil {
			return err
		}
		conds := []store.Cond{{Key: store.RouterKey(routerID), ModRevision: r.rev}}
		key := store.L3BindingKey(routerID, a.Host)
		var have bool
		for _, kv := range kvs {
			var b L3Binding
			if json.Unmarshal(kv.Value, &b) != nil {
				continue
			}
			if kv.Key == key {
				if !b.Removed {
					return nil // already there: nothing to do, as Neutron
				}
				have = true
				conds = append(conds, store.Cond{Key: key, ModRevision: kv.ModRevision})
			}
			if !b.Removed {
				return fault.New(ErrRouterHostedByL3Agent, "The router %s has been already hosted by the L3 Agent %s.", routerID, AgentRowID(b.Host, api.RoleL3))
			}
		}
		if !have {
			conds = append(conds, store.Cond{Key: key})
		}
		b := L3Binding{RouterID: routerID, Host: a.Host, CreatedAt: s.timestamp()}
		_, err = s.txn(ctx, conds, []store.Op{{Key: key, Value: mustJSON(b)}})
		return err
	})
}

// RemoveL3Router is DELETE /v2.0/agents/{id}/l3-routers/{router}: the
// agent stops realising the router; the binding stays as a removal mark.
func (s *Service) RemoveL3Router(ctx context.Context, agentID, routerID string) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	if !who.IsAdmin() {
		return forbidden("delete_l3-router")
	}
	if _, ok := s.cache.router(routerID); !ok {
		return routerNotFound(routerID)
	}
	a, err := s.dhcpRow(ctx, who, agentID, "delete_l3-router")
	if err != nil {
		return err
	}
	notHosted := fault.New(ErrRouterNotHostedByL3Agent, "The router %s is not hosted by L3 agent %s.", routerID, agentID)
	if a.AgentType != api.AgentTypeL3 {
		return notHosted
	}
	return s.retry(ctx, func() error {
		key := store.L3BindingKey(routerID, a.Host)
		kv, err := s.st.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return notHosted
		} else if err != nil {
			return err
		}
		var b L3Binding
		if json.Unmarshal(kv.Value, &b) != nil || b.Removed {
			return notHosted
		}
		b.Removed = true
		_, err = s.txn(ctx, []store.Cond{{Key: key, ModRevision: kv.ModRevision}}, []store.Op{{Key: key, Value: mustJSON(b)}})
		return err
	})
}

// BindL3 makes host's L3 agent realise a router (the scheduler's
// placement). An existing binding, removal marks included, is left alone.
func (s *Service) BindL3(ctx context.Context, routerID, host string) error {
	b := L3Binding{RouterID: routerID, Host: host, CreatedAt: s.timestamp()}
	key := store.L3BindingKey(routerID, host)
	_, err := s.txn(ctx, []store.Cond{{Key: key}}, []store.Op{{Key: key, Value: mustJSON(b)}})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	return err
}

// UnbindL3 forgets a binding (the scheduler moving a router off a dead
// host, or cleaning up after a deleted router).
func (s *Service) UnbindL3(ctx context.Context, routerID, host string) error {
	_, err := s.txn(ctx, nil, []store.Op{{Key: store.L3BindingKey(routerID, host), Delete: true}})
	return err
}
