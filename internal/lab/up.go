package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/ovs/daemon"
)

// markerFile marks a directory as a lab's, so Cleanup only ever removes
// directories a lab made.
const markerFile = ".vland-lab"

func (c Config) withDefaults() (Config, error) {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if err := ValidName(c.Name); err != nil {
		return c, err
	}
	if c.Hosts == 0 {
		c.Hosts = DefaultHosts
	}
	if c.Hosts < 1 || c.Hosts > maxHosts {
		return c, fmt.Errorf("%w: %d hosts (1-%d)", ErrBadConfig, c.Hosts, maxHosts)
	}
	if c.NetworkNodes > c.Hosts {
		return c, fmt.Errorf("%w: %d network nodes on %d hosts", ErrBadConfig, c.NetworkNodes, c.Hosts)
	}
	if c.Dir == "" {
		c.Dir = DirFor(c.Name)
	}
	if !filepath.IsAbs(c.Dir) {
		return c, fmt.Errorf("%w: dir %q must be absolute", ErrBadConfig, c.Dir)
	}
	c.Dir = filepath.Clean(c.Dir)
	if c.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return c, fmt.Errorf("%w: vland binary: %w", ErrBadConfig, err)
		}
		c.Binary = exe
	}
	if len(c.TunnelTypes) == 0 {
		c.TunnelTypes = []string{"vxlan", "gre"}
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	return c, nil
}

// newState lays out a lab from its config: names, directories, addresses.
func newState(c Config) State {
	st := State{
		Name: c.Name, Dir: c.Dir, Binary: c.Binary,
		AdminPassword: randomPassword(),
		TunnelTypes:   c.TunnelTypes,
		AgentArgs:     c.AgentArgs,
		Members:       c.Members,
		FabricNetNS:   fabricNetNS(c.Name),
		CreatedAt:     time.Now().UTC(),
	}
	if c.External {
		st.External = newExternalState(c.Name)
	}
	for i := 1; i <= c.Hosts; i++ {
		st.Hosts = append(st.Hosts, HostState{
			Name:        hostName(i),
			NetNS:       hostNetNS(c.Name, i),
			Dir:         hostDir(c.Dir, i),
			UnderlayIP:  underlayIP(i),
			NetworkNode: i <= max(c.NetworkNodes, 1),
			Roles:       hostRoles(i, c.DHCPHosts, c.NetworkNodes),
		})
	}
	return st
}

// Up builds a lab and returns once its API answers and every host's agent
// is alive. On failure it removes whatever it had built. A lab of the same
// name must not exist (ErrExists): Down or Cleanup it first.
func Up(ctx context.Context, cfg Config) (*Lab, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkFree(cfg.Name, cfg.Dir); err != nil {
		return nil, err
	}
	st := newState(cfg)
	l := &Lab{st: st, out: cfg.Out, ovs: map[int]*daemon.OVS{}}
	if err := l.build(ctx, cfg.ServerArgs); err != nil {
		// Clean up even if ctx was cancelled: leftovers would block the next Up.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		l.progress("failed, cleaning up: %v", err)
		return nil, errors.Join(err, l.Down(cctx))
	}
	return l, nil
}

// checkFree fails with ErrExists if anything of a lab called name is there.
func checkFree(name, dir string) error {
	if _, err := os.Stat(statePath(dir)); err == nil {
		return fmt.Errorf("%w: %s (state in %s); run `vland lab down --name %s`", ErrExists, name, dir, name)
	}
	nss, err := labNamespaces(name)
	if err != nil {
		return err
	}
	if len(nss) > 0 {
		return fmt.Errorf("%w: namespaces %v are left from lab %s; run `vland lab down --name %s`", ErrExists, nss, name, name)
	}
	return nil
}

func (l *Lab) build(ctx context.Context, serverArgs []string) error {
	st := &l.st
	if err := os.MkdirAll(st.Dir, 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := os.WriteFile(filepath.Join(st.Dir, markerFile), []byte(st.Name+"\n"), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := assignEndpoints(st); err != nil {
		return err
	}
	if err := writeJSON(statePath(st.Dir), st); err != nil {
		return err
	}
	l.progress("lab %s: underlay switch in namespace %s", st.Name, st.FabricNetNS)
	if err := buildFabric(st.Name); err != nil {
		return err
	}
	for i, h := range st.Hosts {
		l.progress("%s: namespace %s, Open vSwitch (netdev) in %s, underlay %s on br-phy", h.Name, h.NetNS, h.Dir, h.UnderlayIP)
		o, err := buildHost(ctx, st, i+1)
		if err != nil {
			return err
		}
		l.ovs[i+1] = o
	}
	if st.External != nil {
		l.progress("external network: physnet %s on host1's %s, gateway %s and internet host %s in namespace %s",
			st.External.Physnet, st.External.Bridge, st.External.Gateway, st.External.InternetIP, st.External.NetNS)
		if err := buildExternal(ctx, st, l.ovs); err != nil {
			return err
		}
		serverArgs = append([]string{"--flat-networks", st.External.Physnet}, serverArgs...)
	}
	l.progress("server: API %s, etcd %s (log %s)", st.APIURL, st.EtcdURL, serverLog(st.Dir))
	if err := startServer(st, serverArgs); err != nil {
		return err
	}
	if err := l.WaitAPI(ctx); err != nil {
		return err
	}
	return l.startAgents(ctx)
}

func (l *Lab) startAgents(ctx context.Context) error {
	for i, h := range l.st.Hosts {
		role := "compute"
		if h.NetworkNode {
			role = "compute + network node"
		}
		l.progress("%s: agent (%s), log %s", h.Name, role, agentLog(h))
		if err := l.StartAgent(i + 1); err != nil {
			return err
		}
	}
	if err := l.WaitAgents(ctx); err != nil {
		return fmt.Errorf("%w\n%s", err, l.agentLogTails(10))
	}
	l.progress("all %d agents alive", len(l.st.Hosts))
	return nil
}

func (l *Lab) agentLogTails(n int) string {
	var s string
	for _, h := range l.st.Hosts {
		s += tail(agentLog(h), n) + "\n"
	}
	return s
}

func (l *Lab) progress(format string, args ...any) {
	if l.out != nil {
		fmt.Fprintf(l.out, format+"\n", args...)
	}
}

// Load returns the lab recorded in dir ("" means the default directory of
// the lab called name).
func Load(name, dir string) (*Lab, error) {
	if dir == "" {
		if name == "" {
			name = DefaultName
		}
		if err := ValidName(name); err != nil {
			return nil, err
		}
		dir = DirFor(name)
	}
	st, err := readState(dir)
	if err != nil {
		return nil, err
	}
	return &Lab{st: st, out: io.Discard, ovs: map[int]*daemon.OVS{}}, nil
}

// SetOutput directs progress lines to w.
func (l *Lab) SetOutput(w io.Writer) { l.out = w }

// labNamespaces lists the namespaces of the lab called name: NAME-fab,
// NAME-hN and NAME-vm-*. Lab names hold no '-', so these belong to no other lab.
func labNamespaces(name string) ([]string, error) {
	all, err := netns.List()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ns := range all {
		if isLabNamespace(name, ns) {
			out = append(out, ns)
		}
	}
	return out, nil
}
