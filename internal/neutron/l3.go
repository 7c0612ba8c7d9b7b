package neutron

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/service"
)

// l3API is what routers, floating IPs and port forwardings need from the
// service (extensions router, ext-gw-mode, extraroute, fip-port-details,
// floating-ip-port-forwarding, floating-ip-port-forwarding-port-ranges).
type l3API interface {
	tagAPI
	CreateRouters(ctx context.Context, reqs []service.RouterRequest) ([]api.Router, error)
	GetRouter(ctx context.Context, id string) (api.Router, error)
	ListRouters(ctx context.Context) ([]api.Router, error)
	UpdateRouter(ctx context.Context, id string, r service.RouterRequest, ifMatch int64) (api.Router, error)
	DeleteRouter(ctx context.Context, id string, ifMatch int64) error
	AddRouterInterface(ctx context.Context, id string, r service.InterfaceRequest) (api.RouterInterface, error)
	RemoveRouterInterface(ctx context.Context, id string, r service.InterfaceRequest) (api.RouterInterface, error)
	CreateFloatingIPs(ctx context.Context, reqs []service.FloatingIPRequest) ([]api.FloatingIP, error)
	GetFloatingIP(ctx context.Context, id string) (api.FloatingIP, error)
	ListFloatingIPs(ctx context.Context) ([]api.FloatingIP, error)
	UpdateFloatingIP(ctx context.Context, id string, r service.FloatingIPRequest, ifMatch int64) (api.FloatingIP, error)
	DeleteFloatingIP(ctx context.Context, id string, ifMatch int64) error
	CreatePortForwarding(ctx context.Context, fipID string, r service.PortForwardingRequest) (api.PortForwarding, error)
	GetPortForwarding(ctx context.Context, fipID, id string) (api.PortForwarding, error)
	ListPortForwardings(ctx context.Context, fipID string) ([]api.PortForwarding, error)
	UpdatePortForwarding(ctx context.Context, fipID, id string, r service.PortForwardingRequest) (api.PortForwarding, error)
	DeletePortForwarding(ctx context.Context, fipID, id string) error
}

// gatewayInfo is external_gateway_info: an object, or null (no gateway).
func gatewayInfo(name string, raw json.RawMessage) (service.Opt[service.GatewayRequest], error) {
	if isNull(raw) {
		return service.Opt[service.GatewayRequest]{Set: true, Null: true}, nil
	}
	return strictJSON[service.GatewayRequest]("a valid external gateway info")(name, raw)
}

// routeList is routes; null means none.
func routeList(name string, raw json.RawMessage) (service.Opt[[]api.Route], error) {
	if isNull(raw) {
		return service.Some([]api.Route{}), nil
	}
	v, err := strictJSON[[]api.Route]("a list of routes")(name, raw)
	if err == nil && v.V == nil {
		v.V = []api.Route{}
	}
	return v, err
}

type routerReq = service.RouterRequest

var routerAttrs = func() map[string]attr[routerReq] {
	t := map[string]attr[routerReq]{
		"name":                    rw(bind(str(255, false), func(r *routerReq) *service.Opt[string] { return &r.Name })),
		"description":             rw(bind(str(255, false), func(r *routerReq) *service.Opt[string] { return &r.Description })),
		"admin_state_up":          rw(bind(boolean, func(r *routerReq) *service.Opt[bool] { return &r.AdminStateUp })),
		"external_gateway_info":   rw(bind(gatewayInfo, func(r *routerReq) *service.Opt[service.GatewayRequest] { return &r.ExternalGateway })),
		"routes":                  rw(bind(routeList, func(r *routerReq) *service.Opt[[]api.Route] { return &r.Routes })),
		"availability_zone_hints": postOnly(bind(strList, func(r *routerReq) *service.Opt[[]string] { return &r.AvailabilityZoneHints })),
		"status":                  readOnly[routerReq](),
		"availability_zones":      readOnly[routerReq](),
	}
	projectAttrs(t, func(r *routerReq) *service.Opt[string] { return &r.ProjectID })
	commonReadOnly(t)
	t["tags"] = postOnly(bind(strList, func(r *routerReq) *service.Opt[[]string] { return &r.Tags }))
	return t
}()

type fipReq = service.FloatingIPRequest

var fipAttrs = func() map[string]attr[fipReq] {
	t := map[string]attr[fipReq]{
		"floating_network_id": postOnly(bind(str(255, false), func(r *fipReq) *service.Opt[string] { return &r.FloatingNetworkID })),
		"subnet_id":           postOnly(bind(str(255, true), func(r *fipReq) *service.Opt[string] { return &r.SubnetID })),
		"floating_ip_address": postOnly(bind(str(64, true), func(r *fipReq) *service.Opt[string] { return &r.FloatingIPAddress })),
		"port_id":             rw(bind(str(255, true), func(r *fipReq) *service.Opt[string] { return &r.PortID })),
		"fixed_ip_address":    rw(bind(str(64, true), func(r *fipReq) *service.Opt[string] { return &r.FixedIPAddress })),
		"description":         rw(bind(str(255, false), func(r *fipReq) *service.Opt[string] { return &r.Description })),
		"router_id":           readOnly[fipReq](),
		"status":              readOnly[fipReq](),
		"port_details":        readOnly[fipReq](),
		"port_forwardings":    readOnly[fipReq](),
	}
	projectAttrs(t, func(r *fipReq) *service.Opt[string] { return &r.ProjectID })
	commonReadOnly(t)
	t["tags"] = postOnly(bind(strList, func(r *fipReq) *service.Opt[[]string] { return &r.Tags }))
	return t
}()

type pfReq = service.PortForwardingRequest

var pfAttrs = func() map[string]attr[pfReq] {
	t := map[string]attr[pfReq]{
		"protocol":            rw(bind(str(40, false), func(r *pfReq) *service.Opt[string] { return &r.Protocol })),
		"internal_port_id":    rw(bind(str(255, false), func(r *pfReq) *service.Opt[string] { return &r.InternalPortID })),
		"internal_ip_address": rw(bind(str(64, false), func(r *pfReq) *service.Opt[string] { return &r.InternalIPAddress })),
		"internal_port":       rw(bind(integer(true), func(r *pfReq) *service.Opt[int] { return &r.InternalPort })),
		"external_port":       rw(bind(integer(true), func(r *pfReq) *service.Opt[int] { return &r.ExternalPort })),
		"internal_port_range": rw(bind(str(64, true), func(r *pfReq) *service.Opt[string] { return &r.InternalPortRange })),
		"external_port_range": rw(bind(str(64, true), func(r *pfReq) *service.Opt[string] { return &r.ExternalPortRange })),
		"description":         rw(bind(str(255, false), func(r *pfReq) *service.Opt[string] { return &r.Description })),
		"id":                  readOnly[pfReq](),
	}
	projectAttrs(t, func(r *pfReq) *service.Opt[string] { return &r.ProjectID })
	return t
}()

// fipKey carries the floating IP of a port forwarding request.
type fipKey struct{}

func fipOf(ctx context.Context) string { s, _ := ctx.Value(fipKey{}).(string); return s }

// registerL3 mounts /v2.0/routers (with add/remove_router_interface),
// /v2.0/floatingips and /v2.0/floatingips/{id}/port_forwardings.
func registerL3(mux *http.ServeMux, svc l3API) {
	(&resource[api.Router, service.RouterRequest]{
		singular: "router", plural: "routers", attrs: routerAttrs, known: knownAttrs(api.Router{}),
		create: svc.CreateRouters, get: svc.GetRouter, list: svc.ListRouters,
		update: svc.UpdateRouter, remove: svc.DeleteRouter,
	}).register(mux)
	iface := func(op func(context.Context, string, service.InterfaceRequest) (api.RouterInterface, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, err := readBody(r)
			if err != nil {
				writeError(w, r, err)
				return
			}
			var req service.InterfaceRequest
			for k, raw := range body {
				var v string
				if err := json.Unmarshal(raw, &v); err != nil || (k != "subnet_id" && k != "port_id") {
					writeError(w, r, badRequest("Failed to parse request: expected {\"subnet_id\": ...} or {\"port_id\": ...}"))
					return
				}
				if k == "subnet_id" {
					req.SubnetID = v
				} else {
					req.PortID = v
				}
			}
			out, err := op(r.Context(), r.PathValue("id"), req)
			if err != nil {
				writeError(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, out)
		}
	}
	mux.HandleFunc("PUT /v2.0/routers/{id}/add_router_interface", iface(svc.AddRouterInterface))
	mux.HandleFunc("PUT /v2.0/routers/{id}/remove_router_interface", iface(svc.RemoveRouterInterface))
	registerTags(mux, svc, "routers", "floatingips")
	(&resource[api.FloatingIP, service.FloatingIPRequest]{
		singular: "floatingip", plural: "floatingips", attrs: fipAttrs, known: knownAttrs(api.FloatingIP{}),
		create: svc.CreateFloatingIPs, get: svc.GetFloatingIP, list: svc.ListFloatingIPs,
		update: svc.UpdateFloatingIP, remove: svc.DeleteFloatingIP,
	}).register(mux)

	// Port forwardings are a collection under each floating IP: the
	// generic resource serves it with the floating IP in the context.
	sub := http.NewServeMux()
	(&resource[api.PortForwarding, service.PortForwardingRequest]{
		singular: "port_forwarding", plural: "port_forwardings", path: "floatingips/{fip}/port_forwardings",
		attrs: pfAttrs, known: knownAttrs(api.PortForwarding{}),
		create: func(ctx context.Context, reqs []pfReq) ([]api.PortForwarding, error) {
			out := make([]api.PortForwarding, 0, len(reqs))
			for _, r := range reqs {
				pf, err := svc.CreatePortForwarding(ctx, fipOf(ctx), r)
				if err != nil {
					return nil, err
				}
				out = append(out, pf)
			}
			return out, nil
		},
		get: func(ctx context.Context, id string) (api.PortForwarding, error) {
			return svc.GetPortForwarding(ctx, fipOf(ctx), id)
		},
		list: func(ctx context.Context) ([]api.PortForwarding, error) {
			return svc.ListPortForwardings(ctx, fipOf(ctx))
		},
		update: func(ctx context.Context, id string, r pfReq, _ int64) (api.PortForwarding, error) {
			return svc.UpdatePortForwarding(ctx, fipOf(ctx), id, r)
		},
		remove: func(ctx context.Context, id string, _ int64) error {
			return svc.DeletePortForwarding(ctx, fipOf(ctx), id)
		},
	}).register(sub)
	withFIP := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sub.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), fipKey{}, r.PathValue("fip"))))
	})
	mux.Handle("/v2.0/floatingips/{fip}/port_forwardings", withFIP)
	mux.Handle("/v2.0/floatingips/{fip}/port_forwardings/{id}", withFIP)
}

// l3Extensions are the aliases the L3 API implements.
var l3Extensions = []extension{
	{"router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.", "2012-07-20T10:00:00-00:00", nil},
	{"ext-gw-mode", "Neutron L3 Configurable external gateway mode", "Extension of the router abstraction for specifying whether SNAT should occur on the external gateway", "2013-03-28T10:00:00-00:00", nil},
	{"extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router", "2013-02-01T10:00:00-00:00", nil},
	{"fip-port-details", "Floating IP Port Details Extension", "Add port_details attribute to Floating IP resource", "2018-04-09T10:00:00-00:00", nil},
	{"floating-ip-port-forwarding", "Floating IP Port Forwarding", "Provide a way to configure port forwarding on Floating IP", "2018-07-10T10:00:00-00:00", nil},
	// With routers taggable, every resource of tag-ext is.
	{"tag-ext", "Tag support for resources: subnet, subnetpool, port, router", "Extends tag support to more L2 and L3 resources.", "2017-01-01T00:00:00-00:00", nil},
	{"floating-ip-port-forwarding-port-ranges", "Floating IP Port Forwarding support for port ranges", "Add suport to port ranges on floating IP port forwarding", "2022-01-01T10:00:00-00:00", nil},
}

func init() {
	for _, e := range l3Extensions {
		e.Links = []link{}
		extensions[e.Alias] = e
	}
}
