// Package agentcmd builds the host agent's command, run as `vland agent`
// and as the vland-agent binary (cmd/vland-agent). The separate binary
// exists for memory: it links the agent and an etcd client only, not the
// API server, Keystone, the embedded etcd server or the client commands,
// so fewer of its pages are resident on every host.
package agentcmd

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vland/vland/internal/agent"
	"github.com/vland/vland/internal/dataplane"
	"github.com/vland/vland/internal/etcdflags"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
)

// agentFlags are the agent's options, named after Neutron's OVS agent
// configuration where one exists.
type agentFlags struct {
	host           string
	localIP        string
	bridgeMappings []string
	tunnelTypes    []string
	tunnelPorts    string
	datapath       string
	ovsdb          string
	ovsRunDir      string
	etcdEndpoints  []string
	etcd           etcdflags.Auth
	intBridge      string
	tunBridge      string
	networkNode    bool
	roles          []string
	debug          bool
	leaseTTL       time.Duration
	resync         time.Duration
	debugSocket    string
	memoryLimit    string
	dhcp           dhcpFlags
}

// New builds the host agent daemon's command, named use (`agent` under
// vland, `vland-agent` alone).
func New(use string) *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   use,
		Short: "Run the host agent: register this host and keep its Open vSwitch in line with the store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := setMemoryLimit(f.memoryLimit, cmd.Flags().Changed("memory-limit")); err != nil {
				return err
			}
			return runAgent(cmd.Context(), f)
		},
	}
	hostname, _ := os.Hostname()
	fs := cmd.Flags()
	fs.StringVar(&f.host, "host", hostname, "this host's name, as ports' binding:host_id and /v2.0/agents show it")
	fs.StringVar(&f.localIP, "local-ip", "", "this host's tunnel endpoint address (required with tunnel types)")
	fs.StringSliceVar(&f.bridgeMappings, "bridge-mappings", nil, "physical network to provider bridge, physnet:bridge[,...]")
	fs.StringSliceVar(&f.tunnelTypes, "tunnel-types", []string{"vxlan"}, "tunnel types this host offers (vxlan, gre, geneve)")
	fs.StringVar(&f.tunnelPorts, "tunnel-ports", "flow", "br-tun tunnel ports: flow (one per type, remote_ip=flow, tun_dst set per flow) or per-peer (one per peer and type, as Neutron)")
	fs.StringVar(&f.datapath, "datapath", "system", "Open vSwitch datapath type: system (kernel) or netdev (userspace)")
	fs.StringVar(&f.ovsdb, "ovsdb", "unix:/var/run/openvswitch/db.sock", "OVSDB server endpoint")
	fs.StringVar(&f.ovsRunDir, "ovs-rundir", "/var/run/openvswitch", "directory of ovs-vswitchd's bridge management sockets (BRIDGE.mgmt)")
	fs.StringSliceVar(&f.etcdEndpoints, "etcd-endpoints", []string{"http://127.0.0.1:2379"}, "etcd client URLs of the store")
	f.etcd.Register(fs, "etcd user (default vland-agent-HOST; see: vland agent credentials)",
		"file holding the etcd user's password")
	fs.StringVar(&f.intBridge, "integration-bridge", "br-int", "integration bridge")
	fs.StringVar(&f.tunBridge, "tunnel-bridge", "br-tun", "tunnel bridge")
	fs.BoolVar(&f.networkNode, "network-node", false, "this host is a network node (routers, DHCP, external network)")
	fs.StringSliceVar(&f.roles, "roles", []string{"compute"}, "services this host runs: compute, dhcp, l3, metadata (any set)")
	fs.BoolVar(&f.debug, "debug", false, "log at debug level")
	fs.DurationVar(&f.leaseTTL, "heartbeat-ttl", agent.DefaultLeaseTTL, "how long the host stays alive in the store after the agent stops")
	fs.DurationVar(&f.resync, "resync-interval", agent.DefaultResyncInterval, "period of a full reconcile without changes")
	fs.StringVar(&f.memoryLimit, "memory-limit", defaultAgentMemoryLimit, "soft limit on the agent's Go memory (e.g. 32MiB, 1GiB; off for none): garbage collection runs more often near it, never stops the agent; GOMEMLIMIT applies when this is not given")
	fs.StringVar(&f.debugSocket, "debug-socket", "", "serve Go profiles (pprof: heap, goroutines, CPU) on this unix socket, mode 0600; off when empty")
	f.dhcp.add(fs)
	return cmd
}

// runAgent wires store, data plane and agent, and runs until SIGINT or
// SIGTERM.
func runAgent(ctx context.Context, f agentFlags) error {
	cfg, err := agentConfig(f)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.debugSocket != "" {
		if err := serveDebug(ctx, f.debugSocket, cfg.Log); err != nil {
			return err
		}
	}
	cc, err := f.etcd.Config(f.etcdEndpoints, store.AgentUser(cfg.Host))
	if err != nil {
		return err
	}
	st, err := etcdstore.Connect(cc)
	if err != nil {
		return fmt.Errorf("connect to store: %w", err)
	}
	defer st.Close()
	cfg.Services = agentServices(f, cfg, st)
	a, err := agent.New(cfg, st, newDataplane(f, cfg))
	if err != nil {
		return err
	}
	cfg.Log.Info("agent starting", "host", cfg.Host, "local_ip", f.localIP, "etcd", f.etcdEndpoints, "etcd_user", cc.Username)
	if err := a.Run(ctx); err != nil {
		return err
	}
	cfg.Log.Info("agent stopped", "host", cfg.Host)
	return nil
}

func agentConfig(f agentFlags) (agent.Config, error) {
	level := slog.LevelInfo
	if f.debug {
		level = slog.LevelDebug
	}
	cfg := agent.Config{
		HostConfig:        agent.HostConfig{Host: f.host, TunnelTypes: f.tunnelTypes, TunnelPorts: f.tunnelPorts},
		DatapathType:      f.datapath,
		IntegrationBridge: f.intBridge,
		TunnelBridge:      f.tunBridge,
		NetworkNode:       f.networkNode,
		Roles:             f.roles,
		LeaseTTL:          f.leaseTTL,
		ResyncInterval:    f.resync,
		Log:               slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	if f.localIP != "" {
		ip, err := netip.ParseAddr(f.localIP)
		if err != nil {
			return cfg, fmt.Errorf("--local-ip: %w", err)
		}
		cfg.LocalIP = ip
	}
	bm, err := agent.ParseBridgeMappings(f.bridgeMappings)
	if err != nil {
		return cfg, fmt.Errorf("--bridge-mappings: %w", err)
	}
	cfg.BridgeMappings = bm
	if err := agent.ValidateRoles(cfg.Roles); err != nil {
		return cfg, fmt.Errorf("--roles: %w", err)
	}
	return cfg, nil
}

// newDataplane builds the host's Open vSwitch data plane.
func newDataplane(f agentFlags, cfg agent.Config) agent.Dataplane {
	return dataplane.New(dataplane.Config{
		Host:              cfg.Host,
		IntegrationBridge: cfg.IntegrationBridge,
		TunnelBridge:      cfg.TunnelBridge,
		DatapathType:      cfg.DatapathType,
		OVSDB:             f.ovsdb,
		NetNS:             f.dhcp.ovsNetNS,
		RunDir:            f.ovsRunDir,
		LocalIP:           cfg.LocalIP,
		TunnelTypes:       cfg.TunnelTypes,
		BridgeMappings:    cfg.BridgeMappings,
		Log:               cfg.Log,
	})
}
