package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
)

// probeServer answers on every "tcp:PORT" ("hi", then closes) and echoes
// every datagram on every "udp:PORT".
const probeServer = `
import socket, sys, threading
def tcp(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        c.sendall(b"hi")
        c.close()
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    while True:
        b, a = s.recvfrom(64)
        s.sendto(b, a)
for a in sys.argv[1:]:
    proto, port = a.split(":")
    threading.Thread(target=tcp if proto == "tcp" else udp, args=(int(port),), daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
`

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

// probe sends one TCP connection, UDP datagram or ICMP echo from a VM and
// reports whether the reply came back.
func sgProbe(ctx context.Context, l *lab.Lab, from, proto, ip string, port int, timeout time.Duration) bool {
	secs := fmt.Sprintf("%.2f", timeout.Seconds())
	if proto == "icmp" {
		_, err := l.Exec(ctx, from, "ping", "-c", "1", "-W", secs, "-q", ip)
		return err == nil
	}
	_, err := l.Exec(ctx, from, "/usr/bin/python3", "-c", probeClient, proto, ip, fmt.Sprint(port), secs)
	return err == nil
}

// recvCapture records what reaches a VM's NIC (tcpdump in its namespace):
// TCP SYNs, UDP datagrams and ICMP echo requests addressed to it.
type recvCapture struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (c *recvCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

var (
	capTCP  = regexp.MustCompile(`IP ([0-9.]+)\.\d+ > ([0-9.]+)\.(\d+): Flags \[S\]`)
	capUDP  = regexp.MustCompile(`IP ([0-9.]+)\.\d+ > ([0-9.]+)\.(\d+): UDP`)
	capICMP = regexp.MustCompile(`IP ([0-9.]+) > ([0-9.]+): ICMP echo request`)
)

// count returns how many packets of proto from src to dst:port arrived
// (port ignored for ICMP).
func (c *recvCapture) count(proto, src, dst string, port int) int {
	c.mu.Lock()
	text := c.out.String()
	c.mu.Unlock()
	n := 0
	switch proto {
	case "tcp", "udp":
		re := capTCP
		if proto == "udp" {
			re = capUDP
		}
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			if m[1] == src && m[2] == dst && m[3] == fmt.Sprint(port) {
				n++
			}
		}
	case "icmp":
		for _, m := range capICMP.FindAllStringSubmatch(text, -1) {
			if m[1] == src && m[2] == dst {
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
	ctx, cancel := context.WithCancel(context.Background())
	c := &recvCapture{}
	cmd, err := l.Command(ctx, vm.Name, "tcpdump", "-i", "eth0", "-nn", "-l", "-p", "ip and dst host "+vm.IP.Addr().String())
	require.NoError(t, err)
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = c, &stderr
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stderr.String(), "listening on") {
		require.True(t, time.Now().Before(deadline), "tcpdump in %s did not start: %s", vm.Name, stderr.String())
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProbeServer runs probeServer in vm on the given "tcp:P"/"udp:P"
// ports until the test ends.
func startProbeServer(t *testing.T, l *lab.Lab, vm string, ports ...string) {
	t.Helper()
	cmd, err := l.Command(context.Background(), vm, append([]string{"/usr/bin/python3", "-u", "-c", probeServer}, ports...)...)
	require.NoError(t, err)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "listening") }, 5*time.Second, 20*time.Millisecond,
		"probe server in %s: %s", vm, out.String())
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

// sgCase is one probe of the matrix.
type sgCase struct {
	from, to *lab.VM
	proto    string // tcp, udp, icmp
	port     int
	allow    bool
	why      string
}

func (c sgCase) String() string {
	where := "same host"
	if c.from.Host != c.to.Host {
		where = "across hosts"
	}
	verdict := "dropped"
	if c.allow {
		verdict = "allowed"
	}
	port := ""
	if c.port != 0 {
		port = fmt.Sprintf(" %d", c.port)
	}
	return fmt.Sprintf("%s %s->%s%s (%s): %s, %s", c.proto, c.from.Name, c.to.Name, port, where, verdict, c.why)
}

// parallel runs f for every case at once and returns the results in order.
func parallel(cases []sgCase, f func(sgCase) bool) []bool {
	out := make([]bool, len(cases))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8) // 2 cores: bounded fan-out
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = f(c)
		}()
	}
	wg.Wait()
	return out
}

// TestSecurityGroupMatrix: TCP, UDP and ICMP, ingress and egress rules,
// between VMs on the same host and on different hosts, decided at the
// receiver: an allowed probe gets its reply and its packets are captured
// in the receiving VM; a dropped one is never captured there. Groups:
//   - in (i1): ingress tcp 8001, udp 8002, icmp; no egress rule, so its
//     replies leave only as conntrack's established traffic, and it opens
//     nothing itself;
//   - out (u1, u2): egress tcp 8001, udp 8002, icmp to 10.42.0.16/28 only;
//     no ingress rule, so replies come in only as established traffic;
//   - open (o1, o2, in 10.42.0.16/28): ingress anything, egress anything;
//   - the project's default group (d1, d2, d3): its members talk, nobody
//     else gets in.
func TestSecurityGroupMatrix(t *testing.T) {
	ctx := testCtx(t, 4*time.Minute)
	l := sharedLab(t)
	c := adminClient(t)
	const projectName = "sg-matrix"
	n, _ := makeNetwork(t, ctx, netSpec{Name: "sgm-net", Project: projectName, Type: api.NetworkTypeVXLAN, CIDR: "10.42.0.0/24"})
	start := time.Now()
	vms := createVMs(t, ctx,
		vmSpec{Name: "sgm-o1", Network: n, Host: 1, IP: "10.42.0.20", Project: projectName},
		vmSpec{Name: "sgm-o2", Network: n, Host: 2, IP: "10.42.0.21", Project: projectName},
		vmSpec{Name: "sgm-i1", Network: n, Host: 1, IP: "10.42.0.40", Project: projectName},
		vmSpec{Name: "sgm-u1", Network: n, Host: 1, IP: "10.42.0.41", Project: projectName},
		vmSpec{Name: "sgm-u2", Network: n, Host: 2, IP: "10.42.0.42", Project: projectName},
		vmSpec{Name: "sgm-d1", Network: n, Host: 1, IP: "10.42.0.50", Project: projectName},
		vmSpec{Name: "sgm-d2", Network: n, Host: 2, IP: "10.42.0.51", Project: projectName},
		vmSpec{Name: "sgm-d3", Network: n, Host: 1, IP: "10.42.0.52", Project: projectName})
	o1, o2, i1, u1, u2, d1, d2, d3 := vms[0], vms[1], vms[2], vms[3], vms[4], vms[5], vms[6], vms[7]
	project, err := c.ProjectID(ctx, projectName)
	require.NoError(t, err)

	in := sgTestGroup(t, ctx, c, project, "sgm-in", true)
	sgRule(t, ctx, c, in, api.DirectionIngress, "tcp", 8001, "", "")
	sgRule(t, ctx, c, in, api.DirectionIngress, "udp", 8002, "", "")
	sgRule(t, ctx, c, in, api.DirectionIngress, "icmp", 0, "", "")
	out := sgTestGroup(t, ctx, c, project, "sgm-out", true)
	sgRule(t, ctx, c, out, "egress", "tcp", 8001, "", "")
	sgRule(t, ctx, c, out, "egress", "udp", 8002, "", "")
	sgRule(t, ctx, c, out, "egress", "icmp", 0, "10.42.0.16/28", "")
	open := sgTestGroup(t, ctx, c, project, "sgm-open", false)
	sgRule(t, ctx, c, open, api.DirectionIngress, "", 0, "", "")
	joinGroups(t, ctx, c, i1, in)
	joinGroups(t, ctx, c, u1, out)
	joinGroups(t, ctx, c, u2, out)
	joinGroups(t, ctx, c, o1, open)
	joinGroups(t, ctx, c, o2, open)
	// d1-d3 keep the default group their ports got.

	servers := []string{"tcp:8001", "tcp:8003", "udp:8002", "udp:8004"}
	captures := map[*lab.VM]*recvCapture{}
	for _, vm := range []*lab.VM{i1, u1, o1, d1} {
		startProbeServer(t, l, vm.Name, servers...)
		captures[vm] = startRecvCapture(t, l, vm)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for h := 1; h <= 2; h++ {
				out, _ := l.HostExec(context.Background(), h, "ovs-ofctl", "dump-flows", "br-int")
				t.Logf("host%d flows:\n%s", h, out)
			}
		}
	})

	var cases []sgCase
	add := func(allow bool, why string, to *lab.VM, proto string, port int, from ...*lab.VM) {
		for _, f := range from {
			cases = append(cases, sgCase{from: f, to: to, proto: proto, port: port, allow: allow, why: why})
		}
	}
	// Ingress: open senders (egress anything), i1's rules decide.
	add(true, "ingress rule", i1, "tcp", 8001, o1, o2)
	add(false, "no ingress rule for the port", i1, "tcp", 8003, o1, o2)
	add(true, "ingress rule", i1, "udp", 8002, o1, o2)
	add(false, "no ingress rule for the port", i1, "udp", 8004, o1, o2)
	add(true, "ingress rule", i1, "icmp", 0, o1, o2)
	add(false, "no ingress rule (u has none)", u1, "icmp", 0, o1, o2)
	add(false, "no ingress rule (u has none)", u1, "tcp", 8001, o1, o2)
	// Egress: open receiver (ingress anything), the senders' rules decide.
	add(true, "egress rule", o1, "tcp", 8001, u1, u2)
	add(false, "no egress rule for the port", o1, "tcp", 8003, u1, u2)
	add(true, "egress rule", o1, "udp", 8002, u1, u2)
	add(false, "no egress rule for the port", o1, "udp", 8004, u1, u2)
	add(true, "egress rule (prefix)", o1, "icmp", 0, u1, u2)
	add(false, "egress icmp rule's prefix excludes i1, which admits icmp", i1, "icmp", 0, u1, u2)
	add(false, "i1 has no egress rule: it only replies", o1, "tcp", 8001, i1)
	add(false, "i1 has no egress rule: it only replies", o1, "udp", 8002, i1)
	add(false, "i1 has no egress rule: it only replies", o1, "icmp", 0, i1)
	// The default group: members talk, others are kept out.
	for _, p := range []struct {
		proto string
		port  int
	}{{"tcp", 8001}, {"udp", 8002}, {"icmp", 0}} {
		add(true, "default group member", d1, p.proto, p.port, d3, d2)
		add(false, "not in the default group", d1, p.proto, p.port, o1, o2)
	}

	var allowed, dropped []sgCase
	for _, c := range cases {
		if c.allow {
			allowed = append(allowed, c)
		} else {
			dropped = append(dropped, c)
		}
	}
	// Allowed probes are retried until the hosts applied the groups.
	waited := parallel(allowed, func(c sgCase) bool {
		deadline := time.Now().Add(15 * time.Second)
		for !sgProbe(ctx, l, c.from.Name, c.proto, c.to.IP.Addr().String(), c.port, 500*time.Millisecond) {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(100 * time.Millisecond)
		}
		return true
	})
	for i, ok := range waited {
		require.True(t, ok, "%s: no reply within 15 s", allowed[i])
	}
	settled := time.Since(start)
	// Once every allowed probe passed, the rules are in: one try each.
	answered := parallel(cases, func(c sgCase) bool {
		return sgProbe(ctx, l, c.from.Name, c.proto, c.to.IP.Addr().String(), c.port, time.Second)
	})
	time.Sleep(300 * time.Millisecond) // let the captures catch up
	for i, c := range cases {
		got := captures[c.to].count(c.proto, c.from.IP.Addr().String(), c.to.IP.Addr().String(), c.port)
		if c.allow {
			require.True(t, answered[i], "%s: no reply", c)
			require.Greater(t, got, 0, "%s: not seen at the receiver (positive control)", c)
		} else {
			require.False(t, answered[i], "%s: answered", c)
			require.Zero(t, got, "%s: %d packets reached the receiver", c, got)
		}
	}
	t.Logf("FIGURE: security group matrix: %d probes (%d allowed, %d dropped) checked at the receivers, VMs to all allowed %v",
		len(cases), len(allowed), len(dropped), settled.Round(10*time.Millisecond))
}
