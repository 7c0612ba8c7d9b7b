// Package labtest is the test fixture of packages whose tests run vland
// labs (internal/lab), the way net/http/httptest is for HTTP servers: it
// builds the vland binary once, keeps tests off the user's client config,
// brings labs up under unique names and tears them down whatever happens,
// and checks that a lab left nothing behind on the machine.
//
// A test package calls Main (or MainShared, for one lab shared by all its
// tests) from its TestMain, then Up in each test that needs a lab:
//
//	func TestMain(m *testing.M) { labtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		l := labtest.Up(t, lab.Config{Hosts: 2})
//		...
//	}
//
// $VLAND_BINARY names a prebuilt vland (`make test` builds bin/vland);
// without it ./cmd/vland is built once per test binary.
package labtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// BinaryEnv names a prebuilt vland binary to run instead of building one.
const BinaryEnv = "VLAND_BINARY"

// ErrNoMain is returned when the binary is needed but TestMain did not
// call Main or MainShared, which make the directory it is built in.
var ErrNoMain = errors.New("labtest: TestMain must call labtest.Main or labtest.MainShared")

// Set by isolate, read by the build.
var (
	tmpDir string
	// realHome is HOME before isolate replaces it: go build finds the
	// module and build caches under it (a fresh HOME is a cold build that
	// downloads every module).
	realHome string

	buildOnce sync.Once
	binary    string
	buildErr  error
)

// Main runs the package's tests with the client config isolated (see
// isolate) and exits with their status.
func Main(m *testing.M) {
	os.Exit(run(m.Run))
}

// run runs tests, which returns an exit code, with the client config
// isolated.
func run(tests func() int) int {
	if err := isolate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer removeTmpDir()
	return tests()
}

// isolate points HOME and VLAND_CONFIG at a fresh temporary directory, so
// that tests never read or write the user's client config.
func isolate() error {
	dir, err := os.MkdirTemp("", "vland-labtest-")
	if err != nil {
		return fmt.Errorf("labtest: %w", err)
	}
	tmpDir, realHome = dir, os.Getenv("HOME")
	os.Setenv("HOME", dir)
	os.Setenv("VLAND_CONFIG", filepath.Join(dir, "config.yaml"))
	return nil
}

// removeTmpDir removes isolate's directory; an interrupted run, which
// exits without running deferred calls, calls it too.
func removeTmpDir() {
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
}

// Binary returns the vland binary labs run: $VLAND_BINARY (made absolute),
// else ./cmd/vland (with ./cmd/vland-agent beside it) built once on first
// use, so that tests needing no lab do not depend on the whole tree
// building.
func Binary(tb testing.TB) string {
	tb.Helper()
	b, err := buildBinary()
	require.NoError(tb, err)
	return b
}

func buildBinary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		abs, err := filepath.Abs(p)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			return "", fmt.Errorf("labtest: $%s: %w", BinaryEnv, err)
		}
		return abs, nil
	}
	buildOnce.Do(func() {
		if tmpDir == "" {
			buildErr = ErrNoMain
			return
		}
		binary = filepath.Join(tmpDir, "vland")
		_, file, _, _ := runtime.Caller(0)
		// Both binaries, as make build: the lab runs the agents as the
		// vland-agent next to vland.
		cmd := exec.Command("go", "build", "-o", tmpDir+"/", "./cmd/vland", "./cmd/vland-agent")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..", "..")
		cmd.Env = append(os.Environ(), "HOME="+realHome)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("labtest: go build ./cmd/vland ./cmd/vland-agent: %w\n%s", err, out)
		}
	})
	return binary, buildErr
}
