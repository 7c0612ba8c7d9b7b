package e2e_test

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// hostExec runs a command in host i's namespace (with its OVS_RUNDIR) and
// fails the test if it fails.
func hostExec(t *testing.T, ctx context.Context, i int, argv ...string) string {
	t.Helper()
	out, err := sharedLab(t).HostExec(ctx, i, argv...)
	require.NoError(t, err, "host%d: %s: %s", i, strings.Join(argv, " "), out)
	return strings.TrimSpace(string(out))
}

// vsctlGet reads one column (or map key, "options:remote_ip") of a record.
func vsctlGet(t *testing.T, ctx context.Context, host int, table, record, column string) string {
	t.Helper()
	return strings.Trim(hostExec(t, ctx, host, "ovs-vsctl", "get", table, record, column), `"`)
}

// portTag is the local VLAN tag of a br-int port.
func portTag(t *testing.T, ctx context.Context, host int, port string) int {
	t.Helper()
	s := vsctlGet(t, ctx, host, "Port", port, "tag")
	tag, err := strconv.Atoi(s)
	require.NoError(t, err, "tag of %s on host%d is %q", port, host, s)
	return tag
}

// underlayIP is host i's tunnel endpoint address.
func underlayIP(t *testing.T, i int) netip.Addr {
	t.Helper()
	h, err := sharedLab(t).HostInfo(i)
	require.NoError(t, err)
	return h.UnderlayIP.Addr()
}

// tunnelPortName is Neutron's name of the tunnel port towards remote, or
// the type's one port with flow-based tunnels.
func tunnelPortName(tunType string, remote netip.Addr) string {
	if flowTunnels() {
		return tunType + "-flow"
	}
	b := remote.As4()
	return fmt.Sprintf("%s-%02x%02x%02x%02x", tunType, b[0], b[1], b[2], b[3])
}

// tunnelRemote is a tunnel port's options:remote_ip towards remote.
func tunnelRemote(remote netip.Addr) string {
	if flowTunnels() {
		return "flow"
	}
	return remote.String()
}

// tunDstText is how a dumped flow sends to remote over a flow-based port
// ("" with per-peer ports, whose remote is the port's).
func tunDstText(remote netip.Addr) string {
	if !flowTunnels() {
		return ""
	}
	b := remote.As4()
	return fmt.Sprintf("load:%#x->NXM_NX_TUN_IPV4_DST[]", uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))
}

// flow is one line of `ovs-ofctl dump-flows --no-stats`, split into its
// cookie, table and the rest (match and actions).
type flow struct {
	Cookie uint64
	Table  int
	Rest   string
}

var flowRE = regexp.MustCompile(`^\s*cookie=(0x[0-9a-f]+),\s*(?:table=(\d+),\s*)?(.*)$`)

// dumpFlows reads a bridge's flows without statistics.
func dumpFlows(t *testing.T, ctx context.Context, host int, bridge string, filter ...string) []flow {
	t.Helper()
	argv := append([]string{"ovs-ofctl", "dump-flows", "--no-stats", bridge}, filter...)
	out := hostExec(t, ctx, host, argv...)
	var fs []flow
	for _, line := range strings.Split(out, "\n") {
		m := flowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		c, err := strconv.ParseUint(m[1], 0, 64)
		require.NoError(t, err, line)
		table := 0
		if m[2] != "" {
			table, _ = strconv.Atoi(m[2])
		}
		fs = append(fs, flow{Cookie: c, Table: table, Rest: m[3]})
	}
	return fs
}

// Cookie layout (docs/pipeline.md): component (16 bits) | round (16) |
// owner (32). vland's own flows have component "vl", learned ones "vm".
const (
	vlandComponent   = 0x766c
	learnedComponent = 0x766d
)

func cookieComponent(c uint64) uint16 { return uint16(c >> 48) }
func cookieRound(c uint64) uint16     { return uint16(c >> 32) }

// flowSet is a bridge's vland flows with the round bits cleared, sorted,
// one per line: what must survive an agent restart unchanged. Learned flows
// come and go with traffic and are left out.
func flowSet(fs []flow) []string {
	var out []string
	for _, f := range fs {
		if cookieComponent(f.Cookie) == learnedComponent {
			continue
		}
		c := f.Cookie &^ (0xffff << 32)
		out = append(out, fmt.Sprintf("cookie=%#x,table=%d,%s", c, f.Table, f.Rest))
	}
	slices.Sort(out)
	return out
}

// rounds lists the distinct rounds of a bridge's vland (not learned) flows.
func rounds(fs []flow) []uint16 {
	var out []uint16
	for _, f := range fs {
		if cookieComponent(f.Cookie) == vlandComponent && !slices.Contains(out, cookieRound(f.Cookie)) {
			out = append(out, cookieRound(f.Cookie))
		}
	}
	slices.Sort(out)
	return out
}

// withText returns the flows of table whose match/actions contain every part.
func withText(fs []flow, table int, parts ...string) []flow {
	var out []flow
	for _, f := range fs {
		if f.Table != table {
			continue
		}
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(f.Rest, p)
		}
		if ok {
			out = append(out, f)
		}
	}
	return out
}

func flowLines(fs []flow) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "cookie=%#x, table=%d, %s\n", f.Cookie, f.Table, f.Rest)
	}
	return b.String()
}
