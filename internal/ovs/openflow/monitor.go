package openflow

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// Monitor holds one OpenFlow connection to bridge (`ovs-ofctl monitor`)
// and returns when it ends: ovs-vswitchd exited or restarted (its flows
// are then gone), the bridge was deleted, the connection could not be made,
// or ctx ended. It is a restart signal that costs nothing while nothing
// happens, unlike polling the flow table. Async messages are discarded.
func (o Ofctl) Monitor(ctx context.Context, bridge string) error {
	args := []string{"monitor", o.target(bridge)}
	if o.Run != nil {
		_, err := o.run(ctx, nil, args...)
		return monitorErr(ctx, err)
	}
	cmd := exec.CommandContext(ctx, "ovs-ofctl", append([]string{"-O", Protocol}, args...)...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("ovs-ofctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return monitorErr(ctx, err)
}

func monitorErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil {
		return fmt.Errorf("%w: monitor connection closed", ErrOfctl)
	}
	return fmt.Errorf("%w: %w", ErrOfctl, err)
}
