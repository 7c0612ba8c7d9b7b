package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

// The lab's admin identity, as keystone-manage bootstrap names it.
const (
	adminUser    = "admin"
	adminProject = "admin"
	serverGrace  = 10 * time.Second
)

func serverDataDir(dir string) string { return filepath.Join(dir, "server") }
func serverPidfile(dir string) string { return filepath.Join(dir, "server.pid") }
func serverLog(dir string) string     { return filepath.Join(dir, "server.log") }
func authConfig(dir string) string    { return filepath.Join(dir, "auth.yaml") }

// freePorts returns n distinct free TCP ports on 127.0.0.1. Another program
// could take one before the server binds it; Up then fails and says so.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("lab: free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomPassword() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeAuthConfig writes the server's Keystone users file: the admin and
// a member user per Config.Members project.
func writeAuthConfig(st *State) error {
	var users []map[string]any
	for _, p := range st.Members {
		users = append(users, map[string]any{"name": p, "password": st.AdminPassword, "project": p, "roles": []string{"member"}})
	}
	data, err := yaml.Marshal(map[string]any{"admin_password": st.AdminPassword, "users": users})
	if err != nil {
		return fmt.Errorf("lab: auth config: %w", err)
	}
	if err := os.WriteFile(authConfig(st.Dir), data, 0o600); err != nil {
		return fmt.Errorf("lab: auth config: %w", err)
	}
	return nil
}

// serverArgv is the command line of the lab's server: API and embedded etcd
// on 127.0.0.1 only.
func (st *State) serverArgv(extra []string) []string {
	argv := []string{st.Binary, "server",
		"--listen", strings.TrimPrefix(st.APIURL, "http://"),
		"--data-dir", serverDataDir(st.Dir),
		"--etcd-client-url", st.EtcdURL,
		"--etcd-peer-url", st.EtcdPeerURL,
		"--auth", "keystone",
		"--auth-config", authConfig(st.Dir),
		"--tenant-network-types", strings.Join(st.TunnelTypes, ","),
	}
	return append(argv, extra...)
}

// startServer starts the lab's server detached.
func startServer(st *State, extra []string) error {
	if err := writeAuthConfig(st); err != nil {
		return err
	}
	if err := os.MkdirAll(serverDataDir(st.Dir), 0o700); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	// The environment could override the file's admin password; pin it.
	env := append(os.Environ(), "VLAND_ADMIN_PASSWORD="+st.AdminPassword)
	_, err := startDetached(st.serverArgv(extra), env, serverLog(st.Dir), serverPidfile(st.Dir))
	return err
}

// assignEndpoints picks the server's three loopback ports.
func assignEndpoints(st *State) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	loop := func(p int) string { return "http://127.0.0.1:" + strconv.Itoa(p) }
	st.APIURL, st.EtcdURL, st.EtcdPeerURL = loop(ports[0]), loop(ports[1]), loop(ports[2])
	st.AuthURL = st.APIURL + "/v3"
	return nil
}

// Client returns an admin client of the lab's API.
func (l *Lab) Client() *client.Client {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.client == nil {
		c, err := client.New(l.ClientConfig())
		if err != nil {
			// The config is built here from the state; it cannot be invalid.
			panic(fmt.Sprintf("lab: admin client: %v", err))
		}
		l.client = c
	}
	return l.client
}

// MemberClient returns a client acting as the member user of project
// (one of Config.Members).
func (l *Lab) MemberClient(project string) (*client.Client, error) {
	if !slices.Contains(l.st.Members, project) {
		return nil, fmt.Errorf("%w: %q is not a member project of lab %s (Config.Members)", ErrBadConfig, project, l.st.Name)
	}
	cfg := l.ClientConfig()
	cfg.Username, cfg.ProjectName = project, project
	return client.New(cfg)
}

// WaitAPI waits until the API authenticates the admin.
func (l *Lab) WaitAPI(ctx context.Context) error {
	return l.waitUntil(ctx, 60*time.Second, "API", func(ctx context.Context) error {
		c, err := client.New(l.ClientConfig())
		if err != nil {
			return err
		}
		if err := c.Authenticate(ctx); err != nil {
			return err
		}
		_, err = c.ListNetworks(ctx, nil)
		return err
	})
}

// WaitAgents waits until GET /v2.0/agents shows an alive agent for every host.
func (l *Lab) WaitAgents(ctx context.Context) error {
	return l.waitUntil(ctx, 60*time.Second, "agents", func(ctx context.Context) error {
		agents, err := l.Client().ListAgents(ctx, nil)
		if err != nil {
			return err
		}
		return l.missingAgents(agents)
	})
}

// missingAgents names the hosts without an alive agent.
func (l *Lab) missingAgents(agents []api.Agent) error {
	alive := map[string]bool{}
	for _, a := range agents {
		if a.Alive {
			alive[a.Host] = true
		}
	}
	var missing []string
	for _, h := range l.st.Hosts {
		if !alive[h.Name] {
			missing = append(missing, h.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no alive agent on %s", strings.Join(missing, ", "))
	}
	return nil
}

// waitUntil retries check until it succeeds, d passes or ctx ends, and also
// fails early if the server died. The last check error explains a timeout.
func (l *Lab) waitUntil(ctx context.Context, d time.Duration, what string, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var last error
	for {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		last = check(cctx)
		ccancel()
		if last == nil {
			return nil
		}
		if !alive(readPid(serverPidfile(l.st.Dir))) {
			return fmt.Errorf("lab: server exited while waiting for %s: %w\n%s", what, last, tail(serverLog(l.st.Dir), 20))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: waiting for %s: %w (last: %w)", what, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// tail returns the last n lines of a log file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return path + ":\n  " + strings.Join(lines, "\n  ")
}
