// Package clients_test drives real OpenStack clients against a real vland
// server: Debian's unmodified `openstack` CLI and gophercloud, each through
// vland's Keystone v3 (password auth) and the CLI also in noauth mode. The
// servers run in-process with embedded etcd, once for the whole package.
package clients_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/vland/vland/internal/keystone"
	"github.com/vland/vland/internal/store/etcdstore"
	"github.com/vland/vland/internal/testutil"
)

const (
	adminPassword  = "vland-admin-pw"
	memberUser     = "alice"
	memberPassword = "alice-pw"
	memberProject  = "projectA"
	demoProject    = "demo"
)

// usersFile is the identity config of the keystone-mode server.
var usersFile = fmt.Sprintf(`admin_password: %s
token_ttl: 1h
projects: [%s]
users:
  - {name: %s, password: %s, project: %s, roles: [member]}
`, adminPassword, demoProject, memberUser, memberPassword, memberProject)

// prefix makes this run's resource names unique.
var prefix = testutil.Prefix()

// vlandServer is one running server as the tests see it.
type vlandServer struct {
	url            string
	adminProjectID string
	projectIDs     map[string]string      // by name
	etcd           etcdstore.ClientConfig // how the server reaches its store
	close          func()
}

type testEnv struct {
	keystone *vlandServer // --auth keystone, users file above
	noauth   *vlandServer // --auth noauth
	users    string       // path of the users file
	err      error
}

var env testEnv

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vland-clients-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	env = startEnv(dir)
	code := m.Run()
	for _, s := range []*vlandServer{env.keystone, env.noauth} {
		if s != nil {
			s.close()
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func startEnv(dir string) testEnv {
	users := filepath.Join(dir, "users.yaml")
	if err := os.WriteFile(users, []byte(usersFile), 0o600); err != nil {
		return testEnv{err: err}
	}
	var e testEnv
	e.users = users
	e.keystone, e.err = startVland(filepath.Join(dir, "ks"), keystone.ModeKeystone, users)
	if e.err != nil {
		return e
	}
	e.noauth, e.err = startVland(filepath.Join(dir, "na"), keystone.ModeNoAuth, "")
	if e.err != nil {
		return e
	}
	e.err = e.keystone.learnProjects()
	return e
}

// sharedEnv returns the package's servers, failing the test if they did
// not start.
func sharedEnv(t *testing.T) testEnv {
	t.Helper()
	if env.err != nil {
		t.Fatalf("starting vland servers: %v", env.err)
	}
	return env
}

// learnProjects logs in as admin over plain HTTP and reads the project ids
// from /v3/projects, so tests compare with what the server really stored.
func (s *vlandServer) learnProjects() error {
	body := fmt.Sprintf(`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin",`+
		`"domain":{"id":"default"},"password":%q}}},"scope":{"project":{"name":"admin","domain":{"id":"default"}}}}}`, adminPassword)
	resp, err := http.Post(s.url+"/v3/auth/tokens", "application/json", bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST /v3/auth/tokens as admin: status %d", resp.StatusCode)
	}
	req, _ := http.NewRequestWithContext(context.Background(), "GET", s.url+"/v3/projects", nil)
	req.Header.Set("X-Auth-Token", resp.Header.Get("X-Subject-Token"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var list struct {
		Projects []struct{ ID, Name string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return fmt.Errorf("GET /v3/projects: %w", err)
	}
	s.projectIDs = map[string]string{}
	for _, p := range list.Projects {
		s.projectIDs[p.Name] = p.ID
	}
	s.adminProjectID = s.projectIDs["admin"]
	for _, n := range []string{"admin", demoProject, memberProject} {
		if s.projectIDs[n] == "" {
			return fmt.Errorf("project %s missing from /v3/projects: %v", n, s.projectIDs)
		}
	}
	return nil
}
