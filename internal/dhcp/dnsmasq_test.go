package dhcp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/testutil"
)

// These tests run a real dnsmasq in a namespace of their own (bound in a
// temporary directory, so not in /run/netns), on a dummy NIC named as the
// DHCP port's: everything Server does but plugging into Open vSwitch.

// dnsmasqFixture is a Server whose network n has its namespace and NIC.
func dnsmasqFixture(tb testing.TB, hosts int) (*Server, Network) {
	tb.Helper()
	testutil.RequireBinary(tb, "dnsmasq", "nsenter", "ip")
	// dnsmasq reads its files as nobody: every directory up to them must
	// be searchable, which t.TempDir's is not.
	dir, err := os.MkdirTemp("", "dhcpagent-")
	require.NoError(tb, err)
	require.NoError(tb, os.Chmod(dir, 0o755))
	tb.Cleanup(func() { os.RemoveAll(dir) })
	s := New(Config{Host: "h", NetnsDir: filepath.Join(dir, "netns"), StateDir: filepath.Join(dir, "state"),
		LeaseDuration: 2 * time.Minute, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	n := Network{ID: "net-" + testutil.Prefix(), MTU: 1450, Domain: DefaultDomain,
		Port: Port{ID: "dhcpport-0001", MAC: "fa:16:3e:00:00:02", Addrs: []netip.Prefix{netip.MustParsePrefix("10.9.0.2/20")}},
		Subnets: []Subnet{{ID: "s", CIDR: netip.MustParsePrefix("10.9.0.0/20"), Gateway: netip.MustParseAddr("10.9.0.1"),
			DNS: netip.MustParseAddr("10.9.0.2")}}}
	for i := range hosts {
		n.Hosts = append(n.Hosts, testHost(i))
	}
	ns, err := netns.CreateAt(s.cfg.NetnsDir, NSPrefix+n.ID)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		_ = s.stopDnsmasq(n.ID)
		_ = netns.DeleteAt(s.cfg.NetnsDir, NSPrefix+n.ID)
	})
	nic := nicName(n.Port.ID)
	for _, argv := range [][]string{{"ip", "link", "add", nic, "type", "veth", "peer", "name", "peer0"}, {"ip", "link", "set", "peer0", "up"},
		{"ip", "addr", "add", "10.9.0.2/20", "dev", nic}, {"ip", "link", "set", nic, "up"}} {
		out, err := netns.CommandAt(context.Background(), ns, argv...).CombinedOutput()
		require.NoError(tb, err, "%v: %s", argv, out)
	}
	require.NoError(tb, os.MkdirAll(s.netDir(n.ID), 0o755))
	return s, n
}

func testHost(i int) Host {
	ip := netip.AddrFrom4([4]byte{10, 9, byte(1 + i/250), byte(1 + i%250)})
	return Host{PortID: fmt.Sprintf("port-%04d", i), MAC: fmt.Sprintf("fa:16:3e:00:%02x:%02x", i/256, i%256), IP: ip,
		Name: fmt.Sprintf("vm%04d", i)}
}

// apply is Server.apply without plugging: files, then dnsmasq.
func apply(tb testing.TB, s *Server, n Network) {
	tb.Helper()
	changed, err := writeFiles(s.netDir(n.ID), n)
	require.NoError(tb, err)
	require.NoError(tb, s.ensureDnsmasq(n, changed))
}

// lookup asks n's dnsmasq for name from inside its namespace.
func lookup(ctx context.Context, s *Server, n Network, name string) ([]string, error) {
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var c net.Conn
		err := netns.Do(s.nsPath(n.ID), func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, "udp", "10.9.0.2:53")
			return err
		})
		return c, err
	}}
	return r.LookupHost(ctx, name)
}

func TestDnsmasqReloadAdoptRestart(t *testing.T) {
	s, n := dnsmasqFixture(t, 3)
	apply(t, s, n)
	pid := s.pid(n.ID)
	require.Positive(t, pid)
	ctx := context.Background()
	addrs, err := lookup(ctx, s, n, "vm0001.openstacklocal")
	log, _ := os.ReadFile(filepath.Join(s.netDir(n.ID), logFile))
	require.NoError(t, err, "%s", log)
	require.Equal(t, []string{"10.9.1.2"}, addrs)
	_, err = lookup(ctx, s, n, "vm0007.openstacklocal")
	require.Error(t, err, "not a port of the network")

	// A new port: files rewritten, SIGHUP, same process answers for it.
	n.Hosts = append(n.Hosts, testHost(7))
	apply(t, s, n)
	require.Equal(t, pid, s.pid(n.ID), "reloaded, not restarted")
	require.Eventually(t, func() bool {
		a, err := lookup(ctx, s, n, "vm0007.openstacklocal")
		return err == nil && slices.Equal(a, []string{"10.9.1.8"})
	}, 5*time.Second, 10*time.Millisecond)

	// A new agent adopts the running dnsmasq.
	s2 := New(s.cfg)
	apply(t, s2, n)
	require.Equal(t, pid, s2.pid(n.ID), "adopted")

	// A changed command line (the MTU) restarts it; a dead one is restarted.
	n.MTU = 1400
	apply(t, s2, n)
	pid2 := s2.pid(n.ID)
	require.NotEqual(t, pid, pid2)
	require.NoError(t, syscallKill(pid2))
	require.Eventually(t, func() bool { return !alive(pid2) }, 2*time.Second, 10*time.Millisecond)
	s2.last[n.ID] = n
	s2.supervise(ctx)
	require.Positive(t, s2.pid(n.ID), "supervisor restarted dnsmasq")
}

// BenchmarkReload1000 measures a port change on a network of 1,000 ports:
// files rewritten, SIGHUP, until dnsmasq answers the new port's name.
func BenchmarkReload1000(b *testing.B) {
	s, n := dnsmasqFixture(b, 1000)
	apply(b, s, n)
	ctx := context.Background()
	var ds []time.Duration
	b.ResetTimer()
	for i := range b.N {
		h := testHost(1000 + i%2000)
		n.Hosts = append(n.Hosts, h)
		start := time.Now()
		apply(b, s, n)
		for {
			if a, err := lookup(ctx, s, n, h.Name+".openstacklocal"); err == nil && a[0] == h.IP.String() {
				break
			}
			time.Sleep(time.Millisecond)
		}
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2])/1e6, "reload-p50-ms")
	b.ReportMetric(float64(ds[(len(ds)*99+99)/100-1])/1e6, "reload-p99-ms")
}

func syscallKill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
