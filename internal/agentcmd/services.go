package agentcmd

import (
	"slices"
	"time"

	"github.com/spf13/pflag"

	"github.com/vland/vland/internal/agent"
	"github.com/vland/vland/internal/dhcp"
	"github.com/vland/vland/internal/l3"
	"github.com/vland/vland/internal/metadata"
	"github.com/vland/vland/internal/store"
)

// dhcpFlags are the DHCP role's options, named after Neutron's DHCP agent
// ones where one exists.
type dhcpFlags struct {
	netnsDir      string
	stateDir      string
	ovsNetNS      string
	leaseDuration time.Duration
	// isolatedMetadata: Neutron's enable_isolated_metadata (default on here).
	isolatedMetadata bool
}

func (f *dhcpFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.netnsDir, "netns-dir", "/run/netns", "where the agent binds the namespaces it makes (qdhcp-...)")
	fs.StringVar(&f.stateDir, "dhcp-state-dir", "/var/lib/vland/dhcp", "dnsmasq files, pid and leases, one directory per network")
	fs.StringVar(&f.ovsNetNS, "ovs-netns", "", "named namespace of Open vSwitch's ports and underlay bridge (default: the agent's own)")
	fs.DurationVar(&f.leaseDuration, "dhcp-lease-duration", 24*time.Hour, "DHCP lease time (dnsmasq's minimum is 2m)")
	fs.BoolVar(&f.isolatedMetadata, "enable-isolated-metadata", true,
		"serve 169.254.169.254 from the DHCP namespace of networks with a subnet no router is on (and route it by DHCP option 121)")
}

// agentServices builds the network services of the agent's roles. The
// metadata proxies (one per DHCP or router namespace) answer from st, the
// agent's own store connection.
func agentServices(f agentFlags, cfg agent.Config, st store.Store) []agent.Service {
	var out []agent.Service
	proxies := metadata.NewProxies(metadata.NewBackend(st, cfg.Log), cfg.Log)
	if slices.Contains(f.roles, "dhcp") {
		var md dhcp.MetadataProxies
		if f.dhcp.isolatedMetadata {
			md = proxies
		}
		out = append(out, dhcp.New(dhcp.Config{
			Host:          cfg.Host,
			NetnsDir:      f.dhcp.netnsDir,
			StateDir:      f.dhcp.stateDir,
			OVSNetNS:      f.dhcp.ovsNetNS,
			OVSDB:         f.ovsdb,
			Bridge:        cfg.IntegrationBridge,
			LeaseDuration: f.dhcp.leaseDuration,
			Metadata:      md,
			Log:           cfg.Log,
		}))
	}
	// Routers: every qrouter- namespace redirects 169.254.169.254:80 to
	// :9697, where a metadata proxy with the router's identity listens.
	if slices.Contains(f.roles, "l3") {
		out = append(out, l3.New(l3.Config{
			Host:                cfg.Host,
			NetnsDir:            f.dhcp.netnsDir,
			OVSNetNS:            f.dhcp.ovsNetNS,
			OVSDB:               f.ovsdb,
			Bridge:              cfg.IntegrationBridge,
			RouterNamespaceUp:   proxies.RouterUpHook,
			RouterNamespaceDown: proxies.RouterNamespaceDown,
			Log:                 cfg.Log,
		}))
	}
	return out
}
