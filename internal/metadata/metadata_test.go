package metadata

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
	"github.com/vland/vland/internal/testutil"
)

// fixture: router R has interfaces on n1 (10.0.0.0/24) and n2
// (10.1.0.0/24); n3 is another project's network with the same CIDR as
// n1, not on R. Instances: a (n1, 10.0.0.5, floating IP 203.0.113.7),
// b (n2, 10.1.0.5), c (n3, 10.0.0.5: the same address as a), d (n3,
// 10.0.0.6); a port on n1 whose device is no known instance (10.0.0.9).
const (
	routerID = "rrrrrrrr-0000-0000-0000-000000000001"
	instA    = "aaaaaaaa-0000-0000-0000-00000000000a"
	instB    = "bbbbbbbb-0000-0000-0000-00000000000b"
	instC    = "cccccccc-0000-0000-0000-00000000000c"
	instD    = "dddddddd-0000-0000-0000-00000000000d"
)

func fixture(t *testing.T) store.Store {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	gw := func(s string) *string { return &s }
	var ops []store.Op
	put := func(key string, v any) {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		ops = append(ops, store.Op{Key: key, Value: b})
	}
	put(store.NetworkKey("n1"), api.Network{ID: "n1", MTU: 1450})
	for _, s := range []api.Subnet{
		{ID: "s1", NetworkID: "n1", CIDR: "10.0.0.0/24", IPVersion: 4, GatewayIP: gw("10.0.0.1"), EnableDHCP: true, DNSNameservers: []string{"192.0.2.53"}},
		{ID: "s2", NetworkID: "n2", CIDR: "10.1.0.0/24", IPVersion: 4, GatewayIP: gw("10.1.0.1")},
		{ID: "s3", NetworkID: "n3", CIDR: "10.0.0.0/24", IPVersion: 4, GatewayIP: gw("10.0.0.1")},
	} {
		put(store.SubnetKey(s.ID), s)
	}
	port := func(id, net, sub, ip, owner, dev string) {
		put(store.PortKey(id), api.Port{ID: id, NetworkID: net, DeviceOwner: owner, DeviceID: dev,
			MACAddress: "fa:16:3e:00:00:" + id[len(id)-2:], FixedIPs: []api.FixedIP{{SubnetID: sub, IPAddress: ip}}})
	}
	port("port-r1", "n1", "s1", "10.0.0.1", api.OwnerRouterInterface, routerID)
	port("port-r2", "n2", "s2", "10.1.0.1", api.OwnerRouterInterface, routerID)
	port("port-d1", "n1", "s1", "10.0.0.2", "network:dhcp", "dhcp-n1")
	port("port-0a", "n1", "s1", "10.0.0.5", "compute:nova", instA)
	port("port-0b", "n2", "s2", "10.1.0.5", "compute:nova", instB)
	port("port-0c", "n3", "s3", "10.0.0.5", "compute:nova", instC)
	port("port-0d", "n3", "s3", "10.0.0.6", "compute:nova", instD)
	port("port-0x", "n1", "s1", "10.0.0.9", "compute:nova", "not-an-instance")
	pid, fixed := "port-0a", "10.0.0.5"
	put(store.FloatingIPKey("f1"), api.FloatingIP{ID: "f1", FloatingIPAddress: "203.0.113.7", PortID: &pid, FixedIPAddress: &fixed})
	for _, in := range []api.Instance{
		{ID: instA, Name: "vm-a", Hostname: "vm-a", ProjectID: "p1", AvailabilityZone: "nova", UserData: []byte("#!/bin/sh\necho a\n")},
		{ID: instB, Name: "vm-b", Hostname: "vm-b", ProjectID: "p1", AvailabilityZone: "az2", UserData: []byte("user data of b")},
		{ID: instC, Name: "vm-c", Hostname: "vm-c", ProjectID: "p2", AvailabilityZone: "nova", UserData: []byte("user data of c")},
		{ID: instD, Name: "vm-d", Hostname: "vm-d", ProjectID: "p2", AvailabilityZone: "nova"},
	} {
		put(store.InstanceKey(in.ID), in)
	}
	_, err := st.Txn(context.Background(), nil, ops)
	require.NoError(t, err)
	return st
}

func TestResolve(t *testing.T) {
	st := fixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		who  Identity
		src  string
		want string // instance id, or "" for ErrNoPort/ErrNoInstance
	}{
		{Router(routerID), "10.0.0.5", instA},    // not c: n3 is not on the router
		{Router(routerID), "10.1.0.5", instB},    // the router's other network
		{Router(routerID), "10.0.0.6", ""},       // d is on n3, behind no interface of R
		{Router(routerID), "10.0.0.1", ""},       // the router's own port is no instance
		{Router(routerID), "10.0.0.2", ""},       // nor the DHCP port
		{Router(routerID), "10.0.0.9", ""},       // a device that is no known instance
		{Router("other-router"), "10.0.0.5", ""}, // another router sees nothing of R's
		{Network("n1"), "10.0.0.5", instA},
		{Network("n3"), "10.0.0.5", instC}, // same address, other network: its own VM
		{Network("n2"), "10.0.0.5", ""},
		{Network("n1"), "::ffff:10.0.0.5", instA}, // v4-mapped peers are unmapped
	} {
		tgt, err := Resolve(ctx, st, tc.who, netip.MustParseAddr(tc.src))
		if tc.want == "" {
			require.Error(t, err, "%s from %s", tc.who, tc.src)
			continue
		}
		require.NoError(t, err, "%s from %s", tc.who, tc.src)
		require.Equal(t, tc.want, tgt.Instance.ID, "%s from %s", tc.who, tc.src)
	}
	_, err := Resolve(ctx, st, Identity{Router: "r", Network: "n"}, netip.MustParseAddr("10.0.0.5"))
	require.Error(t, err, "an identity with both router and network")
}

// get fetches path from the proxy at dst, from source address src, inside
// namespace ns, with extra headers.
func get(t *testing.T, ns, src, dst, path string, hdr map[string]string) (int, string) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := netns.Do(ns, func() (err error) {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodGet, "http://"+dst+path, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestProxyInRouterNamespace starts the proxy the way the L3 service's
// namespace callback does (RouterNamespaceUp with a namespace path) in a
// namespace of its own, and connects from the fixture's VM addresses (on
// lo there): each source reads only its own instance, whatever headers
// it sends, and a source behind no interface of the router reads nothing.
func TestProxyInRouterNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	ns := "mt-" + testutil.Prefix()
	require.NoError(t, netns.Create(ns))
	t.Cleanup(func() { _ = netns.Delete(ns) })
	for _, a := range []string{"10.0.0.1/32", "10.0.0.5/32", "10.1.0.5/32", "10.0.0.6/32"} {
		out, err := exec.Command("ip", "-n", ns, "addr", "add", a, "dev", "lo").CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	p := NewProxies(NewBackend(fixture(t), nil), nil)
	t.Cleanup(p.Close)
	nsPath := "/run/netns/" + ns
	ctx := context.Background()
	require.NoError(t, p.RouterNamespaceUp(ctx, routerID, nsPath))
	require.NoError(t, p.RouterNamespaceUp(ctx, routerID, nsPath), "idempotent")
	p.RouterUpHook(ctx, routerID, nsPath) // the L3 service's callback shape
	require.Equal(t, []string{"router/" + routerID}, p.Running())
	dst := "10.0.0.1:9697" // where the router's redirect sends 169.254.169.254:80

	code, body := get(t, ns, "10.0.0.5", dst, "/openstack/latest/user_data", nil)
	require.Equal(t, 200, code)
	require.Equal(t, "#!/bin/sh\necho a\n", body)
	code, body = get(t, ns, "10.0.0.5", dst, "/openstack/latest/user_data",
		map[string]string{"X-Forwarded-For": "10.1.0.5", "X-Instance-ID": instB, "X-Tenant-ID": "p1"})
	require.Equal(t, 200, code)
	require.Equal(t, "#!/bin/sh\necho a\n", body, "headers are never read")
	code, body = get(t, ns, "10.1.0.5", dst, "/latest/user-data", nil)
	require.Equal(t, 200, code)
	require.Equal(t, "user data of b", body)
	code, body = get(t, ns, "10.0.0.6", dst, "/openstack/latest/meta_data.json", nil)
	require.Equal(t, 404, code, "n3's VM is behind no interface of this router: %s", body)

	code, body = get(t, ns, "10.0.0.5", dst, "/openstack/latest/meta_data.json", nil)
	require.Equal(t, 200, code)
	var md map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &md))
	require.Equal(t, instA, md["uuid"])
	require.Equal(t, "vm-a", md["name"])
	require.Equal(t, "vm-a", md["hostname"])
	require.Equal(t, "p1", md["project_id"])
	require.Equal(t, "nova", md["availability_zone"])

	for path, want := range map[string]string{
		"/latest/meta-data/instance-id":                     "i-aaaaaaaa",
		"/latest/meta-data/local-ipv4":                      "10.0.0.5",
		"/latest/meta-data/public-ipv4":                     "203.0.113.7",
		"/latest/meta-data/hostname":                        "vm-a",
		"/2009-04-04/meta-data/placement/availability-zone": "nova",
	} {
		code, body = get(t, ns, "10.0.0.5", dst, path, nil)
		require.Equal(t, 200, code, path)
		require.Equal(t, want, body, path)
	}
	_, body = get(t, ns, "10.0.0.5", dst, "/latest/meta-data/", nil)
	require.Contains(t, strings.Split(body, "\n"), "public-ipv4")
	code, _ = get(t, ns, "10.1.0.5", dst, "/latest/meta-data/public-ipv4", nil)
	require.Equal(t, 404, code, "b has no floating IP")
	_, body = get(t, ns, "10.0.0.5", dst, "/openstack", nil)
	require.Contains(t, strings.Split(body, "\n"), "latest")

	_, body = get(t, ns, "10.0.0.5", dst, "/openstack/latest/network_data.json", nil)
	var nd struct {
		Links    []map[string]any `json:"links"`
		Networks []map[string]any `json:"networks"`
		Services []map[string]any `json:"services"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &nd))
	require.Len(t, nd.Links, 1)
	require.Equal(t, "port-0a", nd.Links[0]["vif_id"])
	require.Equal(t, 1450.0, nd.Links[0]["mtu"])
	require.Len(t, nd.Networks, 1)
	require.Equal(t, "10.0.0.5", nd.Networks[0]["ip_address"])
	require.Equal(t, "n1", nd.Networks[0]["network_id"])
	require.Equal(t, "ipv4_dhcp", nd.Networks[0]["type"])
	require.Equal(t, []map[string]any{{"type": "dns", "address": "192.0.2.53"}}, nd.Services)

	p.RouterNamespaceDown(routerID)
	require.Empty(t, p.Running())
	err := netns.Do(nsPath, func() error {
		c, err := net.DialTimeout("tcp", dst, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
	require.Error(t, err, "the proxy is down")
}

// TestHandlerNoInstanceAndMethods: a POST is refused, and a peer with no
// instance gets 404, not another VM's data.
func TestHandlerNoInstanceAndMethods(t *testing.T) {
	h := NewBackend(fixture(t), nil).Handler(Network("n1"))
	for _, tc := range []struct {
		method, peer, path string
		code               int
	}{
		{http.MethodGet, "10.0.0.5:40000", "/openstack/latest/user_data", 200},
		{http.MethodPost, "10.0.0.5:40000", "/openstack/latest/user_data", 405},
		{http.MethodGet, "10.0.0.9:40000", "/openstack/latest/user_data", 404},
		{http.MethodGet, "10.0.0.99:40000", "/latest/meta-data/", 404},
		{http.MethodGet, "10.0.0.5:40000", "/openstack/1999-01-01/meta_data.json", 404},
		{http.MethodGet, "10.0.0.5:40000", "/latest/meta-data/no-such-key", 404},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(tc.method, "http://169.254.169.254"+tc.path, nil)
		req.RemoteAddr = tc.peer
		h.ServeHTTP(rec, req)
		require.Equal(t, tc.code, rec.Code, "%s %s from %s", tc.method, tc.path, tc.peer)
	}
}

// TestRouterRedirect: the path as the router builds it. A "VM" namespace
// reaches a router namespace over a veth (qr- side there), with the route
// to 169.254.169.254 via the router's interface; the router's nftables
// redirect TCP to 169.254.169.254:80 from qr-* to :9697 (the L3 service's
// rule), where RouterNamespaceUp's proxy listens. curl in the VM gets its
// instance's user data; the redirect keeps the VM's source address.
func TestRouterRedirect(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireBinary(t, "nft", "curl", "ip")
	pfx := "mt-" + testutil.Prefix()
	vm, rt := pfx+"-vm", pfx+"-r"
	for _, ns := range []string{vm, rt} {
		require.NoError(t, netns.Create(ns))
		t.Cleanup(func() { _ = netns.Delete(ns) })
	}
	run := func(argv ...string) {
		t.Helper()
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		require.NoError(t, err, "%v: %s", argv, out)
	}
	run("ip", "link", "add", "eth0", "netns", vm, "type", "veth", "peer", "name", "qr-test", "netns", rt)
	run("ip", "-n", vm, "addr", "add", "10.0.0.5/24", "dev", "eth0")
	run("ip", "-n", vm, "link", "set", "eth0", "up")
	run("ip", "-n", vm, "route", "add", "default", "via", "10.0.0.1")
	run("ip", "-n", rt, "addr", "add", "10.0.0.1/24", "dev", "qr-test")
	run("ip", "-n", rt, "link", "set", "qr-test", "up")
	run("ip", "netns", "exec", rt, "nft", "add table ip mt; add chain ip mt pre { type nat hook prerouting priority dstnat; }; "+
		`add rule ip mt pre iifname "qr-*" ip daddr 169.254.169.254 tcp dport 80 redirect to :9697`)

	p := NewProxies(NewBackend(fixture(t), nil), nil)
	t.Cleanup(p.Close)
	p.RouterUpHook(context.Background(), routerID, "/run/netns/"+rt)
	out, err := exec.Command("ip", "netns", "exec", vm, "curl", "-sS", "-f", "-m", "5",
		"-H", "X-Forwarded-For: 10.1.0.5", "http://169.254.169.254/openstack/latest/user_data").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "#!/bin/sh\necho a\n", string(out))
	out, err = exec.Command("ip", "netns", "exec", vm, "curl", "-sS", "-f", "-m", "5",
		"http://169.254.169.254/latest/meta-data/local-ipv4").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "10.0.0.5", string(out))

	p.RouterNamespaceDown(routerID)
	out, err = exec.Command("ip", "netns", "exec", vm, "curl", "-sS", "-f", "-m", "2",
		"http://169.254.169.254/openstack/latest/user_data").CombinedOutput()
	require.Error(t, err, "proxy down: %s", out)
}
