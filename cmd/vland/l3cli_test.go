package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCLIRouterFloatingIP drives routers, floating IPs and port
// forwardings through the vland CLI as an admin would, checking what the
// server recorded.
func TestCLIRouterFloatingIP(t *testing.T) {
	c := cli{t: t, url: startAPI(t)}
	c.ok("network", "create", "public", "--external")
	c.ok("subnet", "create", "public-sub", "--network", "public", "--subnet-range", "203.0.113.0/24")
	c.ok("network", "create", "net1")
	c.ok("subnet", "create", "sub1", "--network", "net1", "--subnet-range", "10.1.0.0/24")
	c.ok("network", "create", "net2")
	c.ok("subnet", "create", "sub2", "--network", "net2", "--subnet-range", "10.2.0.0/24")
	c.ok("port", "create", "p2", "--network", "net2", "--fixed-ip", "subnet=sub2,ip-address=10.2.0.3")
	c.ok("port", "create", "vm1", "--network", "net1", "--fixed-ip", "subnet=sub1,ip-address=10.1.0.10")

	var r map[string]any
	c.json(&r, "router", "create", "r1", "--external-gateway", "public", "--disable-snat",
		"--fixed-ip", "subnet=public-sub,ip-address=203.0.113.5")
	gw := r["external_gateway_info"].(map[string]any)
	assert.Equal(t, false, gw["enable_snat"])
	assert.Equal(t, "203.0.113.5", gw["external_fixed_ips"].([]any)[0].(map[string]any)["ip_address"])

	c.ok("router", "add", "subnet", "r1", "sub1")
	c.ok("router", "add", "port", "r1", "p2")
	c.ok("router", "set", "r1", "--route", "destination=172.16.0.0/16,gateway=10.2.0.20", "--name", "r1")
	c.json(&r, "router", "show", "r1")
	assert.Equal(t, []any{map[string]any{"destination": "172.16.0.0/16", "nexthop": "10.2.0.20"}}, r["routes"])
	_, stderr, err := c.run("router", "set", "r1", "--route", "destination=172.17.0.0/16,gateway=192.0.2.1")
	require.Error(t, err)
	assert.Contains(t, err.Error()+stderr, "nexthop is not connected")
	c.ok("router", "unset", "r1", "--route", "destination=172.16.0.0/16,gateway=10.2.0.20")
	c.json(&r, "router", "show", "r1")
	assert.Empty(t, r["routes"])

	var ports []map[string]any
	c.json(&ports, "port", "list", "--device-id", r["id"].(string))
	assert.Len(t, ports, 3, "gateway and two interfaces")

	var fip map[string]any
	c.json(&fip, "floating", "ip", "create", "public", "--port", "vm1")
	addr := fip["floating_ip_address"].(string)
	assert.Equal(t, "10.1.0.10", fip["fixed_ip_address"])
	assert.Equal(t, r["id"], fip["router_id"])
	list := c.ok("floating", "ip", "list")
	assert.Contains(t, list, addr)
	c.ok("floating", "ip", "unset", addr, "--port")
	c.json(&fip, "floating", "ip", "show", addr)
	assert.Nil(t, fip["port_id"])

	var pf map[string]any
	c.json(&pf, "floating", "ip", "port", "forwarding", "create", addr, "--port", "vm1",
		"--internal-ip-address", "10.1.0.10", "--internal-protocol-port", "80", "--external-protocol-port", "8080", "--protocol", "tcp")
	assert.EqualValues(t, 8080, pf["external_port"])
	_, _, err = c.run("floating", "ip", "port", "forwarding", "create", addr, "--port", "vm1",
		"--internal-ip-address", "10.1.0.10", "--internal-protocol-port", "81", "--external-protocol-port", "8080", "--protocol", "tcp")
	require.Error(t, err, "same external port twice")
	c.ok("floating", "ip", "port", "forwarding", "set", addr, pf["id"].(string), "--external-protocol-port", "8081")
	c.json(&pf, "floating", "ip", "port", "forwarding", "show", addr, pf["id"].(string))
	assert.EqualValues(t, 8081, pf["external_port"])
	assert.Contains(t, c.ok("floating", "ip", "port", "forwarding", "list", addr), "8081:8081")
	c.ok("floating", "ip", "port", "forwarding", "delete", addr, pf["id"].(string))
	c.ok("floating", "ip", "delete", addr)

	_, _, err = c.run("router", "delete", "r1")
	require.Error(t, err, "a router with interfaces is in use")
	c.ok("router", "remove", "subnet", "r1", "sub1")
	c.ok("router", "remove", "port", "r1", "p2")
	c.ok("router", "unset", "r1", "--external-gateway")
	c.ok("router", "delete", "r1")
	assert.NotContains(t, c.ok("router", "list"), "r1")
}
