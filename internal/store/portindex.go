package store

import (
	"slices"
	"strings"

	"github.com/vland/vland/api"
)

// PortOps are the writes that store port p with value (its stored JSON):
// its PortKey and every index range that carries a copy of it (network,
// bound host, router, security groups), moving the index keys old (the
// port as stored before; nil for a create) had that p no longer has. Every
// write of a port goes through it, in the port's own transaction, so the
// copies never disagree with the port.
func PortOps(old, p *api.Port, value []byte) []Op {
	ops := []Op{{Key: PortKey(p.ID), Value: value}}
	have := portIndexKeys(p)
	if old != nil {
		for _, k := range portIndexKeys(old) {
			if !slices.Contains(have, k) {
				ops = append(ops, Op{Key: k, Delete: true})
			}
		}
	}
	for _, k := range have {
		ops = append(ops, Op{Key: k, Value: value})
	}
	return ops
}

// PortDeleteOps deletes port p's key and its index keys (not its
// allocations or status records).
func PortDeleteOps(p *api.Port) []Op {
	ops := []Op{{Key: PortKey(p.ID), Delete: true}}
	for _, k := range portIndexKeys(p) {
		ops = append(ops, Op{Key: k, Delete: true})
	}
	return ops
}

// portIndexKeys are the index keys a port has.
func portIndexKeys(p *api.Port) []string {
	keys := []string{NetworkPortKey(p.NetworkID, p.ID)}
	if p.BindingHostID != "" && ValidHost(p.BindingHostID) == nil {
		keys = append(keys, HostPortKey(p.BindingHostID, p.ID))
	}
	if RouterOwned(p.DeviceOwner) && p.DeviceID != "" && !strings.Contains(p.DeviceID, "/") {
		keys = append(keys, RouterPortKey(p.DeviceID, p.ID))
	}
	for _, g := range p.SecurityGroups {
		if g != "" && !strings.Contains(g, "/") {
			keys = append(keys, SecGroupPortKey(g, p.ID))
		}
	}
	return keys
}

// RouterOwned says whether a device owner is a router's (its device_id is
// the router's id).
func RouterOwned(owner string) bool {
	return strings.HasPrefix(owner, "network:router_") || strings.HasPrefix(owner, "network:ha_router_")
}
