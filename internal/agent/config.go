package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/store"
)

// ErrConfig: the agent's configuration is incomplete or invalid.
var ErrConfig = errors.New("agent: invalid configuration")

// Config is one host agent's configuration. Zero durations take the
// defaults below.
type Config struct {
	HostConfig
	DatapathType      string // "netdev" or "system"
	IntegrationBridge string
	TunnelBridge      string
	NetworkNode       bool
	// Roles are the services this host runs: api.RoleCompute (the
	// default when empty), api.RoleDHCP, api.RoleL3, api.RoleMetadata.
	// The registration record carries them; the server schedules service
	// work (DHCP networks, routers) only on hosts with the role.
	Roles []string

	// LeaseTTL is how long the host stays alive in the store after the
	// agent stops renewing its heartbeat (default 4 s).
	LeaseTTL time.Duration
	// HeartbeatInterval is how often the agent record's heartbeat_timestamp
	// and device count are rewritten (default 30 s); liveness itself rides
	// on the lease.
	HeartbeatInterval time.Duration
	// ResyncInterval is the period of a full reconcile even without
	// changes, a safety net (default 30 s).
	ResyncInterval time.Duration
	// Debounce coalesces bursts of changes into one reconcile (default 5 ms).
	Debounce time.Duration

	// Services run beside the data plane, one per service role (see Service).
	Services []Service

	Log *slog.Logger // default slog.Default()
}

// Defaults.
const (
	DefaultLeaseTTL          = 4 * time.Second
	DefaultHeartbeatInterval = 30 * time.Second
	DefaultResyncInterval    = 30 * time.Second
	DefaultDebounce          = 5 * time.Millisecond
)

func (c Config) withDefaults() Config {
	if c.LeaseTTL == 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.ResyncInterval == 0 {
		c.ResyncInterval = DefaultResyncInterval
	}
	if c.Debounce == 0 {
		c.Debounce = DefaultDebounce
	}
	if c.IntegrationBridge == "" {
		c.IntegrationBridge = "br-int"
	}
	if c.TunnelBridge == "" {
		c.TunnelBridge = "br-tun"
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if len(c.Roles) == 0 {
		c.Roles = []string{api.RoleCompute}
	}
	return c
}

func (c Config) validate() error {
	if err := store.ValidHost(c.Host); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if !c.LocalIP.IsValid() && len(c.TunnelTypes) > 0 {
		return fmt.Errorf("%w: tunnel types %v need a local IP", ErrConfig, c.TunnelTypes)
	}
	switch c.TunnelPorts {
	case "", hoststate.TunnelPortsPerPeer, hoststate.TunnelPortsFlow:
	default:
		return fmt.Errorf("%w: tunnel ports %q: want %s or %s", ErrConfig, c.TunnelPorts, hoststate.TunnelPortsPerPeer, hoststate.TunnelPortsFlow)
	}
	for _, t := range c.TunnelTypes {
		if !isTunnel(t) {
			return fmt.Errorf("%w: unknown tunnel type %q", ErrConfig, t)
		}
	}
	if err := ValidateRoles(c.Roles); err != nil {
		return err
	}
	if c.LeaseTTL < time.Second {
		return fmt.Errorf("%w: lease TTL %v is under 1 s", ErrConfig, c.LeaseTTL)
	}
	return nil
}

// localIPString renders the tunnel endpoint for the agent record ("" if none).
func localIPString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// ParseBridgeMappings parses "physnet:bridge" items (as Neutron's
// bridge_mappings option writes them) into a map.
func ParseBridgeMappings(items []string) (map[string]string, error) {
	out := map[string]string{}
	for _, it := range items {
		physnet, br, ok := strings.Cut(strings.TrimSpace(it), ":")
		if !ok || physnet == "" || br == "" {
			return nil, fmt.Errorf("%w: bridge mapping %q is not physnet:bridge", ErrConfig, it)
		}
		if _, dup := out[physnet]; dup {
			return nil, fmt.Errorf("%w: physical network %q mapped twice", ErrConfig, physnet)
		}
		out[physnet] = br
	}
	return out, nil
}

// ValidateRoles checks `--roles`: known roles, each once.
func ValidateRoles(roles []string) error {
	for i, r := range roles {
		if !slices.ContainsFunc(api.AgentRoles, func(ar api.AgentRole) bool { return ar.Role == r }) {
			return fmt.Errorf("%w: unknown role %q (want compute, dhcp, l3, metadata)", ErrConfig, r)
		}
		if slices.Contains(roles[:i], r) {
			return fmt.Errorf("%w: role %q given twice", ErrConfig, r)
		}
	}
	return nil
}

// HasRole reports whether the agent runs role.
func (c Config) HasRole(role string) bool { return slices.Contains(c.Roles, role) }
