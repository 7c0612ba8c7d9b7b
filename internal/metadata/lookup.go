// Package metadata is vland's metadata service (169.254.169.254), as
// Neutron's metadata proxy and agent and Nova's metadata API do it
// together: a proxy the agent runs in a router namespace (port 9697, where
// the router redirects 169.254.169.254:80) or in a DHCP namespace
// (169.254.169.254:80 itself, on networks without a router) knows only
// which router or network it serves; it takes the TCP peer address of each
// request and finds the one port with that fixed IP on that network (or on
// a subnet attached to that router), and the instance whose id is the
// port's device_id. Nothing the VM sends (X-Forwarded-For, X-Instance-ID,
// ...) is ever read; a VM cannot send from another's address because the
// data plane's anti-spoofing drops it. The answers are the OpenStack
// (/openstack/...) and EC2 (/latest/meta-data/...) formats cloud-init reads.
package metadata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
)

// Identity is what a proxy knows about where a request came from: the
// router or the network whose namespace it listens in. Exactly one is set.
type Identity struct {
	Router  string
	Network string
}

// Router is the identity of a proxy in router id's qrouter- namespace.
func Router(id string) Identity { return Identity{Router: id} }

// Network is the identity of a proxy in network id's qdhcp- namespace.
func Network(id string) Identity { return Identity{Network: id} }

func (i Identity) String() string {
	if i.Router != "" {
		return "router " + i.Router
	}
	return "network " + i.Network
}

func (i Identity) valid() bool { return (i.Router == "") != (i.Network == "") }

// Errors of a lookup; the handler answers 404 for the first two.
var (
	ErrNoPort     = errors.New("metadata: no port with that address behind this router or network")
	ErrNoInstance = errors.New("metadata: the port's device is not a known instance")
	ErrAmbiguous  = errors.New("metadata: several ports have that address")
)

// Target is the instance behind one request, with what its answers need.
type Target struct {
	Instance api.Instance
	Port     api.Port       // the port the request came from
	IP       netip.Addr     // its address (the request's source)
	Ports    []api.Port     // every port of the instance, by id
	Subnets  []api.Subnet   // the subnets of those ports' fixed IPs
	MTUs     map[string]int // network id -> MTU, for those ports' networks
	// FloatingIP is the floating address associated with (Port, IP), if any.
	FloatingIP string
}

// isRouterInterface tells whether a port is a router's interface on an
// internal network (Neutron's owners for legacy, DVR and HA routers).
func isRouterInterface(p api.Port, routerID string) bool {
	if p.DeviceID != routerID {
		return false
	}
	switch p.DeviceOwner {
	case api.OwnerRouterInterface, "network:router_interface_distributed", "network:ha_router_replicated_interface":
		return true
	}
	return false
}

// Resolve finds the instance a request from src came from, through who:
// the port with fixed IP src on who's network, or on a subnet that has an
// interface of who's router. Network-owned ports (router, DHCP) are never
// instances. It reads the store on every call, so a port that moved or was
// deleted is never answered for.
func Resolve(ctx context.Context, st store.Store, who Identity, src netip.Addr) (Target, error) {
	var t Target
	if !who.valid() {
		return t, fmt.Errorf("metadata: bad identity %+v", who)
	}
	src = src.Unmap()
	ports, err := list[api.Port](ctx, st, store.PortsPrefix)
	if err != nil {
		return t, err
	}
	// allowed says on which subnets (router) or network a port may be.
	subnets := map[string]bool{}
	for _, p := range ports {
		if who.Router != "" && isRouterInterface(p, who.Router) {
			for _, f := range p.FixedIPs {
				subnets[f.SubnetID] = true
			}
		}
	}
	var found []api.Port
	for _, p := range ports {
		if strings.HasPrefix(p.DeviceOwner, "network:") || p.DeviceID == "" {
			continue
		}
		if who.Network != "" && p.NetworkID != who.Network {
			continue
		}
		for _, f := range p.FixedIPs {
			a, err := netip.ParseAddr(f.IPAddress)
			if err != nil || a != src {
				continue
			}
			if who.Router != "" && !subnets[f.SubnetID] {
				continue
			}
			found = append(found, p)
			break
		}
	}
	switch len(found) {
	case 0:
		return t, fmt.Errorf("%w: %s from %s", ErrNoPort, who, src)
	case 1:
	default:
		return t, fmt.Errorf("%w: %s from %s", ErrAmbiguous, who, src)
	}
	t.Port, t.IP = found[0], src
	kv, err := st.Get(ctx, store.InstanceKey(t.Port.DeviceID))
	if errors.Is(err, store.ErrNotFound) {
		return t, fmt.Errorf("%w: port %s device %s", ErrNoInstance, t.Port.ID, t.Port.DeviceID)
	}
	if err != nil {
		return t, fmt.Errorf("metadata: %w", err)
	}
	if err := json.Unmarshal(kv.Value, &t.Instance); err != nil {
		return t, fmt.Errorf("metadata: instance %s: %w", t.Port.DeviceID, err)
	}
	return t, t.complete(ctx, st, ports)
}

// complete adds the instance's ports, their subnets and the floating IP.
func (t *Target) complete(ctx context.Context, st store.Store, ports []api.Port) error {
	want := map[string]bool{}
	for _, p := range ports {
		if p.DeviceID == t.Instance.ID && !strings.HasPrefix(p.DeviceOwner, "network:") {
			t.Ports = append(t.Ports, p)
			for _, f := range p.FixedIPs {
				want[f.SubnetID] = true
			}
		}
	}
	subs, err := list[api.Subnet](ctx, st, store.SubnetsPrefix)
	if err != nil {
		return err
	}
	for _, s := range subs {
		if want[s.ID] {
			t.Subnets = append(t.Subnets, s)
		}
	}
	t.MTUs = map[string]int{}
	for _, p := range t.Ports {
		kv, err := st.Get(ctx, store.NetworkKey(p.NetworkID))
		if err != nil {
			continue // gone meanwhile: no MTU
		}
		var n api.Network
		if json.Unmarshal(kv.Value, &n) == nil {
			t.MTUs[n.ID] = n.MTU
		}
	}
	fips, err := list[api.FloatingIP](ctx, st, store.FloatingIPsPrefix)
	if err != nil {
		return err
	}
	for _, f := range fips {
		if f.PortID != nil && *f.PortID == t.Port.ID &&
			(f.FixedIPAddress == nil || *f.FixedIPAddress == t.IP.String()) {
			t.FloatingIP = f.FloatingIPAddress
		}
	}
	return nil
}

// list decodes every record under prefix, sorted by key.
func list[T any](ctx context.Context, st store.Store, prefix string) ([]T, error) {
	kvs, _, err := st.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("metadata: list %s: %w", prefix, err)
	}
	out := make([]T, 0, len(kvs))
	for _, kv := range kvs {
		var v T
		if err := json.Unmarshal(kv.Value, &v); err != nil {
			return nil, fmt.Errorf("metadata: %s: %w", kv.Key, err)
		}
		out = append(out, v)
	}
	return out, nil
}
