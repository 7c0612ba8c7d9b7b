package service

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
)

// DefaultDNSDomain is the domain of port names on networks without a
// dns_domain (Neutron's dns_domain option default).
const DefaultDNSDomain = "openstacklocal."

var dnsLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// checkDNSName validates a PQDN or FQDN as Neutron's dns validators do.
func checkDNSName(attr, name string, maxLen int) error {
	if name == "" {
		return nil
	}
	bad := func(reason string) error {
		return fault.BadAttr(attr, "'%s' not a valid PQDN or FQDN. Reason: %s", name, reason)
	}
	if len(name) > maxLen {
		return bad(fmt.Sprintf("'%s' exceeds the %d character FQDN limit", name, maxLen))
	}
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	for _, l := range labels {
		if l == "" {
			return bad("Encountered an empty component")
		}
		if !dnsLabel.MatchString(l) {
			return bad("Name '" + l + "' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen")
		}
	}
	if last := labels[len(labels)-1]; len(labels) > 1 && strings.Trim(last, "0123456789") == "" {
		return bad("TLD '" + last + "' must not be all numeric")
	}
	return nil
}

// applyPortDNSDHCP sets dns_name and extra_dhcp_opts from a create or
// update request. Options merge as Neutron's: an option (by name and IP
// version) is added or replaced; one with opt_value null is removed.
func applyPortDNSDHCP(p *api.Port, r *PortRequest) error {
	if r.DNSName.Set {
		if err := checkDNSName("dns_name", r.DNSName.V, 255); err != nil {
			return err
		}
		p.DNSName = r.DNSName.V
	}
	if !r.ExtraDHCPOpts.Set {
		return nil
	}
	opts := append([]map[string]any(nil), p.ExtraDHCPOpts...)
	for _, raw := range r.ExtraDHCPOpts.V {
		o, remove, err := dhcpOpt(raw)
		if err != nil {
			return err
		}
		i := indexOpt(opts, o)
		switch {
		case remove && i >= 0:
			opts = append(opts[:i], opts[i+1:]...)
		case remove:
		case i >= 0:
			opts[i] = o
		default:
			opts = append(opts, o)
		}
	}
	p.ExtraDHCPOpts = opts
	return nil
}

// dhcpOpt validates one extra_dhcp_opts entry into its stored form:
// opt_name and opt_value strings, ip_version 4 or 6 (default 4).
func dhcpOpt(raw map[string]any) (map[string]any, bool, error) {
	for k := range raw {
		if k != "opt_name" && k != "opt_value" && k != "ip_version" {
			return nil, false, fault.BadAttr("extra_dhcp_opts", "Unrecognized attribute '%s'", k)
		}
	}
	name, ok := raw["opt_name"].(string)
	if !ok || strings.TrimSpace(name) == "" {
		return nil, false, fault.BadAttr("extra_dhcp_opts", "'%v' is not a valid opt_name", raw["opt_name"])
	}
	version := 4
	switch v := raw["ip_version"].(type) {
	case nil:
	case float64:
		version = int(v)
	case string:
		_, _ = fmt.Sscanf(v, "%d", &version)
		if v != "4" && v != "6" {
			version = 0
		}
	default:
		version = 0
	}
	if version != 4 && version != 6 {
		return nil, false, fault.BadAttr("extra_dhcp_opts", "'%v' is not a valid IP version, 4 or 6", raw["ip_version"])
	}
	o := map[string]any{"opt_name": name, "ip_version": version}
	switch v := raw["opt_value"].(type) {
	case nil:
		return o, true, nil
	case string:
		if v == "" {
			return nil, false, fault.BadAttr("extra_dhcp_opts", "opt_value of '%s' is empty", name)
		}
		o["opt_value"] = v
	default:
		return nil, false, fault.BadAttr("extra_dhcp_opts", "'%v' is not a valid opt_value", v)
	}
	return o, false, nil
}

func indexOpt(opts []map[string]any, o map[string]any) int {
	for i, have := range opts {
		if have["opt_name"] == o["opt_name"] && fmt.Sprint(have["ip_version"]) == fmt.Sprint(o["ip_version"]) {
			return i
		}
	}
	return -1
}

// setDNSDomain applies a network request's dns_domain.
func setDNSDomain(n *api.Network, r *NetworkRequest) error {
	if !r.DNSDomain.Set {
		return nil
	}
	if err := checkDNSName("dns_domain", r.DNSDomain.V, 255); err != nil {
		return err
	}
	n.DNSDomain = r.DNSDomain.V
	return nil
}

// dnsAssignment is the name of each of a port's addresses: its dns_name,
// else host-<address with dashes>, under the network's dns_domain.
func dnsAssignment(p *api.Port, n *api.Network) []api.DNSAssignment {
	domain := DefaultDNSDomain
	if n != nil && n.DNSDomain != "" {
		domain = strings.TrimSuffix(n.DNSDomain, ".") + "."
	}
	out := make([]api.DNSAssignment, 0, len(p.FixedIPs))
	for _, f := range p.FixedIPs {
		host := p.DNSName
		if host == "" {
			host = "host-" + strings.NewReplacer(".", "-", ":", "-").Replace(f.IPAddress)
		}
		fqdn := host + "." + domain
		if strings.HasSuffix(host, ".") { // an FQDN dns_name stands as it is
			fqdn, host = host, strings.SplitN(host, ".", 2)[0]
		}
		out = append(out, api.DNSAssignment{Hostname: host, IPAddress: f.IPAddress, FQDN: fqdn})
	}
	return out
}
