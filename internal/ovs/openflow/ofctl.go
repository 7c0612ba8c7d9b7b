package openflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors.
var (
	ErrBundle  = errors.New("openflow: bundle rejected")
	ErrOfctl   = errors.New("openflow: ovs-ofctl failed")
	ErrBadFlow = errors.New("openflow: bad flow")
)

// Protocol is the OpenFlow version used for every ovs-ofctl call; bundles
// need 1.4 or later, and the bridge must allow it (OVS allows 1.0-1.5 when
// Bridge.protocols is empty).
const Protocol = "OpenFlow15"

// RunFunc runs ovs-ofctl with args and optional stdin and returns stdout.
// daemon.OVS.OfctlInput has this shape (and sets OVS_RUNDIR).
type RunFunc func(ctx context.Context, stdin []byte, args ...string) (string, error)

// Ofctl runs ovs-ofctl against one Open vSwitch instance. The zero value
// runs ovs-ofctl from PATH with the process environment and uses bridge
// names as targets.
type Ofctl struct {
	// Target maps a bridge name to an ovs-ofctl target, e.g.
	// "unix:/tmp/x/br-int.mgmt" (daemon.OVS.BridgeTarget); nil = the name.
	Target func(bridge string) string
	// Run executes ovs-ofctl; nil = exec from PATH.
	Run RunFunc
}

func (o Ofctl) target(bridge string) string {
	if o.Target == nil {
		return bridge
	}
	return o.Target(bridge)
}

func (o Ofctl) run(ctx context.Context, stdin []byte, args ...string) (string, error) {
	args = append([]string{"-O", Protocol}, args...)
	if o.Run != nil {
		return o.Run(ctx, stdin, args...)
	}
	return execOfctl(ctx, stdin, args...)
}

func execOfctl(ctx context.Context, stdin []byte, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ovs-ofctl", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("ovs-ofctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Bundle applies flow-mod lines ("add ...", "delete_strict ...",
// "delete ...") to bridge as one atomic bundle: either all apply or none,
// and a rejection is reported (ErrBundle) before Bundle returns.
func (o Ofctl) Bundle(ctx context.Context, bridge string, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	// One buffer, written once: a full bundle of a 333-port host is a few
	// MB of text, which joining and converting would copy twice more.
	n := 0
	for _, l := range lines {
		n += len(l) + 1
	}
	stdin := make([]byte, 0, n)
	for _, l := range lines {
		stdin = append(append(stdin, l...), '\n')
	}
	if _, err := o.run(ctx, stdin, "--bundle", "add-flows", o.target(bridge), "-"); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBundle, bridge, err)
	}
	return nil
}

// DumpFlows returns bridge's flows (ovs-ofctl dump-flows lines, with
// statistics) matching filter ("" = all; e.g. "table=0" or
// "cookie=0x1/0xffff000000000000").
func (o Ofctl) DumpFlows(ctx context.Context, bridge, filter string) ([]string, error) {
	args := []string{"dump-flows", o.target(bridge)}
	if filter != "" {
		args = append(args, filter)
	}
	out, err := o.run(ctx, nil, args...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOfctl, err)
	}
	var flows []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "cookie=") {
			flows = append(flows, l)
		}
	}
	return flows, nil
}

// CountFlows returns how many flows of bridge carry cookie under mask.
func (o Ofctl) CountFlows(ctx context.Context, bridge string, cookie, mask uint64) (int, error) {
	flows, err := o.DumpFlows(ctx, bridge, fmt.Sprintf("cookie=%#x/%#x", cookie, mask))
	return len(flows), err
}

// FlowCookie extracts the cookie of a dump-flows line.
func FlowCookie(line string) (uint64, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cookie=")
	if !ok {
		return 0, false
	}
	v, _, _ := strings.Cut(rest, ",")
	c, err := strconv.ParseUint(v, 0, 64)
	return c, err == nil
}
