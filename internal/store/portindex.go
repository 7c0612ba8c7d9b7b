package store

import (
	"encoding/json"
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
	have := PortIndexKeys(p)
	if old != nil {
		for _, k := range PortIndexKeys(old) {
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
	for _, k := range PortIndexKeys(p) {
		ops = append(ops, Op{Key: k, Delete: true})
	}
	return ops
}

// PortIndexKeys are the index keys a port has (see PortOps).
func PortIndexKeys(p *api.Port) []string {
	keys := []string{NetworkPortKey(p.NetworkID, p.ID)}
	if p.BindingHostID != "" && ValidHost(p.BindingHostID) == nil {
		keys = append(keys, HostPortKey(p.BindingHostID, p.ID))
	}
	if RouterOwned(p.DeviceOwner) && p.DeviceID != "" && !strings.Contains(p.DeviceID, "/") {
		keys = append(keys, RouterPortKey(p.DeviceID, p.ID))
	}
	for _, g := range p.SecurityGroups {
		// A repeated group would repeat a key, which etcd refuses in a txn.
		if k := SecGroupPortKey(g, p.ID); g != "" && !strings.Contains(g, "/") && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// RouterOwned says whether a device owner is a router's (its device_id is
// the router's id).
func RouterOwned(owner string) bool {
	return strings.HasPrefix(owner, "network:router_") || strings.HasPrefix(owner, "network:ha_router_")
}

// PortIndexOwner is the device_owner of the port an index value copies.
// Before the index ranges carried the port's JSON, a network-ports value
// was the device_owner itself; such values are read as they are until the
// start-up migration rewrites them.
func PortIndexOwner(value []byte) string {
	var p struct {
		DeviceOwner string `json:"device_owner"`
	}
	if len(value) > 0 && value[0] == '{' && json.Unmarshal(value, &p) == nil {
		return p.DeviceOwner
	}
	return string(value)
}

// PortIndexPrefixes are the port index ranges.
var PortIndexPrefixes = []string{NetworkPortsPrefix, HostPortsPrefix, RouterPortsPrefix, SecGroupPortsPrefix}
