package clients_test

import (
	"strings"
	"testing"
)

// TestCLIRoutersAndFloatingIPs drives the L3 API with the real openstack
// client: the admin makes an external network; a member (alice) builds a
// router with a gateway and an interface, an extra route, a floating IP
// that she associates, moves and disassociates, and a port forwarding;
// the in-use rules answer as Neutron's do.
func TestCLIRoutersAndFloatingIPs(t *testing.T) {
	t.Parallel()
	env := sharedEnv(t)
	admin := passwordCLI(env.keystone.url, "admin", adminPassword, "admin")
	alice := passwordCLI(env.keystone.url, memberUser, memberPassword, memberProject)

	var ext cliNetwork
	admin.json(t, &ext, "network", "create", prefix+"-public", "--external")
	admin.ok(t, "subnet", "create", prefix+"-public-sub", "--network", ext.ID, "--subnet-range", "203.0.113.0/24")

	var net cliNetwork
	alice.json(t, &net, "network", "create", prefix+"-l3net")
	var sub cliSubnet
	alice.json(t, &sub, "subnet", "create", prefix+"-l3sub", "--network", net.ID, "--subnet-range", "10.77.0.0/24")
	var vm1, vm2 cliPort
	alice.json(t, &vm1, "port", "create", prefix+"-vm1", "--network", net.ID)
	alice.json(t, &vm2, "port", "create", prefix+"-vm2", "--network", net.ID)

	var router struct {
		ID      string         `json:"id"`
		Gateway map[string]any `json:"external_gateway_info"`
		Routes  []map[string]any
	}
	alice.json(t, &router, "router", "create", prefix+"-r1")
	alice.ok(t, "router", "set", router.ID, "--external-gateway", ext.ID)
	alice.ok(t, "router", "add", "subnet", router.ID, sub.ID)
	alice.ok(t, "router", "set", router.ID, "--route", "destination=172.16.0.0/16,gateway=10.77.0.50")
	alice.json(t, &router, "router", "show", router.ID)
	if router.Gateway["network_id"] != ext.ID || router.Gateway["enable_snat"] != true {
		t.Fatalf("router gateway %v", router.Gateway)
	}
	if msg := alice.fails(t, "router", "set", router.ID, "--route", "destination=172.17.0.0/16,gateway=192.0.2.1"); !strings.Contains(msg, "nexthop") {
		t.Fatalf("route via an unconnected nexthop: %s", msg)
	}
	var ports []map[string]any
	alice.json(t, &ports, "port", "list", "--router", router.ID)
	if len(ports) != 1 {
		t.Fatalf("alice sees router ports %v, want the interface only", ports)
	}
	admin.json(t, &ports, "port", "list", "--router", router.ID)
	if len(ports) != 2 {
		t.Fatalf("admin sees router ports %v, want interface and gateway", ports)
	}

	var fip struct {
		ID      string  `json:"id"`
		Address string  `json:"floating_ip_address"`
		PortID  *string `json:"port_id"`
		Fixed   *string `json:"fixed_ip_address"`
		Router  *string `json:"router_id"`
	}
	alice.json(t, &fip, "floating", "ip", "create", ext.ID, "--port", vm1.ID)
	if fip.PortID == nil || *fip.PortID != vm1.ID || fip.Router == nil || *fip.Router != router.ID || !strings.HasPrefix(fip.Address, "203.0.113.") {
		t.Fatalf("floating ip %+v", fip)
	}
	alice.ok(t, "floating", "ip", "set", fip.ID, "--port", vm2.ID)
	alice.json(t, &fip, "floating", "ip", "show", fip.ID)
	if fip.PortID == nil || *fip.PortID != vm2.ID || *fip.Fixed != vm2.FixedIPs[0].IPAddress {
		t.Fatalf("moved floating ip %+v", fip)
	}
	if msg := alice.fails(t, "router", "remove", "subnet", router.ID, sub.ID); !strings.Contains(msg, "409") {
		t.Fatalf("removing an interface a floating IP needs: %s", msg)
	}
	alice.ok(t, "floating", "ip", "unset", "--port", fip.ID)
	alice.json(t, &fip, "floating", "ip", "show", fip.ID)
	if fip.PortID != nil {
		t.Fatalf("disassociated floating ip %+v", fip)
	}

	var pf map[string]any
	alice.json(t, &pf, "floating", "ip", "port", "forwarding", "create", fip.ID, "--port", vm1.ID,
		"--internal-ip-address", vm1.FixedIPs[0].IPAddress, "--internal-protocol-port", "80", "--external-protocol-port", "8080", "--protocol", "tcp")
	if msg := alice.fails(t, "floating", "ip", "port", "forwarding", "create", fip.ID, "--port", vm2.ID,
		"--internal-ip-address", vm2.FixedIPs[0].IPAddress, "--internal-protocol-port", "80", "--external-protocol-port", "8080", "--protocol", "tcp"); !strings.Contains(msg, "409") && !strings.Contains(msg, "already exists") {
		t.Fatalf("second forwarding of external port 8080: %s", msg)
	}
	var pfs []map[string]any
	alice.json(t, &pfs, "floating", "ip", "port", "forwarding", "list", fip.ID)
	if len(pfs) != 1 {
		t.Fatalf("port forwardings %v", pfs)
	}
	alice.ok(t, "floating", "ip", "port", "forwarding", "delete", fip.ID, pf["id"].(string))
	alice.ok(t, "floating", "ip", "delete", fip.ID)

	if msg := alice.fails(t, "router", "delete", router.ID); !strings.Contains(msg, "still has ports") {
		t.Fatalf("deleting a router with an interface: %s", msg)
	}
	if msg := alice.fails(t, "subnet", "delete", sub.ID); !strings.Contains(msg, "409") && !strings.Contains(msg, "in use") && !strings.Contains(msg, "allocation") {
		t.Fatalf("deleting a subnet on a router: %s", msg)
	}
	alice.ok(t, "router", "set", router.ID, "--no-route")
	alice.ok(t, "router", "remove", "subnet", router.ID, sub.ID)
	alice.ok(t, "router", "delete", router.ID)
	alice.ok(t, "port", "delete", vm1.ID, vm2.ID)
	alice.ok(t, "network", "delete", net.ID)
	admin.ok(t, "network", "delete", ext.ID)
}
