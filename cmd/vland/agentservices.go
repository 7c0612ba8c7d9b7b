package main

import (
	"slices"
	"time"

	"github.com/spf13/pflag"

	"github.com/vland/vland/internal/agent"
	"github.com/vland/vland/internal/dhcp"
	"github.com/vland/vland/internal/l3"
)

// dhcpFlags are the DHCP role's options, named after Neutron's DHCP agent
// ones where one exists.
type dhcpFlags struct {
	netnsDir      string
	stateDir      string
	ovsNetNS      string
	leaseDuration time.Duration
}

func (f *dhcpFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.netnsDir, "netns-dir", "/run/netns", "where the agent binds the namespaces it makes (qdhcp-...)")
	fs.StringVar(&f.stateDir, "dhcp-state-dir", "/var/lib/vland/dhcp", "dnsmasq files, pid and leases, one directory per network")
	fs.StringVar(&f.ovsNetNS, "ovs-netns", "", "named namespace of Open vSwitch's ports (default: the agent's own)")
	fs.DurationVar(&f.leaseDuration, "dhcp-lease-duration", 24*time.Hour, "DHCP lease time (dnsmasq's minimum is 2m)")
}

// agentServices builds the network services of the agent's roles.
func agentServices(f agentFlags, cfg agent.Config) []agent.Service {
	var out []agent.Service
	if slices.Contains(f.roles, "dhcp") {
		out = append(out, dhcp.New(dhcp.Config{
			Host:          cfg.Host,
			NetnsDir:      f.dhcp.netnsDir,
			StateDir:      f.dhcp.stateDir,
			OVSNetNS:      f.dhcp.ovsNetNS,
			OVSDB:         f.ovsdb,
			Bridge:        cfg.IntegrationBridge,
			LeaseDuration: f.dhcp.leaseDuration,
			Log:           cfg.Log,
		}))
	}
	if slices.Contains(f.roles, "l3") {
		out = append(out, l3.New(l3.Config{
			Host:     cfg.Host,
			NetnsDir: f.dhcp.netnsDir,
			OVSNetNS: f.dhcp.ovsNetNS,
			OVSDB:    f.ovsdb,
			Bridge:   cfg.IntegrationBridge,
			Log:      cfg.Log,
		}))
	}
	return out
}
