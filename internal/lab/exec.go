package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/vland/vland/internal/netns"
)

// Command returns a command running argv inside VM vm's namespace; the
// caller wires its stdin/stdout and runs it.
func (l *Lab) Command(ctx context.Context, vm string, argv ...string) (*exec.Cmd, error) {
	v, err := l.VM(vm)
	if err != nil {
		return nil, err
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("%w: no command", ErrBadConfig)
	}
	return netns.Command(ctx, v.NetNS, argv...), nil
}

// Exec runs argv inside VM vm and returns its combined output. A non-zero
// exit is an error (an *exec.ExitError inside) and the output is still returned.
func (l *Lab) Exec(ctx context.Context, vm string, argv ...string) ([]byte, error) {
	cmd, err := l.Command(ctx, vm, argv...)
	if err != nil {
		return nil, err
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("lab: vm %s: %v: %w", vm, argv, err)
	}
	return out, nil
}

// HostCommand returns a command running argv inside host i's namespace with
// OVS_RUNDIR (and OVS_DBDIR, OVS_LOGDIR) set to the host's OVS, so
// `ovs-vsctl show` or `ovs-ofctl dump-flows br-tun` just work.
func (l *Lab) HostCommand(ctx context.Context, i int, argv ...string) (*exec.Cmd, error) {
	h, err := l.HostInfo(i)
	if err != nil {
		return nil, err
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("%w: no command", ErrBadConfig)
	}
	cmd := netns.Command(ctx, h.NetNS, hostMountArgv(h, argv)...)
	cmd.Env = append(os.Environ(), "OVS_RUNDIR="+h.Dir, "OVS_DBDIR="+h.Dir, "OVS_LOGDIR="+h.Dir)
	return cmd, nil
}

// HostExec runs argv in host i's namespace (see HostCommand) and returns
// its combined output.
func (l *Lab) HostExec(ctx context.Context, i int, argv ...string) ([]byte, error) {
	cmd, err := l.HostCommand(ctx, i, argv...)
	if err != nil {
		return nil, err
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("lab: host%d: %v: %w", i, argv, err)
	}
	return out, nil
}
