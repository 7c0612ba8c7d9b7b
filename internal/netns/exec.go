package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

// Command returns a command that runs argv inside the named namespace. It
// goes through `ip netns exec`, which also gives the child a /sys and
// /etc/netns view that match the namespace, as tools like ethtool expect.
// An absolute name is a namespace file outside /run/netns (see CreateAt).
func Command(ctx context.Context, name string, argv ...string) *exec.Cmd {
	if filepath.IsAbs(name) {
		return CommandAt(ctx, name, argv...)
	}
	args := append([]string{"netns", "exec", name}, argv...)
	return exec.CommandContext(ctx, "ip", args...)
}

// Run runs argv inside the named namespace and returns its combined output.
// A failure's error includes the output, which is where the reason is.
func Run(ctx context.Context, name string, argv ...string) ([]byte, error) {
	out, err := Command(ctx, name, argv...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("netns: %s: %v: %w: %s", name, argv, err, out)
	}
	return out, nil
}

// Pids returns the processes whose network namespace is the named one. The
// namespace has to be empty of processes before Delete really frees it.
func Pids(name string) ([]int, error) {
	want, err := inode(filepath.Join(Dir, name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
		}
		return nil, fmt.Errorf("netns: %w", err)
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("netns: read /proc: %w", err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		got, err := inode(filepath.Join("/proc", e.Name(), "ns", "net"))
		if err == nil && got == want {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// inode identifies a namespace file (a bind mount or /proc/PID/ns/net) by
// device and inode, which is how the kernel names a namespace.
func inode(path string) ([2]uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return [2]uint64{}, err
	}
	return [2]uint64{st.Dev, st.Ino}, nil
}
