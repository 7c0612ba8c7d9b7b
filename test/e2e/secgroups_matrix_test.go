package e2e_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/lab"
)

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
	start := time.Now()
	project, vms := sgNetwork(t, ctx, "sg-matrix", "sgm-net", "10.42.0.0/24",
		vmSpec{Name: "sgm-o1", Host: 1, IP: "10.42.0.20"},
		vmSpec{Name: "sgm-o2", Host: 2, IP: "10.42.0.21"},
		vmSpec{Name: "sgm-i1", Host: 1, IP: "10.42.0.40"},
		vmSpec{Name: "sgm-u1", Host: 1, IP: "10.42.0.41"},
		vmSpec{Name: "sgm-u2", Host: 2, IP: "10.42.0.42"},
		vmSpec{Name: "sgm-d1", Host: 1, IP: "10.42.0.50"},
		vmSpec{Name: "sgm-d2", Host: 2, IP: "10.42.0.51"},
		vmSpec{Name: "sgm-d3", Host: 1, IP: "10.42.0.52"})
	o1, o2, i1, u1, u2, d1, d2, d3 := vms[0], vms[1], vms[2], vms[3], vms[4], vms[5], vms[6], vms[7]

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
	t.Logf("FIGURE: security group matrix: %d probes (%d allowed, %d dropped) checked at the receivers, network and VMs to all allowed %v",
		len(cases), len(allowed), len(dropped), settled.Round(10*time.Millisecond))
}
