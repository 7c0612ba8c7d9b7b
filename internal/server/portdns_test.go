package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// extra_dhcp_opts: set on create, merged on update (null value removes),
// validated with Neutron's errors.
func TestExtraDHCPOpts(t *testing.T) {
	p := member("p-dhcpopts")
	netID := mkNetwork(t, p, map[string]any{"name": "o"})["id"].(string)
	mkSubnet(t, p, netID, "10.7.0.0/24", nil)
	opts := []any{
		map[string]any{"opt_name": "bootfile-name", "opt_value": "pxelinux.0"},
		map[string]any{"opt_name": "tftp-server", "opt_value": "10.7.0.5", "ip_version": 4},
	}
	port := mkPort(t, p, netID, map[string]any{"extra_dhcp_opts": opts})
	require.ElementsMatch(t, []any{
		map[string]any{"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": float64(4)},
		map[string]any{"opt_name": "tftp-server", "opt_value": "10.7.0.5", "ip_version": float64(4)},
	}, port["extra_dhcp_opts"])
	id := port["id"].(string)
	upd := map[string]any{"port": map[string]any{"extra_dhcp_opts": []any{
		map[string]any{"opt_name": "bootfile-name", "opt_value": nil},
		map[string]any{"opt_name": "tftp-server", "opt_value": "10.7.0.6"},
		map[string]any{"opt_name": "dns-server", "opt_value": "2001:db8::1", "ip_version": 6},
	}}}
	got := call(t, p, "PUT", "/v2.0/ports/"+id, upd).want(t, 200).obj(t, "port")
	require.ElementsMatch(t, []any{
		map[string]any{"opt_name": "tftp-server", "opt_value": "10.7.0.6", "ip_version": float64(4)},
		map[string]any{"opt_name": "dns-server", "opt_value": "2001:db8::1", "ip_version": float64(6)},
	}, got["extra_dhcp_opts"])
	require.Equal(t, got["extra_dhcp_opts"], call(t, p, "GET", "/v2.0/ports/"+id, nil).want(t, 200).obj(t, "port")["extra_dhcp_opts"])

	plain := mkPort(t, p, netID, nil)
	require.Equal(t, []any{}, plain["extra_dhcp_opts"])
	for _, bad := range []any{
		"x", []any{"x"}, []any{map[string]any{"opt_value": "1"}},
		[]any{map[string]any{"opt_name": "a", "opt_value": "1", "ip_version": 5}},
		[]any{map[string]any{"opt_name": "a", "opt_value": 1}},
		[]any{map[string]any{"opt_name": "a", "opt_value": "1", "bogus": 1}},
	} {
		r := call(t, p, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID, "extra_dhcp_opts": bad}})
		r.wantError(t, 400, "HTTPBadRequest")
	}
}

// dns_name and dns_assignment on ports, dns_domain on networks.
func TestPortDNS(t *testing.T) {
	p := member("p-dns")
	netID := mkNetwork(t, p, map[string]any{"name": "d"})["id"].(string)
	mkSubnet(t, p, netID, "10.8.0.0/24", nil)
	port := mkPort(t, p, netID, map[string]any{"fixed_ips": []any{map[string]any{"ip_address": "10.8.0.11"}}})
	require.Equal(t, "", port["dns_name"])
	require.Equal(t, []any{map[string]any{"hostname": "host-10-8-0-11", "ip_address": "10.8.0.11",
		"fqdn": "host-10-8-0-11.openstacklocal."}}, port["dns_assignment"])

	named := mkPort(t, p, netID, map[string]any{"dns_name": "vm1", "fixed_ips": []any{map[string]any{"ip_address": "10.8.0.12"}}})
	require.Equal(t, "vm1", named["dns_name"])
	require.Equal(t, "vm1.openstacklocal.", named["dns_assignment"].([]any)[0].(map[string]any)["fqdn"])

	net := call(t, p, "PUT", "/v2.0/networks/"+netID, map[string]any{"network": map[string]any{"dns_domain": "corp.example."}}).
		want(t, 200).obj(t, "network")
	require.Equal(t, "corp.example.", net["dns_domain"])
	got := call(t, p, "GET", "/v2.0/ports/"+named["id"].(string), nil).want(t, 200).obj(t, "port")
	require.Equal(t, "vm1.corp.example.", got["dns_assignment"].([]any)[0].(map[string]any)["fqdn"])
	got = call(t, p, "PUT", "/v2.0/ports/"+named["id"].(string), map[string]any{"port": map[string]any{"dns_name": "vm2"}}).
		want(t, 200).obj(t, "port")
	require.Equal(t, "vm2", got["dns_assignment"].([]any)[0].(map[string]any)["hostname"])

	for _, bad := range []string{"-bad", "bad_name", "a..b", "x.123", string(make([]byte, 64)) + "a"} {
		call(t, p, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID, "dns_name": bad}}).
			wantError(t, 400, "HTTPBadRequest")
	}
	call(t, p, "PUT", "/v2.0/networks/"+netID, map[string]any{"network": map[string]any{"dns_domain": "bad domain"}}).
		wantError(t, 400, "HTTPBadRequest")
	require.Equal(t, "", mkNetwork(t, p, map[string]any{"name": "e"})["dns_domain"])
}
