// Package netns manages named network namespaces (the ones `ip netns`
// shows, bind-mounted under /run/netns): create, delete, list, run Go code
// inside one, run a command inside one, and find the processes living in one.
//
// Switching namespaces is per OS thread, so every function that enters a
// namespace locks its goroutine to the thread and switches back before
// unlocking. If switching back fails the thread is left locked, which makes
// the Go runtime retire it instead of reusing it in the wrong namespace.
package netns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Dir is where named namespaces are bind-mounted, as `ip netns` expects.
const Dir = "/run/netns"

// ErrNotFound is returned when a named namespace does not exist.
var ErrNotFound = errors.New("netns: namespace not found")

// Create makes the named namespace. It is idempotent: an existing namespace
// of that name is kept. The loopback device of a new namespace is brought up
// so that local services (127.0.0.1) work inside it.
func Create(name string) error {
	if err := validName(name); err != nil {
		return err
	}
	if Exists(name) {
		return nil
	}
	runtime.LockOSThread()
	origin, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: current namespace: %w", err)
	}
	defer origin.Close()
	h, err := netns.NewNamed(name)
	if err != nil {
		// NewNamed may have unshared the thread before failing.
		restore(origin)
		return fmt.Errorf("netns: create %s: %w", name, err)
	}
	h.Close()
	if err := restore(origin); err != nil {
		return err
	}
	return setLoopbackUp(name)
}

// restore switches the locked thread back to origin and unlocks it only if
// that worked.
func restore(origin netns.NsHandle) error {
	if err := netns.Set(origin); err != nil {
		return fmt.Errorf("netns: switch back to origin: %w", err)
	}
	runtime.UnlockOSThread()
	return nil
}

// Delete removes the named namespace. A missing namespace is not an error.
// Links living in the namespace disappear with it (veth peers elsewhere too)
// once no process runs inside it any more.
func Delete(name string) error {
	if err := validName(name); err != nil {
		return err
	}
	if !Exists(name) {
		return nil
	}
	if err := netns.DeleteNamed(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("netns: delete %s: %w", name, err)
	}
	return nil
}

// Exists reports whether the named namespace exists.
func Exists(name string) bool {
	_, err := os.Stat(filepath.Join(Dir, name))
	return err == nil
}

// List returns the names of all named namespaces, sorted.
func List() ([]string, error) {
	ents, err := os.ReadDir(Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netns: list: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

// Handle opens the named namespace, or the namespace file at name if it is
// an absolute path (see CreateAt). The caller closes the handle.
func Handle(name string) (netns.NsHandle, error) {
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(Dir, name)
	}
	h, err := netns.GetFromPath(path)
	if errors.Is(err, fs.ErrNotExist) {
		return h, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return h, fmt.Errorf("netns: open %s: %w", name, err)
	}
	return h, nil
}

// Do runs fn on a thread switched into the named namespace and switches
// back afterwards. fn must not start goroutines that expect to inherit the
// namespace: only the calling thread is switched.
func Do(name string, fn func() error) error {
	target, err := Handle(name)
	if err != nil {
		return err
	}
	defer target.Close()
	runtime.LockOSThread()
	origin, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: current namespace: %w", err)
	}
	defer origin.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: enter %s: %w", name, err)
	}
	fnErr := fn()
	if err := restore(origin); err != nil {
		return errors.Join(fnErr, err)
	}
	return fnErr
}

// validName rejects names `ip netns` would refuse or that would escape Dir.
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("netns: invalid namespace name %q", name)
	}
	return nil
}

// setLoopbackUp brings lo up in the named namespace through a netlink socket
// opened in it, without switching the thread.
func setLoopbackUp(name string) error {
	h, err := Handle(name)
	if err != nil {
		return err
	}
	defer h.Close()
	nl, err := netlink.NewHandleAt(h)
	if err != nil {
		return fmt.Errorf("netns: netlink in %s: %w", name, err)
	}
	defer nl.Close()
	lo, err := nl.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("netns: lo in %s: %w", name, err)
	}
	if err := nl.LinkSetUp(lo); err != nil {
		return fmt.Errorf("netns: lo up in %s: %w", name, err)
	}
	return nil
}
