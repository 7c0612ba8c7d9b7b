package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/ovs/daemon"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
)

// agentGrace is how long an agent gets to exit on SIGTERM before SIGKILL.
const agentGrace = 5 * time.Second

// buildHost makes host i: its namespace and data NIC, its Open vSwitch and
// the br-phy carrying its underlay address.
func buildHost(ctx context.Context, st *State, i int) (*daemon.OVS, error) {
	h := st.Hosts[i-1]
	if err := os.MkdirAll(hostNetnsDir(h), 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if err := netns.Create(h.NetNS); err != nil {
		return nil, err
	}
	if err := cableHost(ctx, st.Name, i); err != nil {
		return nil, err
	}
	o, err := daemon.Start(ctx, daemon.Config{Dir: h.Dir, NetNS: h.NetNS, DatapathType: "netdev"})
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %w", h.Name, err)
	}
	if err := setupPhyBridge(ctx, o, h.NetNS, h.UnderlayIP); err != nil {
		return nil, err
	}
	return o, nil
}

// Host returns host i's namespace and a handle on its Open vSwitch (1-based).
func (l *Lab) Host(i int) (string, *daemon.OVS, error) {
	h, err := l.HostInfo(i)
	if err != nil {
		return "", nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if o := l.ovs[i]; o != nil {
		return h.NetNS, o, nil
	}
	o, err := daemon.Attach(h.Dir, h.NetNS)
	if err != nil {
		return h.NetNS, nil, fmt.Errorf("lab: %s: %w", h.Name, err)
	}
	l.ovs[i] = o
	return h.NetNS, o, nil
}

// RestartVswitchd restarts host i's ovs-vswitchd (its flows are lost, as
// after a real crash; the agent is expected to put them back). The
// underlay address on br-phy is re-applied in case the tap was recreated.
func (l *Lab) RestartVswitchd(ctx context.Context, i int) error {
	ns, o, err := l.Host(i)
	if err != nil {
		return err
	}
	if err := o.RestartVswitchd(ctx); err != nil {
		return err
	}
	return setupPhyBridge(ctx, o, ns, l.st.Hosts[i-1].UnderlayIP)
}

func agentPidfile(h HostState) string      { return filepath.Join(h.Dir, "agent.pid") }
func agentLog(h HostState) string          { return filepath.Join(h.Dir, "agent.log") }
func agentPasswordFile(h HostState) string { return filepath.Join(h.Dir, "etcd-agent.password") }

// AgentDebugSocket is where host h's agent serves its Go profiles
// (`vland agent --debug-socket`).
func AgentDebugSocket(h HostState) string { return filepath.Join(h.Dir, "agent-debug.sock") }

// agentArgv is the command line of host h's agent. It runs in the root
// namespace and reaches the host's OVS through its unix sockets.
func (st *State) agentArgv(h HostState) []string {
	argv := append(st.agentCommand(),
		"--host", h.Name,
		"--local-ip", h.UnderlayIP.Addr().String(),
		"--etcd-endpoints", st.EtcdURL,
		"--etcd-username", store.AgentUser(h.Name),
		"--etcd-password-file", agentPasswordFile(h),
		"--ovsdb", "unix:"+filepath.Join(h.Dir, "db.sock"),
		"--ovs-rundir", h.Dir,
		"--datapath", "netdev",
		"--tunnel-types", strings.Join(st.TunnelTypes, ","),
		"--debug-socket", AgentDebugSocket(h),
	)
	argv = append(argv, serviceArgs(h)...)
	if h.NetworkNode {
		argv = append(argv, "--network-node")
		if st.External != nil {
			argv = append(argv, "--bridge-mappings", st.External.Physnet+":"+st.External.Bridge)
		}
	}
	return append(argv, st.AgentArgs...)
}

// agentCommand runs the agent as the vland-agent binary next to the vland
// one when there is one (make build puts both in bin/): it leaves out the
// server, the etcd server and the CLI, about 8 MB less resident per
// agent. Otherwise `vland agent`, which does the same.
func (st *State) agentCommand() []string {
	p := filepath.Join(filepath.Dir(st.Binary), "vland-agent")
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return []string{p}
	}
	return []string{st.Binary, "agent"}
}

// StartAgent starts host i's agent unless it already runs, with its own
// etcd user (provisioned on first start, as `vland agent credentials` does).
func (l *Lab) StartAgent(i int) error {
	h, err := l.HostInfo(i)
	if err != nil {
		return err
	}
	if pid := readPid(agentPidfile(h)); alive(pid) && mentions(cmdline(pid), l.st.Dir) {
		return nil
	}
	if err := l.agentCredentials(h); err != nil {
		return err
	}
	env := append(os.Environ(), "OVS_RUNDIR="+h.Dir, "OVS_DBDIR="+h.Dir, "OVS_LOGDIR="+h.Dir)
	_, err = startDetached(l.st.agentArgv(h), env, agentLog(h), agentPidfile(h))
	return err
}

// agentCredentials writes h's agent password file, creating the agent's
// etcd user with the embedded etcd's root password, unless it exists.
func (l *Lab) agentCredentials(h HostState) error {
	path := agentPasswordFile(h)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	rootPW, err := etcdstore.ReadPasswordFile(filepath.Join(serverDataDir(l.st.Dir), etcdstore.RootPasswordFile))
	if err != nil {
		return fmt.Errorf("lab: agent credentials of %s: %w", h.Name, err)
	}
	cli, err := etcdstore.AdminClient(etcdstore.ClientConfig{Endpoints: []string{l.st.EtcdURL}, Username: store.RootUser, Password: rootPW})
	if err != nil {
		return fmt.Errorf("lab: agent credentials of %s: %w", h.Name, err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pw := etcdstore.RandomPassword()
	if err := etcdstore.ProvisionAgent(ctx, cli, h.Name, pw); err != nil {
		return fmt.Errorf("lab: agent credentials of %s: %w", h.Name, err)
	}
	return etcdstore.WritePasswordFile(path, pw)
}

// AgentEtcdClient is how host i's agent logs in to etcd (for tests of
// what its credentials allow).
func (l *Lab) AgentEtcdClient(i int) (etcdstore.ClientConfig, error) {
	h, err := l.HostInfo(i)
	if err != nil {
		return etcdstore.ClientConfig{}, err
	}
	pw, err := etcdstore.ReadPasswordFile(agentPasswordFile(h))
	if err != nil {
		return etcdstore.ClientConfig{}, err
	}
	return etcdstore.ClientConfig{Endpoints: []string{l.st.EtcdURL}, Username: store.AgentUser(h.Name), Password: pw}, nil
}

// KillAgent kills host i's agent abruptly (SIGKILL), as a crash would: its
// OVS state stays and its liveness lease expires on its own.
func (l *Lab) KillAgent(i int) error {
	h, err := l.HostInfo(i)
	if err != nil {
		return err
	}
	return stopPidfile(agentPidfile(h), l.st.Dir, 0)
}

// StopAgent stops host i's agent gracefully (SIGTERM).
func (l *Lab) StopAgent(i int) error {
	h, err := l.HostInfo(i)
	if err != nil {
		return err
	}
	return stopPidfile(agentPidfile(h), l.st.Dir, agentGrace)
}

// RestartAgent stops host i's agent gracefully and starts it again, then
// waits until the API reports it alive.
func (l *Lab) RestartAgent(ctx context.Context, i int) error {
	if err := l.StopAgent(i); err != nil {
		return err
	}
	if err := l.StartAgent(i); err != nil {
		return err
	}
	return l.WaitAgents(ctx)
}

// AgentPid returns the pid of host i's agent, 0 if it does not run.
func (l *Lab) AgentPid(i int) int {
	h, err := l.HostInfo(i)
	if err != nil {
		return 0
	}
	if pid := readPid(agentPidfile(h)); alive(pid) {
		return pid
	}
	return 0
}
