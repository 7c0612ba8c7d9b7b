package clients_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vland/vland/internal/testutil"
)

// osc runs Debian's unmodified `openstack` CLI with a fixed set of global
// options (the auth mode). Every call costs 1-2 s of Python start-up, so
// the tests keep their number of calls small.
type osc struct {
	global []string
}

// passwordCLI authenticates with a user's password against vland's /v3.
func passwordCLI(url, user, password, project string) osc {
	return osc{global: []string{
		"--os-auth-url", url + "/v3", "--os-identity-api-version", "3",
		"--os-username", user, "--os-password", password, "--os-project-name", project,
		"--os-user-domain-name", "Default", "--os-project-domain-name", "Default",
		"--os-interface", "public",
	}}
}

// noauthCLI talks to a noauth server, as `--os-auth-type none` does.
func noauthCLI(url string) osc {
	return osc{global: []string{"--os-auth-type", "none", "--os-endpoint", url}}
}

// run runs `openstack GLOBAL args...` with no OS_* variables from the
// environment and returns stdout, or an error carrying stderr.
func (o osc) run(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	testutil.RequireBinary(t, "openstack")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openstack", append(append([]string{}, o.global...), args...)...)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("openstack %s (%.1fs)", strings.Join(args, " "), time.Since(start).Seconds())
	if err != nil {
		return stdout.Bytes(), fmt.Errorf("openstack %s: %w: %s%s", strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return stdout.Bytes(), nil
}

// json runs args with `-f json` and decodes the output into v.
func (o osc) json(t *testing.T, v any, args ...string) {
	t.Helper()
	out, err := o.run(t, append(args, "-f", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("openstack %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// ok runs args and fails the test on error.
func (o osc) ok(t *testing.T, args ...string) {
	t.Helper()
	if _, err := o.run(t, args...); err != nil {
		t.Fatal(err)
	}
}

// fails runs args, expects the CLI to fail and returns its error text.
func (o osc) fails(t *testing.T, args ...string) string {
	t.Helper()
	_, err := o.run(t, args...)
	if err == nil {
		t.Fatalf("openstack %s succeeded, want an error", strings.Join(args, " "))
	}
	return err.Error()
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OS_") {
			env = append(env, kv)
		}
	}
	return env
}
