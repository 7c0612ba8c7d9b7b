package labtest

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/testutil"
)

// ErrNotShared is why a Shared lab is not up when MainShared never ran.
var ErrNotShared = errors.New("labtest: shared lab not brought up: TestMain must call labtest.MainShared")

// Shared is one lab for all the tests of a package, for tests that each
// make their own tenants and so need no lab of their own: MainShared brings
// it up before the tests and tears it down after them, and tests get it
// with Lab.
type Shared struct {
	mu   sync.Mutex // guards cfg and lab against an early teardown
	cfg  lab.Config
	lab  *lab.Lab
	err  error
	down sync.Once
}

// NewShared describes the shared lab; cfg's Name, Dir, Binary and Out are
// set when it comes up, as Up does.
func NewShared(cfg lab.Config) *Shared {
	return &Shared{cfg: cfg, err: ErrNotShared}
}

// MainShared is Main for a package whose tests share s. It brings s up
// (if that fails, every test calling s.Lab fails with the reason), runs the
// tests and tears s down, also on SIGINT or SIGTERM and shortly before
// -timeout would panic out of the test binary, skipping deferred teardowns.
// If the tests passed, check (if not nil) looks for state they left in the
// lab, which fails the run; if they failed, the lab's log tails go to
// stderr. It exits with the run's status.
func MainShared(m *testing.M, s *Shared, check func(*lab.Lab) error) {
	if !flag.Parsed() {
		flag.Parse() // for -test.timeout, before m.Run parses flags
	}
	os.Exit(run(func() int { return s.runTests(m, check) }))
}

func (s *Shared) runTests(m *testing.M, check func(*lab.Lab) error) int {
	defer s.tearDown()
	defer s.guard()()
	s.up()
	code := m.Run()
	if s.lab == nil {
		return code
	}
	if code == 0 && check != nil {
		if err := check(s.lab); err != nil {
			fmt.Fprintln(os.Stderr, "labtest: the tests left state behind:", err)
			code = 1
		}
	}
	if code != 0 {
		WriteLogTails(os.Stderr, s.cfg.Dir)
	}
	return code
}

// Lab returns the shared lab, failing the test if it is not up.
func (s *Shared) Lab(tb testing.TB) *lab.Lab {
	tb.Helper()
	testutil.RequireOVS(tb)
	testutil.RequireBinary(tb, "ping", "ethtool")
	if s.err != nil {
		tb.Fatalf("shared lab: %v", s.err)
	}
	return s.lab
}

// up builds the binary and brings the lab up, recording why it is not.
func (s *Shared) up() {
	bin, err := buildBinary()
	switch {
	case err != nil:
		s.err = err
	case os.Geteuid() != 0:
		s.err = errors.New("labtest: not root")
	default:
		name := testutil.Prefix()
		s.mu.Lock()
		s.cfg.Name, s.cfg.Dir, s.cfg.Binary = name, "/tmp/"+name, bin
		s.mu.Unlock()
		start := time.Now()
		l, err := bringUp(s.cfg)
		s.mu.Lock()
		s.lab, s.err = l, err
		s.mu.Unlock()
		if err == nil {
			fmt.Fprintf(os.Stderr, "FIGURE: lab up (%d hosts) in %.1fs\n", s.cfg.Hosts, time.Since(start).Seconds())
		}
	}
}

// tearDown removes the lab, gracefully if it came up, once.
func (s *Shared) tearDown() {
	s.down.Do(func() {
		s.mu.Lock()
		l, name, dir := s.lab, s.cfg.Name, s.cfg.Dir
		s.mu.Unlock()
		if name == "" {
			return
		}
		if err := tearDown(l, name, dir); err != nil {
			fmt.Fprintln(os.Stderr, "labtest: lab down:", err)
		}
	})
}

// guard tears the lab down when the run is interrupted (^C, CI cancel),
// then exits, and just before -timeout panics the binary. It returns the
// function that stops guarding.
func (s *Shared) guard() func() {
	var watchdog *time.Timer
	if d := testTimeout(); d > time.Minute {
		watchdog = time.AfterFunc(d-20*time.Second, func() {
			fmt.Fprintln(os.Stderr, "labtest: test timeout near, tearing the lab down")
			s.tearDown()
		})
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sig; ok {
			s.tearDown()
			removeTmpDir()
			os.Exit(1)
		}
	}()
	return func() {
		if watchdog != nil {
			watchdog.Stop()
		}
		signal.Stop(sig)
		close(sig)
	}
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
