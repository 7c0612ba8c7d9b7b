package neutron

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/service"
)

// agentAPI is what agent management (PUT, DELETE) and the
// dhcp_agent_scheduler extension need from the service.
type agentAPI interface {
	UpdateAgent(ctx context.Context, id string, r service.AgentRequest, ifMatch int64) (api.Agent, error)
	DeleteAgent(ctx context.Context, id string, ifMatch int64) error
	ListDHCPNetworks(ctx context.Context, agentID string) ([]api.Network, error)
	AddDHCPNetwork(ctx context.Context, agentID, networkID string) error
	RemoveDHCPNetwork(ctx context.Context, agentID, networkID string) error
	ListNetworkDHCPAgents(ctx context.Context, networkID string) ([]api.Agent, error)
}

type agentReq = service.AgentRequest

// agentAttrs are what PUT /v2.0/agents/{id} may change.
var agentAttrs = func() map[string]attr[agentReq] {
	t := map[string]attr[agentReq]{
		"admin_state_up": rw(bind(boolean, func(r *agentReq) *service.Opt[bool] { return &r.AdminStateUp })),
		"description":    rw(bind(str(255, false), func(r *agentReq) *service.Opt[string] { return &r.Description })),
	}
	for _, name := range []string{"id", "agent_type", "binary", "host", "topic", "alive", "configurations",
		"availability_zone", "created_at", "started_at", "heartbeat_timestamp", "resources_synced"} {
		t[name] = readOnly[agentReq]()
	}
	return t
}()

// registerAgentActions mounts PUT and DELETE of agents and the
// dhcp_agent_scheduler routes.
func registerAgentActions(mux *http.ServeMux, agents *resource[api.Agent, agentReq], svc agentAPI) {
	agents.attrs, agents.update, agents.remove = agentAttrs, svc.UpdateAgent, svc.DeleteAgent
	mux.HandleFunc("PUT /v2.0/agents/{id}", agents.handleUpdate)
	mux.HandleFunc("DELETE /v2.0/agents/{id}", agents.handleDelete)
	mux.HandleFunc("GET /v2.0/agents/{id}/dhcp-networks", func(w http.ResponseWriter, r *http.Request) {
		nets, err := svc.ListDHCPNetworks(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"networks": nets})
	})
	mux.HandleFunc("POST /v2.0/agents/{id}/dhcp-networks", func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		var netID string
		if raw, ok := body["network_id"]; !ok || json.Unmarshal(raw, &netID) != nil || netID == "" {
			writeError(w, r, badRequest("Invalid input for network_id. Reason: a network_id string is required."))
			return
		}
		if err := svc.AddDHCPNetwork(r.Context(), r.PathValue("id"), netID); err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, nil)
	})
	mux.HandleFunc("DELETE /v2.0/agents/{id}/dhcp-networks/{network}", func(w http.ResponseWriter, r *http.Request) {
		if err := svc.RemoveDHCPNetwork(r.Context(), r.PathValue("id"), r.PathValue("network")); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /v2.0/networks/{id}/dhcp-agents", func(w http.ResponseWriter, r *http.Request) {
		as, err := svc.ListNetworkDHCPAgents(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"agents": as})
	})
}

// dhcpOpts converts extra_dhcp_opts: a list of objects (null: none).
func dhcpOpts(name string, raw json.RawMessage) (service.Opt[[]map[string]any], error) {
	if isNull(raw) {
		return service.Some([]map[string]any{}), nil
	}
	var v []map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return service.Opt[[]map[string]any]{}, invalid(name, "'%s' is not a list of dhcp options", shown(raw))
	}
	return service.Some(v), nil
}

// The DNS and DHCP attributes of ports (extensions extra_dhcp_opt,
// dns-integration) and networks (dns_domain).
func init() {
	portAttrs["extra_dhcp_opts"] = rw(bind(dhcpOpts, func(r *portReq) *service.Opt[[]map[string]any] { return &r.ExtraDHCPOpts }))
	portAttrs["dns_name"] = rw(bind(str(255, false), func(r *portReq) *service.Opt[string] { return &r.DNSName }))
	portAttrs["dns_assignment"] = readOnly[portReq]()
	networkAttrs["dns_domain"] = rw(bind(str(255, false), func(r *netReq) *service.Opt[string] { return &r.DNSDomain }))
}
