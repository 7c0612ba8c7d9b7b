package dhcp

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// dnsmasq runs detached from the agent (it daemonizes, in its own session)
// so it outlives an agent restart: a new agent finds it by its pid file and
// adopts it when its command line is the one it would start.

// ensureDnsmasq makes n's dnsmasq run with the right command line: adopt
// or keep a matching one (SIGHUP if its files changed), else start one
// (stopping one with an outdated command line first).
func (s *Server) ensureDnsmasq(n Network, filesChanged bool) error {
	pid, match := s.running(n)
	if pid > 0 && match {
		if filesChanged {
			start := time.Now()
			if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
				return fmt.Errorf("dhcp: reload dnsmasq %d: %w", pid, err)
			}
			s.log.Debug("reloaded dnsmasq", "network", n.ID, "pid", pid, "duration_s", time.Since(start).Seconds())
		}
		return nil
	}
	if pid > 0 {
		s.log.Info("dnsmasq command line changed, restarting it", "network", n.ID, "pid", pid)
		if err := s.stopDnsmasq(n.ID); err != nil {
			return err
		}
	}
	return s.startDnsmasq(n)
}

// running returns the pid of n's dnsmasq (0 if none runs) and whether its
// command line is the desired one.
func (s *Server) running(n Network) (pid int, match bool) {
	pid = s.pid(n.ID)
	if pid == 0 {
		return 0, false
	}
	return pid, slices.Equal(cmdline(pid), s.argv(n))
}

// pid returns the live dnsmasq of network id per its pid file, 0 if none.
// A recycled pid (a process not naming our pid file) does not count.
func (s *Server) pid(id string) int {
	pf := filepath.Join(s.netDir(id), pidFile)
	b, err := os.ReadFile(pf)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || !alive(pid) || !slices.Contains(cmdline(pid), "--pid-file="+pf) {
		return 0
	}
	return pid
}

func (s *Server) argv(n Network) []string {
	return argv(s.cfg.Dnsmasq, s.netDir(n.ID), nicName(n.Port.ID), n, s.cfg.LeaseDuration)
}

// startDnsmasq starts n's dnsmasq in its namespace and waits for its pid file.
func (s *Server) startDnsmasq(n Network) error {
	dir := s.netDir(n.ID)
	pf := filepath.Join(dir, pidFile)
	_ = os.Remove(pf)
	out, err := os.OpenFile(filepath.Join(dir, "dnsmasq.out"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("dhcp: %w", err)
	}
	defer out.Close()
	args := append([]string{"--net=" + s.nsPath(n.ID), "--"}, s.argv(n)...)
	cmd := exec.Command("nsenter", args...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = out, out, "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// dnsmasq forks into the background once it has bound its sockets;
	// the foreground process exits non-zero if it could not.
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		return fmt.Errorf("dhcp: start dnsmasq for %s: %w: %s", n.ID, err, strings.TrimSpace(string(b)))
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if pid := s.pid(n.ID); pid > 0 {
			s.log.Info("started dnsmasq", "network", n.ID, "pid", pid, "hosts", len(n.Hosts))
			return nil
		}
	}
	return fmt.Errorf("dhcp: dnsmasq for %s wrote no pid file %s", n.ID, pf)
}

// stopDnsmasq stops network id's dnsmasq (SIGTERM, then SIGKILL).
func (s *Server) stopDnsmasq(id string) error {
	pid := s.pid(id)
	if pid == 0 {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if !alive(pid) {
			return nil
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if !alive(pid) {
			return nil
		}
	}
	return fmt.Errorf("dhcp: dnsmasq %d of network %s survived SIGKILL", pid, id)
}

// alive reports whether pid runs and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z' && b[i+2] != 'X'
	}
	return true
}

func cmdline(pid int) []string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

// releaseStale releases the leases of addresses the network no longer
// gives that MAC (a deleted port, an address moved to another port), as
// Neutron does with dnsmasq-utils' dhcp_release: dnsmasq keeps a lease
// until it expires and would not hand its address to the new port.
func (s *Server) releaseStale(n Network) error {
	b, err := os.ReadFile(filepath.Join(s.netDir(n.ID), leasesFile))
	if err != nil {
		return nil // no lease yet
	}
	want := map[string]bool{}
	for _, h := range n.Hosts {
		want[h.MAC+" "+h.IP.String()] = true
	}
	var errs []error
	for _, line := range strings.Split(string(b), "\n") {
		// expiry MAC IP hostname client-id
		f := strings.Fields(line)
		if len(f) < 5 || want[strings.ToLower(f[1])+" "+f[2]] {
			continue
		}
		args := []string{"--net=" + s.nsPath(n.ID), "--", "dhcp_release", nicName(n.Port.ID), f[2], f[1]}
		if f[4] != "*" {
			args = append(args, f[4])
		}
		if out, err := exec.Command("nsenter", args...).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("dhcp: release %s of %s: %w: %s", f[2], f[1], err, out))
			continue
		}
		s.log.Debug("released stale lease", "network", n.ID, "ip", f[2], "mac", f[1])
	}
	return errors.Join(errs...)
}
