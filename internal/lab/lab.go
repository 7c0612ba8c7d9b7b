// Package lab builds a whole multi-host vland cloud on one machine, for
// demos and end-to-end tests: a `vland server` (embedded etcd) listening on
// 127.0.0.1, and N hosts, each a network namespace NAME-hN with its own
// ovsdb-server and ovs-vswitchd (netdev datapath), a data NIC eth1 on an
// underlay Linux bridge in the namespace NAME-fab, and a `vland agent`.
// VMs are namespaces NAME-vm-VM plugged into a host's br-int like a real
// VM's tap.
//
// Everything a lab makes lives in its own namespaces or on 127.0.0.1; the
// root namespace gets no lab address, route or bridge. Everything it makes
// is found again from the lab's name and directory, so Down (or Cleanup
// after a crash) removes all of it. Labs with different names coexist.
//
// A lab is driven from several processes (`vland lab up`, then `vland lab
// vm create` ...): its state lives in DIR/lab.json and DIR/vms/*.json, and
// Load rebuilds a *Lab from them.
package lab

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/ovs/daemon"
)

// Sentinel errors.
var (
	ErrBadConfig  = errors.New("lab: bad config")
	ErrExists     = errors.New("lab: already exists")
	ErrNotFound   = errors.New("lab: not found")
	ErrNoSuchHost = errors.New("lab: no such host")
	ErrNoSuchVM   = errors.New("lab: no such vm")
)

// Defaults.
const (
	DefaultName  = "vland"
	DefaultHosts = 2
	// BaseDir holds one directory per lab, named after it.
	BaseDir = "/var/lib/vland/lab"
	// underlayNet is the underlay of every lab; labs never share a fabric,
	// so they may all use the same addresses.
	underlayNet = "172.31.0.0/24"
	maxHosts    = 200
)

// nameRE restricts lab names: no '-', so a namespace NAME-... belongs to
// exactly one lab, and short, so namespace and socket paths stay short.
var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)

// Config describes a lab to build. The zero value of every field has a
// default (see withDefaults).
type Config struct {
	// Name of the lab, [a-z][a-z0-9]{0,15}; default "vland".
	Name string
	// Hosts is the number of hosts; default 2. Host 1 is also the network node.
	Hosts int
	// Dir holds the lab's state, logs, pidfiles and sockets; default
	// /var/lib/vland/lab/NAME. Keep it short: unix sockets live under it.
	Dir string
	// Binary is the vland executable that runs the server and the agents;
	// default os.Executable(). The agents run as the vland-agent binary in
	// the same directory when there is one, else as `vland agent`.
	Binary string
	// TunnelTypes the agents offer and the server uses for tenant networks,
	// preferred first; default [vxlan gre].
	TunnelTypes []string
	// ServerArgs are appended to the `vland server` command line.
	ServerArgs []string
	// AgentArgs are appended to every agent's command line.
	AgentArgs []string
	// DHCPHosts is how many hosts (host1 up) hold the dhcp role; default
	// 1, the network node.
	DHCPHosts int
	// NetworkNodes is how many hosts (host1 up) are network nodes: roles
	// compute, dhcp, l3, metadata and, with External, their own br-ex
	// cabled to the external network; default 1. Two give routers a host
	// to fail over to.
	NetworkNodes int
	// External also builds the external network: host1's br-ex (physnet
	// "public", flat) cabled to a namespace NAME-ext holding the gateway
	// 203.0.113.1 and an "internet" host 198.51.100.10.
	External bool
	// Members are projects that each get a member user of the same name
	// (password: the lab's admin password), so tests can act as a project
	// and not as admin: see MemberClient and VMSpec.AsMember.
	Members []string
	// Out receives progress lines; nil discards them.
	Out io.Writer
}

// Lab is a built lab. Its methods are safe for concurrent use.
type Lab struct {
	st  State
	out io.Writer

	mu     sync.Mutex
	client *client.Client
	ovs    map[int]*daemon.OVS
}

// Name is the lab's name.
func (l *Lab) Name() string { return l.st.Name }

// Dir is the lab's directory.
func (l *Lab) Dir() string { return l.st.Dir }

// State returns a copy of the lab's recorded state.
func (l *Lab) State() State { return l.st }

// APIURL is the root URL of the lab's API (without /v2.0).
func (l *Lab) APIURL() string { return l.st.APIURL }

// ClientConfig is how to reach the lab's API as admin.
func (l *Lab) ClientConfig() client.Config {
	return client.Config{
		URL:         l.st.APIURL,
		AuthURL:     l.st.AuthURL,
		AuthType:    client.AuthPassword,
		Username:    adminUser,
		Password:    l.st.AdminPassword,
		ProjectName: adminProject,
	}
}

// NumHosts is the number of hosts.
func (l *Lab) NumHosts() int { return len(l.st.Hosts) }

// HostInfo returns host i (1-based).
func (l *Lab) HostInfo(i int) (HostState, error) {
	if i < 1 || i > len(l.st.Hosts) {
		return HostState{}, fmt.Errorf("%w: %d (lab %s has hosts 1-%d)", ErrNoSuchHost, i, l.st.Name, len(l.st.Hosts))
	}
	return l.st.Hosts[i-1], nil
}

// ParseHost accepts "hostN", "hN", "N" or a host's namespace name and
// returns N.
func (l *Lab) ParseHost(s string) (int, error) {
	for i, h := range l.st.Hosts {
		if s == h.Name || s == h.NetNS {
			return i + 1, nil
		}
	}
	t := strings.TrimPrefix(strings.TrimPrefix(s, "host"), "h")
	if n, err := strconv.Atoi(t); err == nil && n >= 1 && n <= len(l.st.Hosts) {
		return n, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrNoSuchHost, s)
}

// Names of things a lab makes, all derived from the lab name and host number.
func hostName(i int) string              { return "host" + strconv.Itoa(i) }
func hostNetNS(lab string, i int) string { return lab + "-h" + strconv.Itoa(i) }
func fabricNetNS(lab string) string      { return lab + "-fab" }
func vmNetNS(lab, vm string) string      { return lab + "-vm-" + vm }
func hostDir(dir string, i int) string   { return filepath.Join(dir, "h"+strconv.Itoa(i)) }

// underlayIP is host i's address on the underlay: 172.31.0.(10+i)/24.
func underlayIP(i int) netip.Prefix {
	p := netip.MustParsePrefix(underlayNet)
	a := p.Addr().As4()
	a[3] = byte(10 + i)
	return netip.PrefixFrom(netip.AddrFrom4(a), p.Bits())
}

// DirFor is the default directory of the lab called name.
func DirFor(name string) string { return filepath.Join(BaseDir, name) }

// ValidName reports whether name is usable as a lab name.
func ValidName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: lab name %q must match %s", ErrBadConfig, name, nameRE)
	}
	return nil
}
