package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// cmdTimeout bounds one tool invocation when the caller's context has no
// earlier deadline.
const cmdTimeout = 15 * time.Second

// env is the environment under which every OVS tool finds this instance's
// sockets, database and logs.
func (o *OVS) env() []string {
	return append(os.Environ(),
		"OVS_RUNDIR="+o.cfg.Dir,
		"OVS_DBDIR="+o.cfg.Dir,
		"OVS_LOGDIR="+o.cfg.Dir,
	)
}

// Command returns an exec.Cmd for an OVS tool with this instance's
// environment; inNetNS wraps it in `ip netns exec NS`. Tools that talk over
// unix sockets (vsctl, ofctl, appctl) work from any namespace.
func (o *OVS) Command(ctx context.Context, inNetNS bool, args ...string) *exec.Cmd {
	if inNetNS && o.cfg.NetNS != "" {
		args = append([]string{"ip", "netns", "exec", o.cfg.NetNS}, args...)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = o.env()
	// A detached daemon must not keep our pipes open; bound the wait anyway.
	cmd.WaitDelay = time.Second
	return cmd
}

// run executes a tool and returns its stdout; errors carry stderr.
func (o *OVS) run(ctx context.Context, inNetNS bool, args ...string) (string, error) {
	return o.runInput(ctx, inNetNS, nil, args...)
}

func (o *OVS) runInput(ctx context.Context, inNetNS bool, stdin []byte, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	cmd := o.Command(ctx, inNetNS, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Vsctl runs ovs-vsctl against this instance's database and returns its
// stdout. Writes wait for ovs-vswitchd to apply them unless args contain
// --no-wait.
func (o *OVS) Vsctl(ctx context.Context, args ...string) (string, error) {
	full := append([]string{"ovs-vsctl", "--db=" + o.DBSock(), "--timeout=10"}, args...)
	return o.run(ctx, false, full...)
}

// Ofctl runs ovs-ofctl; bridge names resolve to DIR/BR.mgmt.
func (o *OVS) Ofctl(ctx context.Context, args ...string) (string, error) {
	return o.run(ctx, false, append([]string{"ovs-ofctl"}, args...)...)
}

// OfctlInput runs ovs-ofctl with stdin (for `--bundle add-flows BR -`).
func (o *OVS) OfctlInput(ctx context.Context, stdin []byte, args ...string) (string, error) {
	return o.runInput(ctx, false, stdin, append([]string{"ovs-ofctl"}, args...)...)
}

// Appctl runs `ovs-appctl -t TARGET ARGS...`; target is a daemon name
// ("ovs-vswitchd", "ovsdb-server") resolved through OVS_RUNDIR, or a path
// to a control socket.
func (o *OVS) Appctl(ctx context.Context, target string, args ...string) (string, error) {
	full := append([]string{"ovs-appctl", "--timeout=10", "-t", target}, args...)
	return o.run(ctx, false, full...)
}
