package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Daemon program names; also the base names of their pidfiles and control
// sockets in Dir.
const (
	dbServer = "ovsdb-server"
	vswitchd = "ovs-vswitchd"
)

func (o *OVS) pidFile(daemon string) string {
	return filepath.Join(o.cfg.Dir, daemon+".pid")
}

func (o *OVS) logFile(daemon string) string {
	return filepath.Join(o.cfg.Dir, daemon+".log")
}

// livePID reads a daemon's pidfile and checks that the process exists.
func (o *OVS) livePID(daemon string) (int, error) {
	b, err := os.ReadFile(o.pidFile(daemon))
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrNotRunning, daemon, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%w: %s: bad pidfile", ErrNotRunning, daemon)
	}
	if !alive(pid) {
		return 0, fmt.Errorf("%w: %s (pid %d) is gone", ErrNotRunning, daemon, pid)
	}
	return pid, nil
}

// alive reports whether pid exists and is not a zombie. Detached daemons are
// reparented to PID 1, which in a container may never reap them, so a dead
// daemon can linger as a zombie that kill(pid, 0) still finds.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// Format: "pid (comm) S ..."; comm may contain spaces, so cut at ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	state := stat[i+2]
	return state != 'Z' && state != 'X'
}

// killDaemon stops a daemon by its pidfile: SIGTERM, then SIGKILL after a
// grace period. A missing daemon is not an error.
func (o *OVS) killDaemon(daemon string) error {
	pid, err := o.livePID(daemon)
	if err != nil {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("daemon: kill %s: %w", daemon, err)
	}
	if waitGone(pid, 5*time.Second) {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if !waitGone(pid, 5*time.Second) {
		return fmt.Errorf("daemon: %s (pid %d) did not exit", daemon, pid)
	}
	_ = os.Remove(o.pidFile(daemon))
	return nil
}

func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return !alive(pid)
}

func (o *OVS) createDB(ctx context.Context) error {
	if _, err := os.Stat(o.dbPath()); err == nil {
		return nil
	}
	if _, err := o.run(ctx, false, "ovsdb-tool", "create", o.dbPath(), SchemaPath); err != nil {
		return fmt.Errorf("daemon: create db: %w", err)
	}
	return nil
}

func (o *OVS) startDBServer(ctx context.Context) error {
	args := []string{dbServer, o.dbPath(),
		"--remote=punix:" + o.dbSockPath(),
		"--pidfile=" + o.pidFile(dbServer),
		"--log-file=" + o.logFile(dbServer),
		"-vconsole:off", "--detach", "--no-chdir",
	}
	if _, err := o.run(ctx, true, args...); err != nil {
		return fmt.Errorf("daemon: start %s: %w", dbServer, err)
	}
	// init creates the Open_vSwitch root row; --no-wait because
	// ovs-vswitchd is not up yet.
	if _, err := o.Vsctl(ctx, "--no-wait", "init"); err != nil {
		return fmt.Errorf("daemon: init db: %w", err)
	}
	return nil
}

func (o *OVS) startVswitchd(ctx context.Context) error {
	args := []string{vswitchd, "unix:" + o.dbSockPath(),
		"--pidfile=" + o.pidFile(vswitchd),
		"--log-file=" + o.logFile(vswitchd),
		"-vconsole:off", "--detach", "--no-chdir",
	}
	if _, err := o.run(ctx, true, args...); err != nil {
		return fmt.Errorf("daemon: start %s: %w", vswitchd, err)
	}
	return o.waitVswitchd(ctx)
}

// waitVswitchd returns once ovs-vswitchd answers on its control socket and
// has applied the current database configuration (a vsctl write waits for
// cur_cfg to catch up with next_cfg). The written value changes on every
// start so that OVSDB monitors (ovsdb.Client.Changes) see each (re)start.
func (o *OVS) waitVswitchd(ctx context.Context) error {
	for {
		_, err := o.Appctl(ctx, vswitchd, "version")
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("daemon: %s not answering: %w", vswitchd, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if _, err := o.Vsctl(ctx, "set", "Open_vSwitch", ".", "external_ids:vland-started="+strconv.FormatInt(time.Now().UnixNano(), 10)); err != nil {
		return fmt.Errorf("daemon: %s not reconfiguring: %w", vswitchd, err)
	}
	return nil
}

// RestartVswitchd kills ovs-vswitchd and starts it again, as a crash or an
// upgrade would: the database (bridges, ports) survives, OpenFlow flows and
// ofport assignments may not.
func (o *OVS) RestartVswitchd(ctx context.Context) error {
	if err := o.killDaemon(vswitchd); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	return o.startVswitchd(ctx)
}

// Stop stops both daemons and deletes the tap devices the netdev datapath
// leaves behind in the namespace (ovs-netdev and one per bridge or internal
// port). Dir and its database are kept. Stop is idempotent.
func (o *OVS) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	taps := o.tapNames(ctx)
	errs := []error{o.killDaemon(vswitchd), o.killDaemon(dbServer)}
	errs = append(errs, o.deleteTaps(taps))
	return errors.Join(errs...)
}

// RestartDBServer kills ovsdb-server and starts it again on the same
// database, as a crash would: clients must reconnect.
func (o *OVS) RestartDBServer(ctx context.Context) error {
	if err := o.killDaemon(dbServer); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	return o.startDBServer(ctx)
}
