package e2e_test

// Helpers of the security group tests (secgroups_*_test.go): traffic
// probes and servers run in the VMs, captures at the receiver, groups and
// rules, and an iperf3 transfer that must never stall.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/lab/labtest"
)

// sgNetwork makes a VXLAN network with subnet cidr in project (a name)
// and the VMs on it (their Network and Project filled in); it returns the
// project's id and the VMs in order.
func sgNetwork(t *testing.T, ctx context.Context, project, name, cidr string, vms ...vmSpec) (string, []*lab.VM) {
	t.Helper()
	n, _ := makeNetwork(t, ctx, netSpec{Name: name, Project: project, Type: api.NetworkTypeVXLAN, CIDR: cidr})
	for i := range vms {
		vms[i].Network, vms[i].Project = n, project
	}
	created := createVMs(t, ctx, vms...)
	id, err := adminClient(t).ProjectID(ctx, project)
	require.NoError(t, err)
	return id, created
}

// probeServer answers on every "tcp:PORT" ("hi", then closes), echoes
// every byte on every "echo:PORT" (TCP) and every datagram on every
// "udp:PORT".
const probeServer = `
import socket, sys, threading
def tcp(port, echoing):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        if echoing:
            threading.Thread(target=echo, args=(c,), daemon=True).start()
        else:
            c.sendall(b"hi")
            c.close()
def echo(c):
    while True:
        b = c.recv(1)
        if not b:
            return
        c.sendall(b)
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    while True:
        b, a = s.recvfrom(64)
        s.sendto(b, a)
for a in sys.argv[1:]:
    proto, port = a.split(":")
    if proto == "udp":
        threading.Thread(target=udp, args=(int(port),), daemon=True).start()
    else:
        threading.Thread(target=tcp, args=(int(port), proto == "echo"), daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
`

// startProbeServer runs probeServer in vm on the given "tcp:P", "echo:P"
// and "udp:P" ports until the test ends.
func startProbeServer(t *testing.T, l *lab.Lab, vm string, ports ...string) {
	t.Helper()
	cmd, err := l.Command(context.Background(), vm, append([]string{"/usr/bin/python3", "-u", "-c", probeServer}, ports...)...)
	require.NoError(t, err)
	var out labtest.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "listening") }, 5*time.Second, 20*time.Millisecond,
		"probe server in %s: %s", vm, out.String())
}

// probeClient exits 0 when the reply comes back within timeout seconds:
// "hi" over a new TCP connection, or the echo of one UDP datagram.
const probeClient = `
import socket, sys
proto, ip, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
if proto == "tcp":
    s = socket.create_connection((ip, port), timeout=timeout)
    s.settimeout(timeout)
    sys.exit(0 if s.recv(2) == b"hi" else 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(timeout)
s.sendto(b"x", (ip, port))
sys.exit(0 if s.recvfrom(64)[0] == b"x" else 1)
`

// sgProbe sends one TCP connection, UDP datagram or ICMP echo from a VM
// and reports whether the reply came back.
func sgProbe(ctx context.Context, l *lab.Lab, from, proto, ip string, port int, timeout time.Duration) bool {
	secs := fmt.Sprintf("%.2f", timeout.Seconds())
	if proto == "icmp" {
		_, err := l.Exec(ctx, from, "ping", "-c", "1", "-W", secs, "-q", ip)
		return err == nil
	}
	_, err := l.Exec(ctx, from, "/usr/bin/python3", "-c", probeClient, proto, ip, fmt.Sprint(port), secs)
	return err == nil
}

// connects reports whether a TCP connection from a VM to ip:port is
// answered ("hi") within a second.
func connects(ctx context.Context, l *lab.Lab, from, ip string, port int) bool {
	return sgProbe(ctx, l, from, "tcp", ip, port, time.Second)
}

// tcpHold keeps one connection to an echo port busy, printing "ok N" per
// echoed byte, and "cut" when an echo does not come back within a second.
const tcpHold = `
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
s.settimeout(1)
n = 0
while True:
    try:
        s.sendall(b"x")
        if s.recv(1) != b"x":
            print("closed", flush=True)
            break
    except Exception:
        print("cut", flush=True)
        break
    n += 1
    print("ok", n, flush=True)
    time.sleep(0.05)
`

// startHold keeps a TCP connection to an echo port busy (tcpHold) until
// the test ends; the output tells how it goes.
func startHold(t *testing.T, l *lab.Lab, vm, ip string, port int) *labtest.Buffer {
	t.Helper()
	hold := &labtest.Buffer{}
	cmd, err := l.Command(context.Background(), vm, "/usr/bin/python3", "-c", tcpHold, ip, fmt.Sprint(port))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = hold, hold
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return hold
}

// waitOpen tries a TCP connection to every ip:port given, every 20 ms with
// a 100 ms timeout, until each one was answered ("hi") once, and prints
// "open IP UNIXTIME" for each as it first succeeds.
const waitOpen = `
import socket, sys, time
port, left = int(sys.argv[1]), set(sys.argv[2:])
print("started", flush=True)
deadline = time.time() + 20
while left and time.time() < deadline:
    for ip in sorted(left):
        try:
            s = socket.create_connection((ip, port), timeout=0.1)
            s.settimeout(0.5)
            if s.recv(2) == b"hi":
                print("open", ip, repr(time.time()), flush=True)
                left.discard(ip)
            s.close()
        except Exception:
            pass
    time.sleep(0.02)
`

// startWaitOpen runs waitOpen in vm; the returned function waits for it
// and returns, per IP, when it opened.
func startWaitOpen(t *testing.T, l *lab.Lab, vm string, port int, ips ...string) func() map[string]time.Time {
	t.Helper()
	cmd, err := l.Command(context.Background(), vm, append([]string{"/usr/bin/python3", "-u", "-c", waitOpen, fmt.Sprint(port)}, ips...)...)
	require.NoError(t, err)
	var out labtest.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "started") }, 5*time.Second, 10*time.Millisecond)
	return func() map[string]time.Time {
		_ = cmd.Wait()
		got := map[string]time.Time{}
		for _, line := range strings.Split(out.String(), "\n") {
			f := strings.Fields(line)
			if len(f) == 3 && f[0] == "open" {
				sec, err := strconv.ParseFloat(f[2], 64)
				require.NoError(t, err)
				got[f[1]] = time.Unix(0, int64(sec*1e9))
			}
		}
		return got
	}
}

// recvCapture records what reaches a VM's NIC (tcpdump in its namespace):
// the IPv4 packets addressed to it, counted as TCP SYNs, UDP datagrams
// and ICMP echo requests.
type recvCapture struct{ *labtest.Capture }

var (
	capTCP  = regexp.MustCompile(`IP ([0-9.]+)\.\d+ > ([0-9.]+)\.(\d+): Flags \[S\]`)
	capUDP  = regexp.MustCompile(`IP ([0-9.]+)\.\d+ > ([0-9.]+)\.(\d+): UDP`)
	capICMP = regexp.MustCompile(`IP ([0-9.]+) > ([0-9.]+): ICMP echo request`)
)

// count returns how many packets of proto from src ("" for any) to
// dst:port arrived (port ignored for ICMP).
func (c *recvCapture) count(proto, src, dst string, port int) int {
	text := c.String()
	n := 0
	switch proto {
	case "tcp", "udp":
		re := capTCP
		if proto == "udp" {
			re = capUDP
		}
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			if (src == "" || m[1] == src) && m[2] == dst && m[3] == fmt.Sprint(port) {
				n++
			}
		}
	case "icmp":
		for _, m := range capICMP.FindAllStringSubmatch(text, -1) {
			if (src == "" || m[1] == src) && m[2] == dst {
				n++
			}
		}
	}
	return n
}

// startRecvCapture captures, in vm's namespace, the IPv4 packets addressed
// to it, until the test ends.
func startRecvCapture(t *testing.T, l *lab.Lab, vm *lab.VM) *recvCapture {
	t.Helper()
	return &recvCapture{labtest.StartCapture(t, l, vm.Name, "ip and dst host "+vm.IP.Addr().String())}
}

// sgTestGroup creates a security group in project, deleted at the end of
// the test; bare groups lose the two egress rules every new group gets.
func sgTestGroup(t *testing.T, ctx context.Context, c *client.Client, project, name string, bare bool) api.SecurityGroup {
	t.Helper()
	g, err := c.CreateSecurityGroup(ctx, client.SecurityGroupCreate{Name: name, ProjectID: project})
	require.NoError(t, err)
	t.Cleanup(func() { deleteQuietly(t, "security group "+g.ID, c.DeleteSecurityGroup(context.Background(), g.ID)) })
	if bare {
		rules, err := c.ListSecurityGroupRules(ctx, url.Values{"security_group_id": {g.ID}})
		require.NoError(t, err)
		require.Len(t, rules, 2, "a new group's egress rules")
		for _, r := range rules {
			require.NoError(t, c.DeleteSecurityGroupRule(ctx, r.ID))
		}
	}
	return g
}

// sgRule adds a rule; port 0 means any port.
func sgRule(t *testing.T, ctx context.Context, c *client.Client, g api.SecurityGroup, dir, proto string, port int, prefix, remoteGroup string) api.SecurityGroupRule {
	t.Helper()
	req := client.SecurityGroupRuleCreate{SecurityGroupID: g.ID, Direction: dir, Ethertype: api.EtherTypeIPv4,
		Protocol: proto, RemoteIPPrefix: prefix, RemoteGroupID: remoteGroup}
	if port != 0 {
		req.PortRangeMin, req.PortRangeMax = &port, &port
	}
	r, err := c.CreateSecurityGroupRule(ctx, req)
	require.NoError(t, err)
	return r
}

// joinGroups puts a VM's port in exactly the given groups; it leaves them
// when the test ends (before the groups are deleted: cleanups run
// last-registered-first).
func joinGroups(t *testing.T, ctx context.Context, c *client.Client, vm *lab.VM, groups ...api.SecurityGroup) {
	t.Helper()
	ids := []string{}
	for _, g := range groups {
		ids = append(ids, g.ID)
	}
	_, err := c.UpdatePort(ctx, vm.PortID, client.PortUpdate{SecurityGroups: &ids})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = c.UpdatePort(context.Background(), vm.PortID, client.PortUpdate{SecurityGroups: &[]string{}})
	})
}

// eventually polls cond for up to 10 s (the agents apply rule changes).
func eventually(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		require.Less(t, time.Since(start), 10*time.Second, "%s: not within 10s", what)
		time.Sleep(200 * time.Millisecond)
	}
	return time.Since(start)
}

// unfiltered turns port security off on the VMs' ports (and with it their
// security groups), for tests of what other VMs send: a receiver's
// security groups would otherwise drop it too.
func unfiltered(t *testing.T, ctx context.Context, vms ...*lab.VM) {
	t.Helper()
	off, none := false, []string{}
	for _, vm := range vms {
		_, err := adminClient(t).UpdatePort(ctx, vm.PortID, client.PortUpdate{PortSecurityEnabled: &off, SecurityGroups: &none})
		require.NoError(t, err)
	}
	// Wait until the hosts apply it: the port's table-0 flow goes straight
	// to 60 (trusted) instead of the anti-spoofing tables.
	for _, vm := range vms {
		hi, err := sharedLab(t).ParseHost(vm.Host)
		require.NoError(t, err)
		ofport := vsctlGet(t, ctx, hi, "Interface", vm.Tap, "ofport")
		require.Eventually(t, func() bool {
			out, err := sharedLab(t).HostExec(ctx, hi, "ovs-ofctl", "dump-flows", "br-int", "table=0,in_port="+ofport)
			return err == nil && strings.Contains(string(out), "resubmit(,60)") && !strings.Contains(string(out), "resubmit(,25)")
		}, 20*time.Second, 100*time.Millisecond, "%s: port security off applied on %s", vm.Name, vm.Host)
	}
}

// admitPings adds an ingress ICMP rule from cidr to the default group of
// c's project, deleted when the test ends.
func admitPings(t *testing.T, ctx context.Context, c *client.Client, cidr string) {
	t.Helper()
	groups, err := c.ListSecurityGroups(ctx, map[string][]string{"name": {"default"}})
	require.NoError(t, err)
	require.Len(t, groups, 1)
	r, err := c.CreateSecurityGroupRule(ctx, client.SecurityGroupRuleCreate{SecurityGroupID: groups[0].ID,
		Direction: api.DirectionIngress, Protocol: "icmp", RemoteIPPrefix: cidr})
	require.NoError(t, err)
	t.Cleanup(func() { deleteQuietly(t, "rule "+r.ID, c.DeleteSecurityGroupRule(context.Background(), r.ID)) })
}

// iperfResult is the part of iperf3 --json output the tests read.
type iperfResult struct {
	Intervals []struct {
		Sum struct {
			Start, End    float64
			Bytes         int64
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum"`
	} `json:"intervals"`
	End struct {
		SumReceived struct {
			Bytes         int64
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
	Error string `json:"error"`
}

// iperfStream is a TCP transfer (iperf3, 0.5 s intervals) from one VM to
// another, running in the background.
type iperfStream struct {
	cmd     *exec.Cmd
	out     labtest.Buffer
	seconds int
}

// startIperf starts an iperf3 server in to, waits until from reaches it
// (the security groups applied) and starts a transfer of seconds from
// from. Both end with the test.
func startIperf(t *testing.T, ctx context.Context, l *lab.Lab, from, to *lab.VM, seconds int) *iperfStream {
	t.Helper()
	toIP := to.IP.Addr().String()
	scmd, err := l.Command(context.Background(), to.Name, "iperf3", "-s", "-B", toIP)
	require.NoError(t, err)
	require.NoError(t, scmd.Start())
	t.Cleanup(func() { _ = scmd.Process.Kill(); _ = scmd.Wait() })
	eventually(t, from.Name+" reaches iperf3 on "+to.Name, func() bool {
		_, err := l.Exec(ctx, from.Name, "/usr/bin/python3", "-c", "import socket,sys; socket.create_connection((sys.argv[1], 5201), timeout=0.5)", toIP)
		return err == nil
	})
	time.Sleep(200 * time.Millisecond) // iperf3 serves one test at a time: let it see the probe's close

	s := &iperfStream{seconds: seconds}
	s.cmd, err = l.Command(ctx, from.Name, "iperf3", "-c", toIP, "-t", fmt.Sprint(seconds), "-i", "0.5", "--json", "--connect-timeout", "2000")
	require.NoError(t, err)
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	require.NoError(t, s.cmd.Start())
	t.Cleanup(func() { _ = s.cmd.Process.Kill() })
	return s
}

// wait waits for the transfer to end; the error is iperf3's.
func (s *iperfStream) wait() error { return s.cmd.Wait() }

// requireSteady requires that the ended transfer ran its full time and
// moved data in every interval; it returns the average and the slowest
// interval's rate in Mbit/s.
func (s *iperfStream) requireSteady(t *testing.T) (avg, slowest float64) {
	t.Helper()
	out := s.out.String()
	var res iperfResult
	require.NoError(t, json.Unmarshal([]byte(out), &res), "iperf3 output: %s", out)
	require.Empty(t, res.Error)
	require.GreaterOrEqual(t, len(res.Intervals), 2*s.seconds-1, "iperf3 ran its full time")
	slowest = -1
	for _, iv := range res.Intervals {
		require.Greater(t, iv.Sum.Bytes, int64(0), "no data moved in %.1f-%.1f s: %s", iv.Sum.Start, iv.Sum.End, out)
		if slowest < 0 || iv.Sum.BitsPerSecond < slowest {
			slowest = iv.Sum.BitsPerSecond
		}
	}
	return res.End.SumReceived.BitsPerSecond / 1e6, slowest / 1e6
}
