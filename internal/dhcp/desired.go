// Package dhcp is the agent's DHCP and DNS service: for every network that
// has a DHCP port (device_owner network:dhcp) bound to this host, a
// namespace qdhcp-<network id> holding that port's NIC, plugged into br-int
// like a VM's, and a dnsmasq bound to it that hands out the network's fixed
// IPs as static leases and answers DNS for the network's port names, as
// Neutron's DHCP agent does.
//
// It is its own reconciler: Compute derives the desired state (one Network
// per served network) from the store, purely, and Server.Set makes the host
// match it, touching only what changed since the last Set. Port changes
// rewrite dnsmasq's files and reload it with SIGHUP; it is never restarted
// for them, and a dnsmasq left running by an earlier agent is adopted, so
// leases and renewals never stop.
package dhcp

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/agent"
)

// DeviceOwner marks a network's DHCP port.
const DeviceOwner = "network:dhcp"

// DefaultDomain is the DNS domain of a network without dns_domain, as Neutron's.
const DefaultDomain = "openstacklocal"

// Network is what serving one network on this host takes.
type Network struct {
	ID      string
	MTU     int
	Domain  string   // without the trailing dot
	Port    Port     // this host's DHCP port on the network
	Subnets []Subnet // its DHCP-enabled IPv4 subnets, by id
	Hosts   []Host   // every port with an address on those subnets, by address
	// Metadata: this network's namespace serves the metadata service on
	// 169.254.169.254:80 (isolated metadata: the service is on and a
	// subnet has no router interface). Set by the Server, not Compute.
	Metadata bool
}

// Port is the DHCP port: its NIC in the namespace gets its MAC and addresses.
type Port struct {
	ID    string
	MAC   string
	Addrs []netip.Prefix // fixed IPs with their subnet's prefix length
}

// Subnet is one DHCP-enabled subnet.
type Subnet struct {
	ID         string
	CIDR       netip.Prefix
	Gateway    netip.Addr   // invalid: no gateway (gateway_ip null)
	DNS        netip.Addr   // the DHCP port's address on it: the VMs' DNS server
	Upstream   []netip.Addr // dns_nameservers: where names outside the network go
	HostRoutes []Route
	// Isolated: no router interface has an address on the subnet, so no
	// router namespace answers 169.254.169.254 for it (Neutron's
	// enable_isolated_metadata serves it from the DHCP namespace then).
	Isolated bool
}

// Route is a host route pushed by DHCP (options 121 and 249).
type Route struct {
	Destination netip.Prefix
	NextHop     netip.Addr
}

// Host is one address of one port: a static lease and a DNS name.
type Host struct {
	PortID string
	MAC    string
	IP     netip.Addr
	Name   string // dns_name, else host-10-1-0-11
	Opts   []Opt  // extra_dhcp_opts for IPv4
}

// Opt is one extra DHCP option of a port (extension extra_dhcp_opt).
type Opt struct {
	Name  string // a dnsmasq option name (e.g. "bootfile-name") or number
	Value string
}

// Compute returns the networks host serves, by network id: those with a
// DHCP port bound to host and at least one DHCP-enabled IPv4 subnet on
// which that port has an address. It is pure.
func Compute(host string, snap agent.Snapshot) map[string]Network {
	out := map[string]Network{}
	// Only the networks host serves collect their ports, as pointers to
	// the snapshot's (shared, never written): most networks of a compute
	// host are served elsewhere.
	byNet := map[string][]*api.Port{}
	for _, p := range snap.Ports {
		if p.DeviceOwner == DeviceOwner && p.BindingHostID == host {
			byNet[p.NetworkID] = nil
		}
	}
	for _, p := range snap.Ports {
		if ports, ok := byNet[p.NetworkID]; ok {
			byNet[p.NetworkID] = append(ports, p)
		}
	}
	subnetsOf := map[string][]api.Subnet{}
	for _, s := range snap.Subnets {
		if s.EnableDHCP && s.IPVersion == 4 {
			subnetsOf[s.NetworkID] = append(subnetsOf[s.NetworkID], s)
		}
	}
	for netID, ports := range byNet {
		n, ok := snap.Networks[netID]
		if !ok || len(subnetsOf[netID]) == 0 {
			continue
		}
		sort.Slice(ports, func(i, j int) bool { return ports[i].ID < ports[j].ID })
		i := slices.IndexFunc(ports, func(p *api.Port) bool {
			return p.DeviceOwner == DeviceOwner && p.BindingHostID == host
		})
		if i < 0 {
			continue
		}
		if nw, ok := network(n, *ports[i], subnetsOf[netID], ports); ok {
			out[netID] = nw
		}
	}
	return out
}

// network builds one served network; ok is false if the DHCP port has no
// address on a DHCP-enabled subnet.
func network(n api.Network, dport api.Port, subs []api.Subnet, ports []*api.Port) (Network, bool) {
	nw := Network{ID: n.ID, MTU: n.MTU, Domain: strings.TrimSuffix(n.DNSDomain, "."),
		Port: Port{ID: dport.ID, MAC: strings.ToLower(dport.MACAddress)}}
	if nw.Domain == "" {
		nw.Domain = DefaultDomain
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].ID < subs[j].ID })
	cidrs := map[string]netip.Prefix{}
	for _, s := range subs {
		if c, err := netip.ParsePrefix(s.CIDR); err == nil {
			cidrs[s.ID] = c.Masked()
		}
	}
	dns := map[string]netip.Addr{}
	for _, f := range dport.FixedIPs {
		c, ok := cidrs[f.SubnetID]
		a, err := netip.ParseAddr(f.IPAddress)
		if !ok || err != nil || !a.Is4() {
			continue
		}
		nw.Port.Addrs = append(nw.Port.Addrs, netip.PrefixFrom(a, c.Bits()))
		if _, seen := dns[f.SubnetID]; !seen {
			dns[f.SubnetID] = a
		}
	}
	routed := map[string]bool{} // subnets with a router interface
	for _, p := range ports {
		if isRouterInterface(p.DeviceOwner) {
			for _, f := range p.FixedIPs {
				routed[f.SubnetID] = true
			}
		}
	}
	for _, s := range subs {
		c, ok := cidrs[s.ID]
		if !ok || !dns[s.ID].IsValid() {
			continue // the DHCP port has no address here: nothing can serve it
		}
		sub := subnet(s, c, dns[s.ID])
		sub.Isolated = !routed[s.ID]
		nw.Subnets = append(nw.Subnets, sub)
	}
	if len(nw.Subnets) == 0 {
		return Network{}, false
	}
	for _, p := range ports {
		for _, f := range p.FixedIPs {
			if _, ok := dns[f.SubnetID]; !ok {
				continue
			}
			a, err := netip.ParseAddr(f.IPAddress)
			if err != nil {
				continue
			}
			nw.Hosts = append(nw.Hosts, Host{PortID: p.ID, MAC: strings.ToLower(p.MACAddress), IP: a,
				Name: hostname(p, a), Opts: extraOpts(p)})
		}
	}
	sort.Slice(nw.Hosts, func(i, j int) bool { return nw.Hosts[i].IP.Less(nw.Hosts[j].IP) })
	return nw, true
}

func subnet(s api.Subnet, cidr netip.Prefix, dns netip.Addr) Subnet {
	out := Subnet{ID: s.ID, CIDR: cidr, DNS: dns}
	if s.GatewayIP != nil {
		if gw, err := netip.ParseAddr(*s.GatewayIP); err == nil {
			out.Gateway = gw
		}
	}
	for _, ns := range s.DNSNameservers {
		if a, err := netip.ParseAddr(ns); err == nil {
			out.Upstream = append(out.Upstream, a)
		}
	}
	for _, r := range s.HostRoutes {
		d, err1 := netip.ParsePrefix(r.Destination)
		nh, err2 := netip.ParseAddr(r.NextHop)
		if err1 == nil && err2 == nil && d.Addr().Is4() {
			out.HostRoutes = append(out.HostRoutes, Route{Destination: d.Masked(), NextHop: nh})
		}
	}
	return out
}

// isRouterInterface tells whether a port owner is a router's interface
// on an internal network (legacy, DVR and HA routers, as Neutron).
func isRouterInterface(owner string) bool {
	switch owner {
	case "network:router_interface", "network:router_interface_distributed", "network:ha_router_replicated_interface":
		return true
	}
	return false
}

// dashes turns an address into a DNS label (built once: building a
// Replacer per host was a tenth of a network node's allocation).
var dashes = strings.NewReplacer(".", "-", ":", "-")

// hostname is a port's DNS name: its dns_name, else Neutron's default
// host-<address with dashes>.
func hostname(p *api.Port, a netip.Addr) string {
	if p.DNSName != "" {
		return strings.ToLower(strings.TrimSuffix(p.DNSName, "."))
	}
	return "host-" + dashes.Replace(a.String())
}

// extraOpts reads a port's IPv4 extra_dhcp_opts ({opt_name, opt_value,
// ip_version}; a missing ip_version is 4, as in Neutron).
func extraOpts(p *api.Port) []Opt {
	var out []Opt
	for _, o := range p.ExtraDHCPOpts {
		name, _ := o["opt_name"].(string)
		if name == "" {
			continue
		}
		if v, ok := o["ip_version"]; ok && v != nil && fmt.Sprint(v) != "4" {
			continue
		}
		val := ""
		if v := o["opt_value"]; v != nil {
			val = fmt.Sprint(v)
		}
		out = append(out, Opt{Name: name, Value: val})
	}
	return out
}
