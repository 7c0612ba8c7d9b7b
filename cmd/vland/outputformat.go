package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// cellText renders one JSON value for a table cell the way the
// openstack client does: None, True/False, lists one per line or
// comma-joined, objects as k='v' pairs.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return x
	case json.Number:
		return x.String()
	case []any:
		return cellList(x)
	case map[string]any:
		return cellObject(x)
	}
	return fmt.Sprint(v)
}

// cellList puts objects one per line and scalars on one line.
func cellList(xs []any) string {
	parts := make([]string, len(xs))
	objects := false
	for i, e := range xs {
		if _, ok := e.(map[string]any); ok {
			objects = true
		}
		parts[i] = cellText(e)
	}
	if objects {
		return strings.Join(parts, "\n")
	}
	return strings.Join(parts, ", ")
}

func cellObject(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s='%s'", k, cellText(m[k]))
	}
	return strings.Join(parts, ", ")
}

// cellState shows admin_state_up as UP/DOWN.
func cellState(v any) string {
	if b, ok := v.(bool); ok && !b {
		return "DOWN"
	}
	return "UP"
}

// cellAlive shows an agent's liveness as the openstack client does.
func cellAlive(v any) string {
	if b, ok := v.(bool); ok && b {
		return ":-)"
	}
	return "XXX"
}

// cellFixedIPs shows only the addresses (the subnet IDs are in `show`).
func cellFixedIPs(v any) string {
	xs, _ := v.([]any)
	parts := make([]string, 0, len(xs))
	for _, e := range xs {
		if m, ok := e.(map[string]any); ok {
			parts = append(parts, fmt.Sprintf("ip_address='%s', subnet_id='%s'", cellText(m["ip_address"]), cellText(m["subnet_id"])))
		}
	}
	return strings.Join(parts, "\n")
}

// cellPools shows allocation pools as start-end ranges, one per line.
func cellPools(v any) string {
	xs, _ := v.([]any)
	parts := make([]string, 0, len(xs))
	for _, e := range xs {
		if m, ok := e.(map[string]any); ok {
			parts = append(parts, cellText(m["start"])+"-"+cellText(m["end"]))
		}
	}
	return strings.Join(parts, "\n")
}
