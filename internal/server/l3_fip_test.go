package server_test

import (
	"testing"
)

func TestFloatingIPs(t *testing.T) {
	f := newL3Fixture(t, "proj-l3-fip", "198.51.102.0/24", "10.52.1.0/24")
	vm1 := mkPort(t, f.who, f.net, nil)
	vm2 := mkPort(t, f.who, f.net, nil)
	fips := "/v2.0/floatingips"

	// Without a port: an address from the external subnet, DOWN.
	fip := call(t, f.who, "POST", fips, map[string]any{"floatingip": map[string]any{"floating_network_id": f.ext}}).want(t, 201).obj(t, "floatingip")
	id := fip["id"].(string)
	if fip["floating_ip_address"] != "198.51.102.2" || fip["port_id"] != nil || fip["router_id"] != nil || fip["status"] != "DOWN" {
		t.Fatalf("floating ip %v", fip)
	}
	// Associating needs a router path: 404 ExternalGatewayForFloatingIPNotFound.
	put := func(who caller, attrs map[string]any) reply {
		return call(t, who, "PUT", fips+"/"+id, map[string]any{"floatingip": attrs})
	}
	put(f.who, map[string]any{"port_id": vm1["id"]}).wantError(t, 404, "ExternalGatewayForFloatingIPNotFound")
	r := mkRouter(t, f.who, map[string]any{"external_gateway_info": map[string]any{"network_id": f.ext}})["id"].(string)
	put(f.who, map[string]any{"port_id": vm1["id"]}).wantError(t, 404, "ExternalGatewayForFloatingIPNotFound")
	routerIface(t, f.who, "add", r, map[string]any{"subnet_id": f.sub}).want(t, 200)

	// Associate, move, disassociate.
	got := put(f.who, map[string]any{"port_id": vm1["id"]}).want(t, 200).obj(t, "floatingip")
	if got["port_id"] != vm1["id"] || got["router_id"] != r || got["fixed_ip_address"] != ips(vm1)[0] {
		t.Fatalf("associated %v", got)
	}
	if d, _ := got["port_details"].(map[string]any); d == nil || d["mac_address"] != vm1["mac_address"] {
		t.Fatalf("port_details %v", got["port_details"])
	}
	got = put(f.who, map[string]any{"port_id": vm2["id"], "fixed_ip_address": ips(vm2)[0]}).want(t, 200).obj(t, "floatingip")
	if got["port_id"] != vm2["id"] || got["fixed_ip_address"] != ips(vm2)[0] {
		t.Fatalf("moved %v", got)
	}
	put(f.who, map[string]any{"port_id": vm1["id"], "fixed_ip_address": "10.52.1.250"}).wantError(t, 400, "HTTPBadRequest")
	// A second floating IP on the same fixed IP: 409.
	fip2 := call(t, f.who, "POST", fips, map[string]any{"floatingip": map[string]any{"floating_network_id": f.ext}}).want(t, 201).obj(t, "floatingip")
	call(t, f.who, "PUT", fips+"/"+fip2["id"].(string), map[string]any{"floatingip": map[string]any{"port_id": vm2["id"]}}).wantError(t, 409, "FloatingIPPortAlreadyAssociated")
	// The interface and the gateway are needed by the floating IP.
	routerIface(t, f.who, "remove", r, map[string]any{"subnet_id": f.sub}).wantError(t, 409, "RouterInterfaceInUseByFloatingIP")
	call(t, f.who, "PUT", "/v2.0/routers/"+r, map[string]any{"router": map[string]any{"external_gateway_info": nil}}).wantError(t, 409, "RouterExternalGatewayInUseByFloatingIp")
	got = put(f.who, map[string]any{"port_id": nil}).want(t, 200).obj(t, "floatingip")
	if got["port_id"] != nil || got["router_id"] != nil || got["fixed_ip_address"] != nil {
		t.Fatalf("disassociated %v", got)
	}

	// Another project can neither see nor take it, nor associate its port.
	other := member("proj-l3-fip-other")
	call(t, other, "GET", fips+"/"+id, nil).wantError(t, 404, "FloatingIPNotFound")
	call(t, other, "PUT", fips+"/"+id, map[string]any{"floatingip": map[string]any{"port_id": vm1["id"]}}).wantError(t, 404, "FloatingIPNotFound")
	if l := call(t, other, "GET", fips, nil).want(t, 200).list(t, "floatingips"); len(l) != 0 {
		t.Fatalf("other project lists %v", l)
	}
	// A requested address is admin only.
	call(t, f.who, "POST", fips, map[string]any{"floatingip": map[string]any{"floating_network_id": f.ext, "floating_ip_address": "198.51.102.50"}}).wantError(t, 403, "PolicyNotAuthorized")
	a := call(t, admin, "POST", fips, map[string]any{"floatingip": map[string]any{"floating_network_id": f.ext, "floating_ip_address": "198.51.102.50", "project_id": "proj-l3-fip"}}).want(t, 201).obj(t, "floatingip")
	if a["floating_ip_address"] != "198.51.102.50" {
		t.Fatalf("requested address %v", a)
	}
	call(t, f.who, "POST", fips, map[string]any{"floatingip": map[string]any{"floating_network_id": f.net}}).wantError(t, 400, "HTTPBadRequest")

	// Deleting the port disassociates.
	put(f.who, map[string]any{"port_id": vm1["id"]}).want(t, 200)
	call(t, f.who, "DELETE", "/v2.0/ports/"+vm1["id"].(string), nil).want(t, 204)
	got = call(t, f.who, "GET", fips+"/"+id, nil).want(t, 200).obj(t, "floatingip")
	if got["port_id"] != nil || got["router_id"] != nil {
		t.Fatalf("after port delete %v", got)
	}
	// The external network is in use while a router has its gateway on it.
	call(t, admin, "DELETE", "/v2.0/networks/"+f.ext, nil).wantError(t, 409, "NetworkInUse")
	for _, x := range []string{id, fip2["id"].(string), a["id"].(string)} {
		call(t, f.who, "DELETE", fips+"/"+x, nil).want(t, 204)
	}
	call(t, f.who, "DELETE", fips+"/"+id, nil).wantError(t, 404, "FloatingIPNotFound")
	if ports := call(t, admin, "GET", "/v2.0/ports?device_owner=network:floatingip&network_id="+f.ext, nil).want(t, 200).list(t, "ports"); len(ports) != 0 {
		t.Fatalf("floating IP ports left: %v", ports)
	}

	// Quota.
	call(t, admin, "PUT", "/v2.0/quotas/proj-l3-fip", map[string]any{"quota": map[string]any{"floatingip": 1}}).want(t, 200)
	last := call(t, f.who, "POST", fips, map[string]any{"floatingip": map[string]any{"floating_network_id": f.ext}}).want(t, 201).obj(t, "floatingip")
	call(t, f.who, "POST", fips, map[string]any{"floatingip": map[string]any{"floating_network_id": f.ext}}).wantError(t, 409, "OverQuota")

	// Without the router's gateway, deleting the external network deletes
	// its floating IPs (as Neutron does), freeing their quota.
	routerIface(t, f.who, "remove", r, map[string]any{"subnet_id": f.sub}).want(t, 200)
	call(t, f.who, "DELETE", "/v2.0/routers/"+r, nil).want(t, 204)
	call(t, admin, "DELETE", "/v2.0/networks/"+f.ext, nil).want(t, 204)
	call(t, f.who, "GET", fips+"/"+last["id"].(string), nil).wantError(t, 404, "FloatingIPNotFound")
	d := call(t, f.who, "GET", "/v2.0/quotas/proj-l3-fip/details", nil).want(t, 200).obj(t, "quota")
	if d["floatingip"].(map[string]any)["used"] != float64(0) {
		t.Fatalf("floating IP quota after network delete %v", d["floatingip"])
	}
}

func TestPortForwardings(t *testing.T) {
	f := newL3Fixture(t, "proj-l3-pf", "198.51.103.0/24", "10.53.1.0/24")
	vm2 := mkPort(t, f.who, f.net, nil)
	vm3 := mkPort(t, f.who, f.net, nil)
	r := mkRouter(t, f.who, map[string]any{"external_gateway_info": map[string]any{"network_id": f.ext}})["id"].(string)
	fip := call(t, f.who, "POST", "/v2.0/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": f.ext}}).want(t, 201).obj(t, "floatingip")
	base := "/v2.0/floatingips/" + fip["id"].(string) + "/port_forwardings"
	pf := func(port map[string]any, proto string, in, ext int) map[string]any {
		return map[string]any{"port_forwarding": map[string]any{"protocol": proto, "internal_port_id": port["id"],
			"internal_ip_address": ips(port)[0], "internal_port": in, "external_port": ext}}
	}
	call(t, f.who, "POST", base, pf(vm2, "tcp", 80, 8080)).wantError(t, 404, "ExternalGatewayForFloatingIPNotFound")
	routerIface(t, f.who, "add", r, map[string]any{"subnet_id": f.sub}).want(t, 200)
	a := call(t, f.who, "POST", base, pf(vm2, "tcp", 80, 8080)).want(t, 201).obj(t, "port_forwarding")
	if a["internal_port"] != float64(80) || a["external_port"] != float64(8080) || a["protocol"] != "tcp" {
		t.Fatalf("port forwarding %v", a)
	}
	call(t, f.who, "POST", base, pf(vm3, "tcp", 22, 2222)).want(t, 201)
	// Same external port and protocol: 409; another protocol is fine.
	call(t, f.who, "POST", base, pf(vm3, "tcp", 81, 8080)).wantError(t, 409, "PortForwardingConflict")
	call(t, f.who, "POST", base, pf(vm3, "udp", 81, 8080)).want(t, 201)
	call(t, f.who, "POST", base, pf(vm3, "icmp", 1, 1)).wantError(t, 400, "")
	call(t, f.who, "POST", base, pf(vm3, "tcp", 0, 9)).wantError(t, 400, "")
	// Ranges.
	rg := call(t, f.who, "POST", base, map[string]any{"port_forwarding": map[string]any{"protocol": "tcp", "internal_port_id": vm3["id"],
		"internal_ip_address": ips(vm3)[0], "internal_port_range": "5000:5009", "external_port_range": "6000:6009"}}).want(t, 201).obj(t, "port_forwarding")
	if rg["external_port_range"] != "6000:6009" || rg["external_port"] != nil {
		t.Fatalf("range %v", rg)
	}
	call(t, f.who, "POST", base, pf(vm2, "tcp", 99, 6005)).wantError(t, 409, "PortForwardingConflict")
	if l := call(t, f.who, "GET", base+"?protocol=udp", nil).want(t, 200).list(t, "port_forwardings"); len(l) != 1 {
		t.Fatalf("udp forwardings %v", l)
	}
	// Update, show, delete.
	u := call(t, f.who, "PUT", base+"/"+a["id"].(string), map[string]any{"port_forwarding": map[string]any{"external_port": 8081}}).want(t, 200).obj(t, "port_forwarding")
	if u["external_port"] != float64(8081) {
		t.Fatalf("updated %v", u)
	}
	// A floating IP with forwardings cannot be associated.
	call(t, f.who, "PUT", "/v2.0/floatingips/"+fip["id"].(string), map[string]any{"floatingip": map[string]any{"port_id": vm2["id"]}}).wantError(t, 409, "FipInUseByPortForwarding")
	call(t, member("proj-l3-pf-other"), "GET", base, nil).wantError(t, 404, "FloatingIPNotFound")
	call(t, f.who, "DELETE", base+"/"+a["id"].(string), nil).want(t, 204)
	call(t, f.who, "GET", base+"/"+a["id"].(string), nil).wantError(t, 404, "PortForwardingNotFound")
	// Deleting the internal port drops its forwardings.
	call(t, f.who, "DELETE", "/v2.0/ports/"+vm3["id"].(string), nil).want(t, 204)
	if l := call(t, f.who, "GET", base, nil).want(t, 200).list(t, "port_forwardings"); len(l) != 0 {
		t.Fatalf("forwardings after port delete %v", l)
	}
	got := call(t, f.who, "GET", "/v2.0/floatingips/"+fip["id"].(string), nil).want(t, 200).obj(t, "floatingip")
	if got["router_id"] != nil {
		t.Fatalf("router_id kept without forwardings: %v", got)
	}
}
