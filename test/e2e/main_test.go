// Package e2e_test runs vland's end-to-end scenarios on real Open vSwitch:
// one lab of three hosts (network namespaces, each with its own netdev
// ovs-vswitchd and agent, an underlay switch between them, the server and
// etcd on 127.0.0.1) is built once for the whole package by TestMain. Every
// test makes its own projects, networks and VMs, and deletes its VMs at the
// end, so tests are independent of each other and of their order.
//
// Figures worth collecting (convergence times, lost pings) are logged with
// the prefix "FIGURE:".
package e2e_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/testutil"
)

// numHosts is the size of the shared lab.
const numHosts = 3

// shared is the package's lab, or why it could not be built.
var shared struct {
	lab  *lab.Lab
	name string
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "vland-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	// Build before HOME changes: go's build and module caches live under it.
	binary, err := buildBinary(tmp)
	// Tests must never touch the user's client config.
	os.Setenv("HOME", tmp)
	os.Setenv("VLAND_CONFIG", filepath.Join(tmp, "config.yaml"))

	switch {
	case err != nil:
		shared.err = err
	case os.Geteuid() != 0:
		shared.err = fmt.Errorf("not root")
	default:
		shared.name = testutil.Prefix()
		shared.dir = "/tmp/" + shared.name
		var teardown sync.Once
		down := func() { teardown.Do(tearDown) }
		defer down()
		// A test that hits -timeout panics the binary and skips defers:
		// tear the lab down just before that happens.
		if d := testTimeout(); d > time.Minute {
			watchdog := time.AfterFunc(d-20*time.Second, func() {
				fmt.Fprintln(os.Stderr, "e2e: test timeout near, tearing the lab down")
				down()
			})
			defer watchdog.Stop()
		}
		// Interrupted (^C, CI cancel): tear down, then exit.
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sig)
		go func() {
			if _, ok := <-sig; ok {
				down()
				os.Exit(1)
			}
		}()
		shared.lab, shared.err = bringUp(binary)
	}
	code := m.Run()
	if shared.lab != nil && code == 0 {
		if err := leftovers(shared.lab); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: the tests left state behind:", err)
			code = 1
		}
	}
	if code != 0 && shared.lab != nil {
		dumpLogs(os.Stderr, shared.dir)
	}
	return code
}

// testTimeout is the -test.timeout in effect (0 if none).
func testTimeout() time.Duration {
	f := flag.Lookup("test.timeout")
	if f == nil {
		return 0
	}
	d, _ := time.ParseDuration(f.Value.String())
	return d
}

// buildBinary builds ./cmd/vland into dir, unless VLAND_BINARY names
// a binary built already.
func buildBinary(dir string) (string, error) {
	if b := os.Getenv("VLAND_BINARY"); b != "" {
		return b, nil
	}
	binary := filepath.Join(dir, "vland")
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "build", "-o", binary, "./cmd/vland")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/vland: %w\n%s", err, out)
	}
	return binary, nil
}

// bringUp brings the shared lab up.
func bringUp(binary string) (*lab.Lab, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress strings.Builder
	start := time.Now()
	l, err := lab.Up(ctx, lab.Config{Name: shared.name, Hosts: numHosts, Dir: shared.dir, Binary: binary, Out: &progress})
	if err != nil {
		return nil, fmt.Errorf("lab up: %w\n%s", err, progress.String())
	}
	fmt.Fprintf(os.Stderr, "FIGURE: lab up (%d hosts) in %.1fs\n", numHosts, time.Since(start).Seconds())
	return l, nil
}

// tearDown removes the shared lab, gracefully if possible, then whatever
// is left.
func tearDown() {
	if shared.name == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if shared.lab != nil {
		if err := shared.lab.Down(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: lab down:", err)
		}
	}
	if err := lab.Cleanup(ctx, shared.name, shared.dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: lab cleanup:", err)
	}
}

// sharedLab returns the package's lab, failing the test if it is not up.
func sharedLab(t *testing.T) *lab.Lab {
	t.Helper()
	testutil.RequireOVS(t)
	testutil.RequireBinary(t, "ping", "ethtool")
	if shared.err != nil {
		t.Fatalf("shared lab: %v", shared.err)
	}
	return shared.lab
}

// adminClient is the lab's admin API client.
func adminClient(t *testing.T) *client.Client {
	return sharedLab(t).Client()
}

// dumpLogs writes the tails of the lab's logs, to explain a failure.
func dumpLogs(w io.Writer, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	more, _ := filepath.Glob(filepath.Join(dir, "h*", "agent.log"))
	for _, p := range append(logs, more...) {
		b, _ := os.ReadFile(p)
		if len(b) > 3000 {
			b = b[len(b)-3000:]
		}
		fmt.Fprintf(w, "==> %s (tail)\n%s\n", p, b)
	}
}

// leftovers reports what the tests left in the shared lab although each
// deletes its VMs: VM records, and br-int ports other than the bridge's
// own and patch-tun on any host (a stale port would mean a VM's unplug
// failed, or something plugged it again).
func leftovers(l *lab.Lab) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	if vms, err := l.VMs(); err != nil || len(vms) > 0 {
		errs = append(errs, fmt.Errorf("VMs left: %v %v", vms, err))
	}
	for i := 1; i <= l.NumHosts(); i++ {
		out, err := l.HostExec(ctx, i, "ovs-vsctl", "list-ports", "br-int")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, p := range strings.Fields(string(out)) {
			if p != "patch-tun" {
				show, _ := l.HostExec(ctx, i, "ovs-vsctl", "show")
				errs = append(errs, fmt.Errorf("host%d: port %s left on br-int:\n%s", i, p, show))
			}
		}
	}
	return errors.Join(errs...)
}
