package dhcp

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The files of one network's dnsmasq, in its state directory. dnsmasq
// rereads the first three on SIGHUP; the rest of its setup is its command
// line, so a change there (subnets, MTU, domain, upstream servers) is what
// restarts it.
const (
	hostsFile    = "host"       // --dhcp-hostsfile: MAC -> IP, hostname (static leases)
	addnFile     = "addn_hosts" // --addn-hosts: IP -> FQDN and short name (DNS)
	optsFile     = "opts"       // --dhcp-optsfile: per-subnet and per-port options
	pidFile      = "pid"
	leasesFile   = "leases"
	logFile      = "dnsmasq.log"
	ifaceFile    = "iface" // the OVS-side device name, for cleanup after a restart
	subnetTagPfx = "subnet-"
	portTagPfx   = "port-"
)

// hostsContent: one dhcp-host per address, "MAC,IP,NAME"; a port with
// extra options is tagged so they apply to it: "MAC,set:port-ID,IP,NAME".
// Only those, as in Neutron: dnsmasq 2.90 (Debian 12) crashes on SIGHUP
// once a host with a set: tag holds a lease (the supervisor then restarts
// it; leases are kept in the lease file).
func hostsContent(n Network) []byte {
	var b bytes.Buffer
	for _, h := range n.Hosts {
		if len(h.Opts) > 0 {
			fmt.Fprintf(&b, "%s,set:%s%s,%s,%s\n", h.MAC, portTagPfx, h.PortID, h.IP, h.Name)
		} else {
			fmt.Fprintf(&b, "%s,%s,%s\n", h.MAC, h.IP, h.Name)
		}
	}
	return b.Bytes()
}

// addnContent: "IP FQDN NAME", so names answer inside the network's domain
// and as short names, with reverse (PTR) answers for the addresses.
func addnContent(n Network) []byte {
	var b bytes.Buffer
	for _, h := range n.Hosts {
		fmt.Fprintf(&b, "%s\t%s.%s %s\n", h.IP, h.Name, n.Domain, h.Name)
	}
	return b.Bytes()
}

// optsContent: per subnet the router (none when the subnet has no
// gateway), the DNS server (the DHCP port: it answers the network's names
// and forwards the rest upstream) and host routes; per port its extra
// options, first, so they win over the subnet's.
func optsContent(n Network) []byte {
	var b bytes.Buffer
	seen := map[string]bool{}
	for _, h := range n.Hosts {
		if seen[h.PortID] {
			continue
		}
		seen[h.PortID] = true
		for _, o := range h.Opts {
			fmt.Fprintf(&b, "tag:%s%s,%s,%s\n", portTagPfx, h.PortID, optName(o.Name), o.Value)
		}
	}
	for _, s := range n.Subnets {
		tag := "tag:" + subnetTagPfx + s.ID
		if s.Gateway.IsValid() {
			fmt.Fprintf(&b, "%s,option:router,%s\n", tag, s.Gateway)
		} else {
			fmt.Fprintf(&b, "%s,option:router\n", tag)
		}
		fmt.Fprintf(&b, "%s,option:dns-server,%s\n", tag, s.DNS)
		routes := s.HostRoutes
		if n.Metadata && s.Isolated {
			// Isolated metadata: the metadata address via the DHCP port.
			routes = append(slices.Clone(routes), Route{Destination: metadataPrefix, NextHop: s.DNS})
		}
		if len(routes) > 0 {
			// A client that gets option 121 ignores option 3 (RFC 3442):
			// the default route goes in with the host routes, as Neutron does.
			var r []string
			for _, hr := range routes {
				r = append(r, hr.Destination.String(), hr.NextHop.String())
			}
			if s.Gateway.IsValid() {
				r = append(r, "0.0.0.0/0", s.Gateway.String())
			}
			fmt.Fprintf(&b, "%s,option:classless-static-route,%s\n", tag, strings.Join(r, ","))
			fmt.Fprintf(&b, "%s,249,%s\n", tag, strings.Join(r, ","))
		}
	}
	return b.Bytes()
}

// metadataPrefix is the metadata service's address as a host route.
var metadataPrefix = netip.MustParsePrefix("169.254.169.254/32")

// optName is Neutron's spelling: a number stays a number, a name becomes
// option:NAME.
func optName(name string) string {
	if _, err := strconv.Atoi(name); err == nil || strings.HasPrefix(name, "option:") {
		return name
	}
	return "option:" + name
}

// argv is dnsmasq's command line for network n, state directory dir and
// interface nic, as Neutron's DHCP agent builds it: static leases only,
// no /etc/hosts or resolv.conf, answers for the network's domain local.
func argv(binary, dir, nic string, n Network, lease time.Duration) []string {
	a := []string{binary,
		"--no-hosts", "--no-resolv",
		"--pid-file=" + filepath.Join(dir, pidFile),
		"--dhcp-hostsfile=" + filepath.Join(dir, hostsFile),
		"--addn-hosts=" + filepath.Join(dir, addnFile),
		"--dhcp-optsfile=" + filepath.Join(dir, optsFile),
		"--dhcp-leasefile=" + filepath.Join(dir, leasesFile),
		"--log-facility=" + filepath.Join(dir, logFile),
		"--interface=" + nic, "--except-interface=lo", "--bind-interfaces",
		"--conf-file=/dev/null",
		"--dhcp-authoritative",
		"--domain=" + n.Domain, "--local=/" + n.Domain + "/",
	}
	size := 0
	upstream := map[netip.Addr]bool{}
	for _, s := range n.Subnets {
		mask := net.IP(net.CIDRMask(s.CIDR.Bits(), 32)).String()
		a = append(a, fmt.Sprintf("--dhcp-range=set:%s%s,%s,static,%s,%ds",
			subnetTagPfx, s.ID, s.CIDR.Addr(), mask, int(lease.Seconds())))
		size += 1 << min(32-s.CIDR.Bits(), 16)
		for _, u := range s.Upstream {
			if !upstream[u] {
				upstream[u] = true
				a = append(a, "--server="+u.String())
			}
		}
	}
	a = append(a, fmt.Sprintf("--dhcp-lease-max=%d", min(size, 1<<16)))
	if n.MTU > 0 {
		a = append(a, fmt.Sprintf("--dhcp-option-force=option:mtu,%d", n.MTU))
	}
	return a
}

// writeIfChanged writes data to dir/name atomically (temp file, rename) if
// it differs from what is there, and reports whether it wrote.
func writeIfChanged(dir, name string, data []byte) (bool, error) {
	path := filepath.Join(dir, name)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	tmp, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return false, fmt.Errorf("dhcp: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, fmt.Errorf("dhcp: write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return false, fmt.Errorf("dhcp: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("dhcp: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("dhcp: write %s: %w", path, err)
	}
	return true, nil
}

// writeFiles writes the network's three reloadable files and reports
// whether any changed.
func writeFiles(dir string, n Network) (bool, error) {
	changed := false
	for _, f := range []struct {
		name string
		data []byte
	}{{hostsFile, hostsContent(n)}, {addnFile, addnContent(n)}, {optsFile, optsContent(n)}} {
		c, err := writeIfChanged(dir, f.name, f.data)
		if err != nil {
			return changed, err
		}
		changed = changed || c
	}
	return changed, nil
}
