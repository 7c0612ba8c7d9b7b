package segment

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Network types.
const (
	TypeLocal  = "local"
	TypeFlat   = "flat"
	TypeVLAN   = "vlan"
	TypeVXLAN  = "vxlan"
	TypeGRE    = "gre"
	TypeGeneve = "geneve"
)

// ErrConfig marks a bad type-driver configuration (a startup error, not a
// user error).
var ErrConfig = errors.New("segment: bad config")

// Range is an inclusive ID range.
type Range struct {
	Min, Max int
}

// Config is the ML2 type-driver configuration.
type Config struct {
	// TenantNetworkTypes are tried in order for tenant networks.
	TenantNetworkTypes []string
	// VNIRanges (vxlan), TunnelIDRanges (gre), GeneveVNIRanges: tenant pools.
	VNIRanges       []Range
	TunnelIDRanges  []Range
	GeneveVNIRanges []Range
	// NetworkVLANRanges maps each VLAN-capable physnet to its tenant VLAN
	// ranges; a physnet with no ranges takes admin-chosen VLANs only.
	NetworkVLANRanges map[string][]Range
	// FlatNetworks lists physnets allowed for flat networks; "*" allows any.
	FlatNetworks []string
	// GlobalPhysnetMTU is the underlay MTU (default 1500).
	GlobalPhysnetMTU int
}

// DefaultConfig is vxlan tenant networks with VNIs 1000-2000, GRE 1-1000,
// Geneve 1-1000, no physnets and a 1500-byte underlay.
func DefaultConfig() Config {
	return Config{
		TenantNetworkTypes: []string{TypeVXLAN},
		VNIRanges:          []Range{{1000, 2000}},
		TunnelIDRanges:     []Range{{1, 1000}},
		GeneveVNIRanges:    []Range{{1, 1000}},
		NetworkVLANRanges:  map[string][]Range{},
		GlobalPhysnetMTU:   1500,
	}
}

// WithDefaults fills what c leaves out: the zero Config is DefaultConfig;
// otherwise an unset underlay MTU is 1500 and unset tenant types are vxlan.
func (c Config) WithDefaults() Config {
	if len(c.TenantNetworkTypes) == 0 && c.GlobalPhysnetMTU == 0 && c.VNIRanges == nil {
		return DefaultConfig()
	}
	if c.GlobalPhysnetMTU == 0 {
		c.GlobalPhysnetMTU = 1500
	}
	if len(c.TenantNetworkTypes) == 0 {
		c.TenantNetworkTypes = []string{TypeVXLAN}
	}
	return c
}

// maxID is the highest segmentation ID of each type that has IDs.
var maxID = map[string]int{
	TypeVLAN:   4094,
	TypeVXLAN:  1<<24 - 1,
	TypeGeneve: 1<<24 - 1,
	TypeGRE:    1<<32 - 1,
}

// Validate checks types and ranges; errors wrap ErrConfig.
func (c Config) Validate() error {
	for _, t := range c.TenantNetworkTypes {
		if t != TypeLocal && maxID[t] == 0 {
			return fmt.Errorf("%w: tenant network type %q (want local, vlan, vxlan, gre or geneve)", ErrConfig, t)
		}
	}
	checks := map[string][]Range{TypeVXLAN: c.VNIRanges, TypeGRE: c.TunnelIDRanges, TypeGeneve: c.GeneveVNIRanges}
	for physnet, rs := range c.NetworkVLANRanges {
		if physnet == "" {
			return fmt.Errorf("%w: empty physnet name in VLAN ranges", ErrConfig)
		}
		checks[TypeVLAN+" "+physnet] = rs
	}
	for name, rs := range checks {
		typ, _, _ := strings.Cut(name, " ")
		for _, r := range rs {
			if r.Min < 1 || r.Max > maxID[typ] || r.Min > r.Max {
				return fmt.Errorf("%w: %s range %d:%d outside 1:%d", ErrConfig, name, r.Min, r.Max, maxID[typ])
			}
		}
	}
	if c.GlobalPhysnetMTU < 68 {
		return fmt.Errorf("%w: global physnet MTU %d", ErrConfig, c.GlobalPhysnetMTU)
	}
	return nil
}

// flatAllowed reports whether physnet may carry a flat network.
func (c Config) flatAllowed(physnet string) bool {
	return slices.Contains(c.FlatNetworks, "*") || slices.Contains(c.FlatNetworks, physnet)
}

// ParseRanges parses "1000:2000,3000:3010" (empty string: no ranges).
func ParseRanges(s string) ([]Range, error) {
	var out []Range
	for _, part := range splitList(s) {
		lo, hi, ok := strings.Cut(part, ":")
		r, err := parseRange(lo, hi)
		if !ok || err != nil {
			return nil, fmt.Errorf("%w: range %q: want min:max", ErrConfig, part)
		}
		out = append(out, r)
	}
	return out, nil
}

// ParseVLANRanges parses "physnet1:100:200,physnet1:300:310,physnet2";
// a bare physnet gets an empty (non-nil) range list.
func ParseVLANRanges(s string) (map[string][]Range, error) {
	out := map[string][]Range{}
	for _, part := range splitList(s) {
		f := strings.Split(part, ":")
		switch {
		case len(f) == 1 && f[0] != "":
			if out[f[0]] == nil {
				out[f[0]] = []Range{}
			}
		case len(f) == 3 && f[0] != "":
			r, err := parseRange(f[1], f[2])
			if err != nil {
				return nil, fmt.Errorf("%w: vlan range %q: %w", ErrConfig, part, err)
			}
			out[f[0]] = append(out[f[0]], r)
		default:
			return nil, fmt.Errorf("%w: vlan range %q: want physnet or physnet:min:max", ErrConfig, part)
		}
	}
	return out, nil
}

// ParseList parses a comma-separated list ("physnet1,physnet2", "vxlan").
func ParseList(s string) []string { return splitList(s) }

func parseRange(lo, hi string) (Range, error) {
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err := errors.Join(err1, err2); err != nil {
		return Range{}, err
	}
	if a > b {
		return Range{}, fmt.Errorf("min %d > max %d", a, b)
	}
	return Range{Min: a, Max: b}, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// physnets returns the VLAN physnets in a stable order.
func (c Config) physnets() []string {
	out := make([]string, 0, len(c.NetworkVLANRanges))
	for p := range c.NetworkVLANRanges {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// MTU is the largest MTU a network of netType can offer on an underlay of
// the given MTU: the underlay minus the encapsulation overhead (vxlan 50,
// gre 42, geneve 58; vlan, flat and local none).
func MTU(netType string, underlay int) int {
	switch netType {
	case TypeVXLAN:
		return underlay - 50
	case TypeGRE:
		return underlay - 42
	case TypeGeneve:
		return underlay - 58
	default:
		return underlay
	}
}

// NetworkMTU is MTU for netType on this config's underlay.
func (c Config) NetworkMTU(netType string) int { return MTU(netType, c.GlobalPhysnetMTU) }
