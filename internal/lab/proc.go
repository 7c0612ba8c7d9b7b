package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startDetached starts argv in its own session (setsid) so that it outlives
// the `vland lab up` that started it and gets no signal from its terminal.
// Output goes to logPath, the pid to pidPath. The Wait in the background only
// reaps the child if this process lives longer (tests); it never blocks.
func startDetached(argv, env []string, logPath, pidPath string) (int, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("lab: log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = env
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("lab: start %s: %w", argv[0], err)
	}
	pid := cmd.Process.Pid
	go func() { _ = cmd.Wait() }()
	if err := os.WriteFile(pidPath, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		_ = cmd.Process.Kill()
		return 0, fmt.Errorf("lab: pidfile: %w", err)
	}
	return pid, nil
}

// readPid returns the pid recorded in a pidfile, 0 if there is none.
func readPid(pidPath string) int {
	b, err := os.ReadFile(pidPath)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

// alive reports whether pid runs and is not a zombie.
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses, which may hold spaces.
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z' && b[i+2] != 'X'
	}
	return true
}

// cmdline returns the arguments of pid, nil if it is gone.
func cmdline(pid int) []string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

// mentions reports whether an argument names dir or a path below it
// ("/x/lab" must not match "/x/lab2").
func mentions(args []string, dir string) bool {
	for _, a := range args {
		for i := strings.Index(a, dir); i >= 0; {
			end := i + len(dir)
			if end == len(a) || !isPathChar(a[end]) {
				return true
			}
			j := strings.Index(a[end:], dir)
			if j < 0 {
				break
			}
			i = end + j
		}
	}
	return false
}

func isPathChar(c byte) bool {
	return c == '.' || c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Processes lists the processes whose command line mentions dir (a lab's
// directory) or a path below it: those of the lab there, which Cleanup
// kills. This process and its ancestors are not listed.
func Processes(dir string) []int { return pidsMentioning(filepath.Clean(dir)) }

// pidsMentioning lists the processes whose command line mentions dir,
// except this process and its ancestors (a `vland lab down --dir DIR`).
func pidsMentioning(dir string) []int {
	ents, _ := os.ReadDir("/proc")
	skip := ancestors()
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || skip[pid] {
			continue
		}
		if mentions(cmdline(pid), dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func ancestors() map[int]bool {
	m := map[int]bool{}
	for pid := os.Getpid(); pid > 1 && !m[pid]; {
		m[pid] = true
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			break
		}
		i := bytes.LastIndexByte(b, ')')
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			break
		}
		pid, _ = strconv.Atoi(f[1])
	}
	return m
}

// terminate sends SIGTERM to every pid, waits up to grace for them to exit,
// then SIGKILLs the rest and waits for those too.
// A zero grace kills at once, as a crash would.
func terminate(pids []int, grace time.Duration) error {
	if grace > 0 {
		signalAll(pids, syscall.SIGTERM)
		if waitAllGone(pids, grace) {
			return nil
		}
	}
	signalAll(pids, syscall.SIGKILL)
	if waitAllGone(pids, 5*time.Second) {
		return nil
	}
	var errs []error
	for _, p := range pids {
		if alive(p) {
			errs = append(errs, fmt.Errorf("lab: process %d survived SIGKILL", p))
		}
	}
	return errors.Join(errs...)
}

func signalAll(pids []int, sig syscall.Signal) {
	for _, p := range pids {
		if alive(p) {
			_ = syscall.Kill(p, sig)
		}
	}
}

func waitAllGone(pids []int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		gone := true
		for _, p := range pids {
			if alive(p) {
				gone = false
				break
			}
		}
		if gone {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stopPidfile stops the process of a pidfile if it still is ours (its
// command line mentions dir; a recycled pid is left alone), then removes the
// pidfile.
func stopPidfile(pidPath, dir string, grace time.Duration) error {
	pid := readPid(pidPath)
	var err error
	if pid > 0 && alive(pid) && mentions(cmdline(pid), dir) {
		err = terminate([]int{pid}, grace)
	}
	if err == nil {
		_ = os.Remove(pidPath)
	}
	return err
}
