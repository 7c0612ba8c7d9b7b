package neutron

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/vland/vland/api"
)

// l3AgentAPI is what the l3_agent_scheduler extension needs from the service.
type l3AgentAPI interface {
	ListL3Routers(ctx context.Context, agentID string) ([]api.Router, error)
	AddL3Router(ctx context.Context, agentID, routerID string) error
	RemoveL3Router(ctx context.Context, agentID, routerID string) error
	ListRouterL3Agents(ctx context.Context, routerID string) ([]api.Agent, error)
}

// registerL3AgentRoutes mounts the l3_agent_scheduler routes.
func registerL3AgentRoutes(mux *http.ServeMux, svc l3AgentAPI) {
	mux.HandleFunc("GET /v2.0/agents/{id}/l3-routers", func(w http.ResponseWriter, r *http.Request) {
		rs, err := svc.ListL3Routers(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"routers": rs})
	})
	mux.HandleFunc("POST /v2.0/agents/{id}/l3-routers", func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		var id string
		if raw, ok := body["router_id"]; !ok || json.Unmarshal(raw, &id) != nil || id == "" {
			writeError(w, r, badRequest("Invalid input for router_id. Reason: a router_id string is required."))
			return
		}
		if err := svc.AddL3Router(r.Context(), r.PathValue("id"), id); err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, nil)
	})
	mux.HandleFunc("DELETE /v2.0/agents/{id}/l3-routers/{router}", func(w http.ResponseWriter, r *http.Request) {
		if err := svc.RemoveL3Router(r.Context(), r.PathValue("id"), r.PathValue("router")); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /v2.0/routers/{id}/l3-agents", func(w http.ResponseWriter, r *http.Request) {
		as, err := svc.ListRouterL3Agents(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"agents": as})
	})
}
