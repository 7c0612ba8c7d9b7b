package lab

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/vland/vland/internal/netns"
)

// Network services in the lab. A host's agent binds the namespaces it makes
// (qdhcp-<network>) in the host's own directory DIR/hN/netns rather than
// /run/netns, and HostCommand shows that directory as /run/netns, so
// `vland lab host exec host1 -- ip netns` lists host1's namespaces only,
// with the names a real host has, and two hosts may each serve the same
// network.

// networkNodeRoles are the network node's roles, as in the lab.
var networkNodeRoles = []string{"compute", "dhcp", "l3", "metadata"}

// hostRoles are host i's agent roles.
func hostRoles(i, dhcpHosts, networkNodes int) []string {
	switch {
	case i <= max(networkNodes, 1):
		return networkNodeRoles
	case i <= dhcpHosts:
		return []string{"compute", "dhcp"}
	}
	return []string{"compute"}
}

func hostNetnsDir(h HostState) string { return filepath.Join(h.Dir, "netns") }
func hostDHCPDir(h HostState) string  { return filepath.Join(h.Dir, "dhcp") }

// serviceArgs are the agent flags of the host's network services.
func serviceArgs(h HostState) []string {
	roles := h.Roles
	if len(roles) == 0 {
		roles = []string{"compute"}
	}
	return []string{"--roles", strings.Join(roles, ","),
		"--netns-dir", hostNetnsDir(h),
		"--dhcp-state-dir", hostDHCPDir(h),
		"--ovs-netns", h.NetNS,
	}
}

// hostMountArgv wraps argv so it runs with the host's namespace directory
// mounted on /run/netns. `ip netns exec` has already given the command a
// mount namespace of its own (a slave of the root's), so the mount is seen
// by nothing else.
func hostMountArgv(h HostState, argv []string) []string {
	return append([]string{"sh", "-c", `mkdir -p "$0" && mount --rbind "$0" /run/netns && exec "$@"`, hostNetnsDir(h)}, argv...)
}

// cleanupServices unmounts every host's namespaces (their directories
// cannot be removed while bound) and removes the VMs' /etc/netns entries.
func cleanupServices(name, dir string) []error {
	hosts, _ := filepath.Glob(filepath.Join(dir, "h*", "netns"))
	for _, d := range hosts {
		netns.UnmountAll(d)
	}
	etc, _ := filepath.Glob(filepath.Join(etcNetns, name+"-vm-*"))
	var errs []error
	for _, d := range etc {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	if len(etc) > 0 {
		_ = os.Remove(etcNetns) // only if now empty
	}
	return errs
}
