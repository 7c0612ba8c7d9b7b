package lab_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/lab/labtest"
)

// curl fetches the metadata path inside a VM; extra are curl options.
func curl(ctx context.Context, l *lab.Lab, vm, path string, extra ...string) (string, error) {
	argv := append([]string{"curl", "-sS", "-f", "-m", "5"}, extra...)
	out, err := l.Exec(ctx, vm, append(argv, "http://169.254.169.254"+path)...)
	return string(out), err
}

// TestMetadataIsolatedNetwork: on a network without a router, two DHCP
// VMs on different hosts get the route to 169.254.169.254 by DHCP (option
// 121, via the DHCP port, with the default route beside it) and read their
// own user data, meta_data.json and EC2 keys from the DHCP namespace's
// proxy. VM2 cannot read VM1's data by sending X-Forwarded-For or
// X-Instance-ID, nor by sending from VM1's address (anti-spoofing drops
// it). A router interface on the subnet takes the metadata address off the
// DHCP namespace (the router's proxy serves it then).
func TestMetadataIsolatedNetwork(t *testing.T) {
	l := labtest.Up(t, lab.Config{Name: "mt", Hosts: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := l.Client()
	net, sub := makeNetwork(t, ctx, c, "mdnet", "10.8.0.0/24")
	ud1 := "#cloud-config\n# vm1 secret 7f3a\n"
	vm1, err := l.CreateVM(ctx, lab.VMSpec{Name: "md1", Network: net.ID, Host: "host2", UserData: []byte(ud1)})
	require.NoError(t, err)
	vm2, err := l.CreateVM(ctx, lab.VMSpec{Name: "md2", Network: net.ID, Host: "host1", UserData: []byte("vm2 data\n")})
	require.NoError(t, err)
	require.True(t, vm1.DHCP && vm2.DHCP)

	// dhclient applied option 121: the metadata route via the DHCP port,
	// and the default route (option 3 alone would be ignored).
	dports, err := c.ListPorts(ctx, map[string][]string{"network_id": {net.ID}, "device_owner": {"network:dhcp"}})
	require.NoError(t, err)
	require.Len(t, dports, 1)
	dhcpIP := dports[0].FixedIPs[0].IPAddress
	out, err := l.Exec(ctx, "md1", "ip", "-4", "route")
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "169.254.169.254 via "+dhcpIP+" dev eth0")
	require.Contains(t, string(out), "default via "+*sub.GatewayIP+" dev eth0")

	start := time.Now()
	got, err := curl(ctx, l, "md1", "/openstack/latest/user_data")
	require.NoError(t, err, got)
	require.Equal(t, ud1, got)
	t.Logf("FIGURE: first user_data fetch %v", time.Since(start).Round(time.Millisecond))
	got, err = curl(ctx, l, "md2", "/openstack/latest/user_data")
	require.NoError(t, err, got)
	require.Equal(t, "vm2 data\n", got)

	got, err = curl(ctx, l, "md1", "/openstack/latest/meta_data.json")
	require.NoError(t, err, got)
	var md map[string]any
	require.NoError(t, json.Unmarshal([]byte(got), &md), got)
	require.Equal(t, vm1.UUID, md["uuid"])
	require.Equal(t, "md1", md["name"])
	require.Equal(t, "md1", md["hostname"])
	require.Equal(t, vm1.ProjectID, md["project_id"])
	require.Equal(t, "nova", md["availability_zone"])
	got, err = curl(ctx, l, "md1", "/openstack/latest/network_data.json")
	require.NoError(t, err, got)
	require.Contains(t, got, `"ip_address":"`+vm1.IP.Addr().String()+`"`)
	require.Contains(t, got, `"vif_id":"`+vm1.PortID+`"`)
	require.Contains(t, got, `"mtu":1450`)
	got, err = curl(ctx, l, "md1", "/openstack")
	require.NoError(t, err, got)
	require.Contains(t, strings.Split(got, "\n"), "latest")

	for path, want := range map[string]string{
		"/latest/meta-data/instance-id": "i-" + strings.ReplaceAll(vm1.UUID, "-", "")[:8],
		"/latest/meta-data/local-ipv4":  vm1.IP.Addr().String(),
		"/latest/meta-data/hostname":    "md1",
		"/latest/user-data":             ud1,
	} {
		got, err = curl(ctx, l, "md1", path)
		require.NoError(t, err, "%s: %s", path, got)
		require.Equal(t, want, got, path)
	}
	got, err = curl(ctx, l, "md1", "/latest/meta-data/")
	require.NoError(t, err, got)
	require.Contains(t, strings.Split(got, "\n"), "local-ipv4")
	require.NotContains(t, strings.Split(got, "\n"), "public-ipv4", "no floating IP")
	_, err = curl(ctx, l, "md1", "/latest/meta-data/public-ipv4")
	require.Error(t, err, "no floating IP: 404")

	// Headers the VM controls are never read.
	got, err = curl(ctx, l, "md2", "/openstack/latest/user_data",
		"-H", "X-Forwarded-For: "+vm1.IP.Addr().String(), "-H", "X-Instance-ID: "+vm1.UUID,
		"-H", "X-Tenant-ID: "+vm1.ProjectID, "-H", "X-Instance-ID-Signature: x")
	require.NoError(t, err, got)
	require.Equal(t, "vm2 data\n", got)
	got, err = curl(ctx, l, "md2", "/latest/meta-data/instance-id", "-H", "X-Forwarded-For: "+vm1.IP.Addr().String())
	require.NoError(t, err, got)
	require.Equal(t, "i-"+strings.ReplaceAll(vm2.UUID, "-", "")[:8], got)

	// VM2 sends from VM1's address: anti-spoofing drops it on VM2's port,
	// so nothing comes back and the DHCP namespace never sees it (an
	// nftables counter there on TCP to port 80 from VM1's address; without
	// anti-spoofing the SYN would arrive and its answer go to VM1).
	qdhcp := "qdhcp-" + net.ID
	inNS := func(argv ...string) string {
		out, err := l.HostExec(ctx, 1, append([]string{"ip", "netns", "exec", qdhcp}, argv...)...)
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	spoof := vm1.IP.Addr().String()
	inNS("nft", "add table inet mt; add chain inet mt in { type filter hook input priority 0; }; "+
		"add counter inet mt fromvm1; add rule inet mt in ip saddr "+spoof+" tcp dport 80 counter name fromvm1")
	defer inNS("nft", "delete", "table", "inet", "mt")
	packets := func() string {
		f := strings.Fields(inNS("nft", "list", "counter", "inet", "mt", "fromvm1"))
		for i := range f[:len(f)-1] {
			if f[i] == "packets" {
				return f[i+1]
			}
		}
		return "?"
	}
	out, err = l.Exec(ctx, "md2", "ip", "addr", "add", spoof+"/32", "dev", "eth0")
	require.NoError(t, err, "%s", out)
	got, err = curl(ctx, l, "md2", "/openstack/latest/user_data", "--interface", spoof, "-m", "3")
	require.Error(t, err, "a spoofed request must get no answer: %q", got)
	require.NotContains(t, got, "secret 7f3a")
	require.Equal(t, "0", packets(), "the spoofed SYNs never reached the DHCP namespace")
	out, err = l.Exec(ctx, "md2", "ip", "addr", "del", spoof+"/32", "dev", "eth0")
	require.NoError(t, err, "%s", out)
	got, err = curl(ctx, l, "md2", "/openstack/latest/user_data")
	require.NoError(t, err, got)
	require.Equal(t, "vm2 data\n", got, "VM2's own address still works")
	got, err = curl(ctx, l, "md1", "/openstack/latest/user_data")
	require.NoError(t, err, got)
	require.Equal(t, ud1, got)
	require.NotEqual(t, "0", packets(), "the counter sees VM1's own requests")

	// A router interface on the subnet: the DHCP namespace stops serving
	// the metadata address (the router's namespace serves it).
	addrs := func() string { return inNS("ip", "-4", "-o", "addr") }
	require.Contains(t, addrs(), "169.254.169.254/32")
	r, err := c.CreateRouter(ctx, client.RouterCreate{Name: "mdr"})
	require.NoError(t, err)
	_, err = c.RouterInterface(ctx, r.ID, true, sub.ID, "")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return !strings.Contains(addrs(), "169.254.169.254") },
		10*time.Second, 100*time.Millisecond, "metadata address left the DHCP namespace")
	_, err = c.RouterInterface(ctx, r.ID, false, sub.ID, "")
	require.NoError(t, err)
	require.NoError(t, c.DeleteRouter(ctx, r.ID))
	require.Eventually(t, func() bool { return strings.Contains(addrs(), "169.254.169.254/32") },
		10*time.Second, 100*time.Millisecond, "metadata address back once the router is gone")
	// The proxy listens a moment after the address is back.
	require.Eventually(t, func() bool {
		_, err := curl(ctx, l, "md1", "/openstack/latest/meta_data.json", "-o", "/dev/null")
		return err == nil
	}, 10*time.Second, 100*time.Millisecond, "metadata answered again once the router is gone")

	// Twenty fetches in a row (each reads the store: ports, subnets,
	// floating IPs, the instance), then an agent restart on the DHCP host:
	// the new agent starts the proxy again.
	var times []float64
	for range 20 {
		got, err = curl(ctx, l, "md1", "/openstack/latest/meta_data.json", "-o", "/dev/null", "-w", "%{time_total}")
		require.NoError(t, err, got)
		sec, err := strconv.ParseFloat(got, 64)
		require.NoError(t, err, got)
		times = append(times, sec*1000)
	}
	slices.Sort(times)
	t.Logf("FIGURE: meta_data.json request (curl time_total, connect to last byte), 20 in a row: p50 %.1f ms, max %.1f ms",
		times[10], times[19])
	require.NoError(t, l.RestartAgent(ctx, 1))
	start = time.Now()
	require.Eventually(t, func() bool {
		got, err := curl(ctx, l, "md1", "/openstack/latest/user_data", "-m", "1")
		return err == nil && got == ud1
	}, 20*time.Second, 100*time.Millisecond, "metadata served again after the agent restart")
	t.Logf("FIGURE: metadata answered %v after the agent restart returned", time.Since(start).Round(time.Millisecond))

	// Deleting the VM deletes its instance record.
	require.NoError(t, l.DeleteVM(ctx, "md1"))
	_, err = c.GetInstance(ctx, vm1.UUID)
	require.ErrorIs(t, err, client.ErrNotFound)
}
