package netns

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Namespaces in another directory than Dir: a host agent keeps its qdhcp-
// namespaces in a directory of its own (--netns-dir), which is /run/netns
// on a real host, so `ip netns` shows them, and a per-host directory in the
// lab, so each lab host sees its own (see internal/lab).

// CreateAt makes a namespace bound at dir/name (like `ip netns add`, but
// in dir) and returns its path. An existing one is kept.
func CreateAt(dir, name string) (string, error) {
	if err := validName(name); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	if isNSFile(path) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("netns: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o444)
	if err != nil {
		return "", fmt.Errorf("netns: %w", err)
	}
	f.Close()
	// A fresh thread-private namespace, bind-mounted onto the file; the
	// thread is then retired (never unlocked), so no goroutine runs in it.
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("netns: unshare: %w", err)
			return
		}
		src := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if err := unix.Mount(src, path, "none", unix.MS_BIND, ""); err != nil {
			errc <- fmt.Errorf("netns: bind %s: %w", path, err)
			return
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		_ = os.Remove(path)
		return "", err
	}
	if err := setLoopbackUp(path); err != nil {
		return "", err
	}
	return path, nil
}

// DeleteAt removes the namespace bound at dir/name; a missing one is not an
// error. Its links go once no process runs in it.
func DeleteAt(dir, name string) error {
	if err := validName(name); err != nil {
		return err
	}
	path := filepath.Join(dir, name)
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("netns: unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("netns: %w", err)
	}
	return nil
}

// ListAt lists the namespaces bound in dir whose name starts with prefix, sorted.
func ListAt(dir, prefix string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netns: list %s: %w", dir, err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// UnmountAll unmounts every namespace bound in dir (a lab host's netns
// directory, before the lab directory is removed).
func UnmountAll(dir string) {
	names, _ := ListAt(dir, "")
	for _, n := range names {
		_ = unix.Unmount(filepath.Join(dir, n), unix.MNT_DETACH)
	}
}

// CommandAt returns a command running argv in the namespace file at path
// (nsenter: `ip netns exec` only knows /run/netns).
func CommandAt(ctx context.Context, path string, argv ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "nsenter", append([]string{"--net=" + path, "--"}, argv...)...)
}

// isNSFile reports whether path is a bound namespace (an nsfs mount).
func isNSFile(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.NSFS_MAGIC
}
