package server_test

import (
	"fmt"
	"testing"
)

// l3Fixture is an external network (admin's) and a project's network and
// subnet.
type l3Fixture struct {
	who                    caller
	ext, extSub            string
	net, sub               string
	subCIDR, extGatewayNet string
}

func newL3Fixture(t *testing.T, project, extCIDR, cidr string) l3Fixture {
	t.Helper()
	ext := mkNetwork(t, admin, map[string]any{"name": project + "-ext", "router:external": true})["id"].(string)
	extSub := mkSubnet(t, admin, ext, extCIDR, nil)["id"].(string)
	who := member(project)
	net := mkNetwork(t, who, map[string]any{"name": project + "-net"})["id"].(string)
	sub := mkSubnet(t, who, net, cidr, nil)["id"].(string)
	return l3Fixture{who: who, ext: ext, extSub: extSub, net: net, sub: sub, subCIDR: cidr}
}

func mkRouter(t *testing.T, who caller, attrs map[string]any) map[string]any {
	t.Helper()
	return call(t, who, "POST", "/v2.0/routers", map[string]any{"router": attrs}).want(t, 201).obj(t, "router")
}

func routerIface(t *testing.T, who caller, op, router string, body map[string]any) reply {
	t.Helper()
	return call(t, who, "PUT", "/v2.0/routers/"+router+"/"+op+"_router_interface", body)
}

func TestRouterLifecycle(t *testing.T) {
	f := newL3Fixture(t, "proj-l3-life", "198.51.100.0/24", "10.50.1.0/24")
	r := mkRouter(t, f.who, map[string]any{"name": "r1", "external_gateway_info": map[string]any{"network_id": f.ext}})
	id := r["id"].(string)
	gw, _ := r["external_gateway_info"].(map[string]any)
	if gw == nil || gw["network_id"] != f.ext || gw["enable_snat"] != true {
		t.Fatalf("gateway info %v", r["external_gateway_info"])
	}
	efips := gw["external_fixed_ips"].([]any)
	if len(efips) != 1 || efips[0].(map[string]any)["ip_address"] != "198.51.100.2" {
		t.Fatalf("external_fixed_ips %v", efips)
	}
	// The gateway port is a real port on the external network (admin sees it).
	ports := call(t, admin, "GET", "/v2.0/ports?device_id="+id, nil).want(t, 200).list(t, "ports")
	if len(ports) != 1 || ports[0]["device_owner"] != "network:router_gateway" || ports[0]["network_id"] != f.ext {
		t.Fatalf("router ports %v", ports)
	}

	// Interface by subnet: the port gets the gateway address.
	ifc := routerIface(t, f.who, "add", id, map[string]any{"subnet_id": f.sub}).want(t, 200).body
	if ifc["subnet_id"] != f.sub || ifc["id"] != id || ifc["port_id"] == "" {
		t.Fatalf("add interface answer %v", ifc)
	}
	p := call(t, f.who, "GET", "/v2.0/ports/"+ifc["port_id"].(string), nil).want(t, 200).obj(t, "port")
	if p["device_owner"] != "network:router_interface" || p["device_id"] != id || ips(p)[0] != "10.50.1.1" {
		t.Fatalf("interface port %v", p)
	}
	// Same subnet again, overlapping subnet: 400.
	routerIface(t, f.who, "add", id, map[string]any{"subnet_id": f.sub}).wantError(t, 400, "HTTPBadRequest")
	net2 := mkNetwork(t, f.who, map[string]any{})["id"].(string)
	over := mkSubnet(t, f.who, net2, "10.50.1.0/25", nil)["id"].(string)
	routerIface(t, f.who, "add", id, map[string]any{"subnet_id": over}).wantError(t, 400, "HTTPBadRequest")
	// Interface by port.
	sub2 := mkSubnet(t, f.who, net2, "10.50.2.0/24", nil)["id"].(string)
	_ = sub2
	port2 := mkPort(t, f.who, net2, map[string]any{"fixed_ips": []map[string]any{{"subnet_id": sub2}}})
	routerIface(t, f.who, "add", id, map[string]any{"port_id": port2["id"]}).want(t, 200)

	// Routes: nexthop on a connected subnet, else 400 InvalidRoutes.
	upd := func(attrs map[string]any) reply {
		return call(t, f.who, "PUT", "/v2.0/routers/"+id, map[string]any{"router": attrs})
	}
	upd(map[string]any{"routes": []map[string]any{{"destination": "172.16.0.0/16", "nexthop": "192.0.2.9"}}}).wantError(t, 400, "InvalidRoutes")
	rt := upd(map[string]any{"routes": []map[string]any{{"destination": "172.16.0.0/16", "nexthop": "10.50.2.9"}}}).want(t, 200).obj(t, "router")
	if len(rt["routes"].([]any)) != 1 {
		t.Fatalf("routes %v", rt["routes"])
	}
	// The route needs that interface.
	routerIface(t, f.who, "remove", id, map[string]any{"port_id": port2["id"]}).wantError(t, 409, "RouterInterfaceInUseByRoute")
	upd(map[string]any{"routes": nil}).want(t, 200)

	// In use: router delete, subnet delete, network delete, port delete.
	call(t, f.who, "DELETE", "/v2.0/routers/"+id, nil).wantError(t, 409, "RouterInUse")
	call(t, f.who, "DELETE", "/v2.0/subnets/"+f.sub, nil).wantError(t, 409, "SubnetInUse")
	call(t, f.who, "DELETE", "/v2.0/networks/"+f.net, nil).wantError(t, 409, "NetworkInUse")
	call(t, f.who, "DELETE", "/v2.0/ports/"+ifc["port_id"].(string), nil).wantError(t, 409, "ServicePortInUse")

	// Remove both interfaces (by subnet, by port), then delete.
	routerIface(t, f.who, "remove", id, map[string]any{"subnet_id": f.sub}).want(t, 200)
	routerIface(t, f.who, "remove", id, map[string]any{"subnet_id": f.sub}).wantError(t, 404, "RouterInterfaceNotFoundForSubnet")
	routerIface(t, f.who, "remove", id, map[string]any{"port_id": port2["id"]}).want(t, 200)
	call(t, f.who, "DELETE", "/v2.0/routers/"+id, nil).want(t, 204)
	if ports := call(t, admin, "GET", "/v2.0/ports?device_id="+id, nil).want(t, 200).list(t, "ports"); len(ports) != 0 {
		t.Fatalf("ports left after router delete: %v", ports)
	}
	call(t, f.who, "GET", "/v2.0/routers/"+id, nil).wantError(t, 404, "RouterNotFound")
	call(t, f.who, "DELETE", "/v2.0/networks/"+f.net, nil).want(t, 204)
}

func TestRouterPolicy(t *testing.T) {
	f := newL3Fixture(t, "proj-l3-pol", "198.51.101.0/24", "10.51.1.0/24")
	other := member("proj-l3-pol-other")
	onet := mkNetwork(t, other, map[string]any{})["id"].(string)
	osub := mkSubnet(t, other, onet, "10.51.9.0/24", nil)["id"].(string)
	r := mkRouter(t, f.who, map[string]any{"name": "r"})["id"].(string)
	// Another project's subnet: invisible, 404.
	routerIface(t, f.who, "add", r, map[string]any{"subnet_id": osub}).wantError(t, 404, "SubnetNotFound")
	// Another project's router: invisible.
	call(t, other, "GET", "/v2.0/routers/"+r, nil).wantError(t, 404, "RouterNotFound")
	routerIface(t, other, "add", r, map[string]any{"subnet_id": osub}).wantError(t, 404, "RouterNotFound")
	// A gateway on a network that is not external: 400; SNAT off is admin only.
	call(t, f.who, "PUT", "/v2.0/routers/"+r, map[string]any{"router": map[string]any{"external_gateway_info": map[string]any{"network_id": f.net}}}).wantError(t, 400, "HTTPBadRequest")
	call(t, f.who, "PUT", "/v2.0/routers/"+r, map[string]any{"router": map[string]any{"external_gateway_info": map[string]any{"network_id": f.ext, "enable_snat": false}}}).wantError(t, 403, "PolicyNotAuthorized")
	g := call(t, admin, "PUT", "/v2.0/routers/"+r, map[string]any{"router": map[string]any{"external_gateway_info": map[string]any{
		"network_id": f.ext, "enable_snat": false, "external_fixed_ips": []map[string]any{{"ip_address": "198.51.101.77"}}}}}).want(t, 200).obj(t, "router")
	gi := g["external_gateway_info"].(map[string]any)
	if gi["enable_snat"] != false || gi["external_fixed_ips"].([]any)[0].(map[string]any)["ip_address"] != "198.51.101.77" {
		t.Fatalf("gateway %v", gi)
	}
	// Clearing the gateway deletes its port.
	call(t, f.who, "PUT", "/v2.0/routers/"+r, map[string]any{"router": map[string]any{"external_gateway_info": nil}}).want(t, 200)
	if ports := call(t, admin, "GET", "/v2.0/ports?device_id="+r, nil).want(t, 200).list(t, "ports"); len(ports) != 0 {
		t.Fatalf("gateway port left: %v", ports)
	}
	// Quota: routers.
	q := "proj-l3-quota"
	call(t, admin, "PUT", "/v2.0/quotas/"+q, map[string]any{"quota": map[string]any{"router": 2}}).want(t, 200)
	for i := 0; i < 2; i++ {
		mkRouter(t, member(q), map[string]any{"name": fmt.Sprint(i)})
	}
	call(t, member(q), "POST", "/v2.0/routers", map[string]any{"router": map[string]any{}}).wantError(t, 409, "OverQuota")
	d := call(t, member(q), "GET", "/v2.0/quotas/"+q+"/details", nil).want(t, 200).obj(t, "quota")
	if d["router"].(map[string]any)["used"] != float64(2) {
		t.Fatalf("quota details %v", d)
	}
}

func TestRouterAndFloatingIPTags(t *testing.T) {
	f := newL3Fixture(t, "proj-l3-tags", "198.51.104.0/24", "10.54.1.0/24")
	r := mkRouter(t, f.who, map[string]any{"tags": []string{"a"}})
	if tags := r["tags"].([]any); len(tags) != 1 || tags[0] != "a" {
		t.Fatalf("router tags on create %v", r["tags"])
	}
	id := r["id"].(string)
	call(t, f.who, "PUT", "/v2.0/routers/"+id+"/tags/b", nil).want(t, 201)
	got := call(t, f.who, "GET", "/v2.0/routers?tags=b", nil).want(t, 200).list(t, "routers")
	if len(got) != 1 || got[0]["id"] != id || got[0]["revision_number"] != float64(2) {
		t.Fatalf("routers tagged b: %v", got)
	}
	call(t, member("proj-l3-tags-other"), "GET", "/v2.0/routers/"+id+"/tags", nil).wantError(t, 404, "RouterNotFound")
	fip := call(t, f.who, "POST", "/v2.0/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": f.ext}}).want(t, 201).obj(t, "floatingip")
	call(t, f.who, "PUT", "/v2.0/floatingips/"+fip["id"].(string)+"/tags", map[string]any{"tags": []string{"x", "y"}}).want(t, 200)
	call(t, f.who, "GET", "/v2.0/floatingips/"+fip["id"].(string)+"/tags/y", nil).want(t, 204)
}
