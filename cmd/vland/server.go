package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/etcdflags"
	"github.com/vland/vland/internal/keystone"
	"github.com/vland/vland/internal/scheduler"
	"github.com/vland/vland/internal/segment"
	"github.com/vland/vland/internal/server"
	"github.com/vland/vland/internal/store"
)

// serverFlags are `vland server`'s flags, in ML2's vocabulary.
type serverFlags struct {
	listen, dataDir, clientURL, peerURL                string
	etcdEndpoints                                      []string
	etcd                                               etcdflags.Auth
	auth, authConfig                                   string
	tenantTypes, vniRanges, tunnelIDRanges, geneveVNIs string
	vlanRanges, flatNetworks                           string
	physnetMTU                                         int
	maxFixedIPs, maxTxnOps                             int
	quota                                              api.Quota
	dhcpAgentsPerNetwork                               int
	agentDownTime                                      time.Duration
	debug                                              bool
}

func init() {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the vland API server (Neutron v2.0 API, Keystone v3 tokens)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runServer(ctx, cfg)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", server.DefaultListen, "API listen address")
	fl.StringVar(&f.dataDir, "data-dir", "/var/lib/vland", "embedded etcd data directory")
	fl.StringSliceVar(&f.etcdEndpoints, "etcd-endpoints", nil, "external etcd cluster (a,b,c) instead of the embedded node")
	f.etcd.Register(fl, "etcd user of the external cluster, with the vland-server role (see: vland etcd provision)",
		"file holding the etcd user's password")
	fl.StringVar(&f.clientURL, "etcd-client-url", "http://127.0.0.1:2379", "embedded etcd client URL (agents connect to it)")
	fl.StringVar(&f.peerURL, "etcd-peer-url", "", "embedded etcd peer URL (default: a free 127.0.0.1 port)")
	fl.StringVar(&f.auth, "auth", string(keystone.ModeKeystone), "authentication: keystone or noauth")
	fl.StringVar(&f.authConfig, "auth-config", "", "Keystone users file (YAML)")
	fl.StringVar(&f.tenantTypes, "tenant-network-types", "vxlan", "tenant network types, in order of preference")
	fl.StringVar(&f.vniRanges, "vni-ranges", "1000:2000", "VXLAN VNI ranges for tenant networks")
	fl.StringVar(&f.tunnelIDRanges, "tunnel-id-ranges", "1:1000", "GRE tunnel id ranges for tenant networks")
	fl.StringVar(&f.geneveVNIs, "geneve-vni-ranges", "1:1000", "Geneve VNI ranges for tenant networks")
	fl.StringVar(&f.vlanRanges, "network-vlan-ranges", "", "VLAN physnets and ranges (physnet1:100:200,physnet2)")
	fl.StringVar(&f.flatNetworks, "flat-networks", "", "physnets allowed for flat networks (* for any)")
	fl.IntVar(&f.physnetMTU, "global-physnet-mtu", 1500, "underlay MTU")
	fl.IntVar(&f.maxFixedIPs, "max-fixed-ips-per-port", 100, "most fixed IPs one port may have")
	fl.IntVar(&f.maxTxnOps, "etcd-max-txn-ops", 1024, "the etcd's --max-txn-ops (the embedded node's is 1024; etcd's default is 128)")
	fl.IntVar(&f.quota.Network, "quota-network", 100, "default networks per project (-1: unlimited)")
	fl.IntVar(&f.quota.Subnet, "quota-subnet", 100, "default subnets per project (-1: unlimited)")
	fl.IntVar(&f.quota.Port, "quota-port", 500, "default ports per project (-1: unlimited)")
	fl.IntVar(&f.quota.Router, "quota-router", 10, "default routers per project (-1: unlimited)")
	fl.IntVar(&f.quota.FloatingIP, "quota-floatingip", 50, "default floating IPs per project (-1: unlimited)")
	fl.IntVar(&f.dhcpAgentsPerNetwork, "dhcp-agents-per-network", scheduler.DefaultAgentsPerNetwork, "DHCP hosts serving each network with DHCP enabled")
	fl.DurationVar(&f.agentDownTime, "agent-down-time", scheduler.DefaultAgentDownTime, "how long a dead DHCP host keeps its networks before they move")
	fl.BoolVar(&f.debug, "debug", false, "log every API request")
	rootCmd.AddCommand(cmd)
}

// config turns the flags into a server.Config.
func (f *serverFlags) config() (server.Config, error) {
	mode, err := keystone.ParseMode(f.auth)
	if err != nil {
		return server.Config{}, err
	}
	cfg := server.Config{
		Listen: f.listen, DataDir: f.dataDir, EtcdEndpoints: f.etcdEndpoints,
		EtcdClientURL: f.clientURL, EtcdPeerURL: f.peerURL, Auth: mode,
		MaxFixedIPsPerPort: f.maxFixedIPs, MaxTxnOps: f.maxTxnOps, DefaultQuota: f.quota,
		DHCPAgentsPerNetwork: f.dhcpAgentsPerNetwork, AgentDownTime: f.agentDownTime,
	}
	if f.dhcpAgentsPerNetwork < 0 {
		return cfg, fmt.Errorf("--dhcp-agents-per-network must be at least 1")
	}
	if f.etcd.Set() {
		if len(f.etcdEndpoints) == 0 {
			return cfg, errors.New("--etcd-username, --etcd-password-file and the TLS flags are for an external cluster (--etcd-endpoints); the embedded etcd makes its own credentials")
		}
		cc, err := f.etcd.Config(f.etcdEndpoints, store.ServerUser)
		if err != nil {
			return cfg, err
		}
		cfg.EtcdUsername, cfg.EtcdPassword, cfg.EtcdTLS = cc.Username, cc.Password, cc.TLS
	}
	if f.debug {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if f.authConfig != "" {
		kc, err := keystone.LoadConfig(f.authConfig)
		if err != nil {
			return cfg, err
		}
		cfg.Keystone = &kc
	}
	cfg.Segments, err = f.segments()
	return cfg, err
}

func (f *serverFlags) segments() (segment.Config, error) {
	c := segment.Config{
		TenantNetworkTypes: segment.ParseList(f.tenantTypes),
		FlatNetworks:       segment.ParseList(f.flatNetworks),
		GlobalPhysnetMTU:   f.physnetMTU,
	}
	var err error
	for _, r := range []struct {
		flag, val string
		dst       *[]segment.Range
	}{{"vni-ranges", f.vniRanges, &c.VNIRanges}, {"tunnel-id-ranges", f.tunnelIDRanges, &c.TunnelIDRanges},
		{"geneve-vni-ranges", f.geneveVNIs, &c.GeneveVNIRanges}} {
		if *r.dst, err = segment.ParseRanges(r.val); err != nil {
			return c, fmt.Errorf("--%s: %w", r.flag, err)
		}
	}
	if c.NetworkVLANRanges, err = segment.ParseVLANRanges(f.vlanRanges); err != nil {
		return c, fmt.Errorf("--network-vlan-ranges: %w", err)
	}
	return c, c.Validate()
}

func runServer(ctx context.Context, cfg server.Config) error {
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	err = srv.Serve(ctx)
	slog.Info("vland server stopped", "err", err)
	return err
}
