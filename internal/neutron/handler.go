// Package neutron is vland's HTTP transport: the Neutron v2.0 routes,
// request decoding and validation (attribute maps), list queries
// (filters, fields, sorting, pagination), the middleware chain and the
// Neutron error format. Semantics live in internal/service.
package neutron

import (
	"context"
	"net/http"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/service"
)

// API is what the transport needs from the service.
type API interface {
	CreateNetworks(ctx context.Context, reqs []service.NetworkRequest) ([]api.Network, error)
	GetNetwork(ctx context.Context, id string) (api.Network, error)
	ListNetworks(ctx context.Context) ([]api.Network, error)
	UpdateNetwork(ctx context.Context, id string, r service.NetworkRequest, ifMatch int64) (api.Network, error)
	DeleteNetwork(ctx context.Context, id string, ifMatch int64) error
	CreateSubnets(ctx context.Context, reqs []service.SubnetRequest) ([]api.Subnet, error)
	GetSubnet(ctx context.Context, id string) (api.Subnet, error)
	ListSubnets(ctx context.Context) ([]api.Subnet, error)
	UpdateSubnet(ctx context.Context, id string, r service.SubnetRequest, ifMatch int64) (api.Subnet, error)
	DeleteSubnet(ctx context.Context, id string, ifMatch int64) error
	CreatePorts(ctx context.Context, reqs []service.PortRequest) ([]api.Port, error)
	GetPort(ctx context.Context, id string) (api.Port, error)
	ListPorts(ctx context.Context) ([]api.Port, error)
	UpdatePort(ctx context.Context, id string, r service.PortRequest, ifMatch int64) (api.Port, error)
	DeletePort(ctx context.Context, id string, ifMatch int64) error
	ListAgents(ctx context.Context) ([]api.Agent, error)
	GetAgent(ctx context.Context, id string) (api.Agent, error)
	QuotaAPI
	tagAPI
	poolAPI
	agentAPI
	l3AgentAPI
	rbacAPI
	secGroupAPI
	l3API
	instanceAPI
}

// Register mounts the Neutron API (/, /v2.0 and every collection) on mux.
// The caller wraps mux with the middleware chain (RequestID, Recover,
// LimitBody, auth).
func Register(mux *http.ServeMux, svc API) {
	networks := &resource[api.Network, service.NetworkRequest]{
		singular: "network", plural: "networks", attrs: networkAttrs, known: knownAttrs(api.Network{}),
		create: svc.CreateNetworks, get: svc.GetNetwork, list: svc.ListNetworks,
		update: svc.UpdateNetwork, remove: svc.DeleteNetwork,
	}
	subnets := &resource[api.Subnet, service.SubnetRequest]{
		singular: "subnet", plural: "subnets", attrs: subnetAttrs, known: knownAttrs(api.Subnet{}),
		create: svc.CreateSubnets, get: svc.GetSubnet, list: svc.ListSubnets,
		update: svc.UpdateSubnet, remove: svc.DeleteSubnet,
	}
	ports := &resource[api.Port, service.PortRequest]{
		singular: "port", plural: "ports", attrs: portAttrs, known: knownAttrs(api.Port{}),
		create: svc.CreatePorts, get: svc.GetPort, list: svc.ListPorts,
		update: svc.UpdatePort, remove: svc.DeletePort,
	}
	agents := &resource[api.Agent, service.AgentRequest]{
		singular: "agent", plural: "agents", known: knownAttrs(api.Agent{}),
		get: svc.GetAgent, list: svc.ListAgents,
	}
	networks.register(mux)
	subnets.register(mux)
	ports.register(mux)
	agents.register(mux)
	registerAgentActions(mux, agents, svc)
	registerL3AgentRoutes(mux, svc)
	rbacResource(svc).register(mux)
	registerSecGroups(mux, svc)
	registerQuotas(mux, svc)
	registerTags(mux, svc, "networks", "subnets", "ports", "security-groups")
	registerPools(mux, svc)
	registerL3(mux, svc)
	registerInstances(mux, svc)
	mux.HandleFunc("GET /{$}", handleVersions)
	mux.HandleFunc("GET /v2.0", handleV2)
	mux.HandleFunc("GET /v2.0/{$}", handleV2)
	mux.HandleFunc("GET /v2.0/extensions", handleExtensions)
	mux.HandleFunc("GET /v2.0/extensions/{alias}", handleExtension)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, r, transportErr(errMethodNotAllowed, "The method "+r.Method+" is not allowed for this resource."))
			return
		}
		writeError(w, r, transportErr(errNotFound, "The resource could not be found."))
	})
}

// allowedMethods lists the methods mux serves on r's path. The catch-all
// route above matches every method, so without it ServeMux's own 405 never
// happens: a wrong method on a known path is 405 with Allow, as in Neutron,
// not 404.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := *r
		probe.Method = m
		if _, pattern := mux.Handler(&probe); pattern != "/" && !strings.HasPrefix(pattern, "/v3/") {
			allow = append(allow, m)
		}
	}
	return allow
}

// knownAttrs are the attribute names of a wire type (what lists may filter
// and sort on).
func knownAttrs(zero any) map[string]bool {
	o, _ := toObject(zero, nil)
	known := map[string]bool{}
	for k := range o {
		known[k] = true
	}
	return known
}
