package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/ovs/daemon"
)

// Down stops the lab's agents, server and Open vSwitch daemons gracefully,
// then removes everything else it made (see Cleanup).
func (l *Lab) Down(ctx context.Context) error {
	var errs []error
	l.progress("lab %s: stopping agents", l.st.Name)
	errs = append(errs, l.stopAllAgents())
	l.progress("lab %s: stopping server", l.st.Name)
	errs = append(errs, stopPidfile(serverPidfile(l.st.Dir), l.st.Dir, serverGrace))
	for i, h := range l.st.Hosts {
		// Stop deletes the netdev datapath's taps; Cleanup would only kill.
		if o, err := daemon.Attach(h.Dir, h.NetNS); err == nil {
			errs = append(errs, o.Stop())
		}
		delete(l.ovs, i+1)
	}
	l.progress("lab %s: removing namespaces and %s", l.st.Name, l.st.Dir)
	errs = append(errs, Cleanup(ctx, l.st.Name, l.st.Dir))
	return errors.Join(errs...)
}

// stopAllAgents SIGTERMs every agent at once and waits for all of them.
func (l *Lab) stopAllAgents() error {
	var pids []int
	for _, h := range l.st.Hosts {
		if pid := readPid(agentPidfile(h)); alive(pid) && mentions(cmdline(pid), l.st.Dir) {
			pids = append(pids, pid)
		}
	}
	return terminate(pids, agentGrace)
}

// Cleanup removes whatever a lab called name with directory dir ("" = the
// default) left behind, with or without its state: every process whose
// command line mentions dir (server, agents, OVS daemons), every process in
// the lab's namespaces, the namespaces NAME-fab, NAME-ext, NAME-hN[-*] and NAME-vm-* (and
// with them every link of the lab), and dir itself. It is what `vland lab
// down` falls back on after a crash, and is safe to run repeatedly.
func Cleanup(ctx context.Context, name, dir string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if dir == "" {
		dir = DirFor(name)
	}
	dir = filepath.Clean(dir)
	var errs []error
	if pids := pidsMentioning(dir); len(pids) > 0 {
		errs = append(errs, terminate(pids, 3*time.Second))
	}
	nss, err := labNamespaces(name)
	errs = append(errs, err)
	for _, ns := range nss {
		if pids, err := netns.Pids(ns); err == nil && len(pids) > 0 {
			errs = append(errs, terminate(pids, time.Second))
		}
	}
	// Host namespaces last: VM veths end there, and the fabric bridge goes
	// with its namespace either way.
	slices.SortFunc(nss, func(a, b string) int { return strings.Compare(b, a) })
	for _, ns := range nss {
		errs = append(errs, netns.Delete(ns))
	}
	errs = append(errs, cleanupServices(name, dir)...)
	errs = append(errs, removeLabDir(dir))
	return errors.Join(errs...)
}

// removeLabDir removes dir if a lab made it (it holds the marker file);
// anything else is left alone, so a mistyped --dir cannot wipe a directory.
func removeLabDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, markerFile)); err != nil {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("lab: not removing %s: no %s marker in it", dir, markerFile)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("lab: remove %s: %w", dir, err)
	}
	return nil
}

// hostNSRE matches a host namespace, and namespaces named after one
// (LAB-hN-...), which is where per-host namespaces such as a host's qdhcp-
// and qrouter- ones belong.
var hostNSRE = regexp.MustCompile(`^h[0-9]+(-.+)?$`)

// isLabNamespace reports whether ns is one of the namespaces of lab name.
func isLabNamespace(name, ns string) bool {
	rest, ok := strings.CutPrefix(ns, name+"-")
	if !ok {
		return false
	}
	return rest == "fab" || rest == "ext" || hostNSRE.MatchString(rest) || strings.HasPrefix(rest, "vm-")
}
