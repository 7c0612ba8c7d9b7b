package dhcp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vland/vland/internal/agent"
	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/reconcile"
	"github.com/vland/vland/internal/serviceport"
)

// NSPrefix starts the name of every namespace this service makes.
const NSPrefix = "qdhcp-"

// Config is the DHCP service of one host.
type Config struct {
	Host string
	// NetnsDir holds the qdhcp- namespaces (default /run/netns, where `ip
	// netns` looks); the lab gives each host its own.
	NetnsDir string
	// StateDir holds one directory per network: dnsmasq's files, pid and
	// leases (default /var/lib/vland/dhcp). Leases live there, so they
	// survive agent and dnsmasq restarts. dnsmasq rereads its files as
	// nobody: every directory up to them must be searchable by all.
	StateDir string
	// OVSNetNS is the namespace Open vSwitch's ports live in ("" = the
	// agent's own; the lab's hosts are namespaces).
	OVSNetNS string
	// OVSDB is the OVSDB endpoint for ovs-vsctl; Bridge the integration bridge.
	OVSDB  string
	Bridge string
	// LeaseDuration is the lease time handed out (default 24 h, Neutron's
	// dhcp_lease_duration; dnsmasq's minimum is 2 min).
	LeaseDuration time.Duration
	// Dnsmasq is the dnsmasq binary (default "dnsmasq").
	Dnsmasq string
	// SuperviseInterval is how often dnsmasq processes are checked and
	// restarted if dead (default 500 ms).
	SuperviseInterval time.Duration
	// Metadata serves the metadata service in the namespaces of networks
	// with a subnet no router is on (Neutron's enable_isolated_metadata):
	// 169.254.169.254/32 on the DHCP port's NIC, a proxy there, and the
	// route to it by DHCP (option 121). nil: off.
	Metadata MetadataProxies
	Log      *slog.Logger
}

// MetadataProxies starts and stops the metadata proxy of a network in its
// namespace (metadata.Proxies).
type MetadataProxies interface {
	NetworkUp(ctx context.Context, networkID, nsPath string) error
	NetworkDown(networkID string)
}

func (c Config) withDefaults() Config {
	if c.NetnsDir == "" {
		c.NetnsDir = netns.Dir
	}
	if c.StateDir == "" {
		c.StateDir = "/var/lib/vland/dhcp"
	}
	if c.Bridge == "" {
		c.Bridge = "br-int"
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = 24 * time.Hour
	}
	if c.Dnsmasq == "" {
		c.Dnsmasq = "dnsmasq"
	}
	if c.SuperviseInterval == 0 {
		c.SuperviseInterval = 500 * time.Millisecond
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Server is the DHCP service: the reconciler of the host's qdhcp-
// namespaces and their dnsmasq processes. It implements agent.Service.
type Server struct {
	cfg    Config
	log    *slog.Logger
	bridge serviceport.Bridge

	mu   sync.Mutex
	last map[string]Network // what was last applied, by network id
	// plugged is the DHCP port id of every network this run has touched,
	// applied or not (a failed apply may have left a namespace, tap or
	// dnsmasq that must go with the network).
	plugged map[string]string
	swept   bool // leftovers of an earlier run removed

	// desired is the latest desired state Sync computed, applied by Run:
	// a slow or failing dnsmasq never holds back the agent's data plane.
	desired *reconcile.Latest[map[string]Network]
}

// New returns the DHCP service of a host.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	log := cfg.Log.With("service", "dhcp")
	return &Server{cfg: cfg, log: log,
		bridge: serviceport.Bridge{Name: cfg.Bridge, NetNS: cfg.OVSNetNS, OVSDB: cfg.OVSDB}, last: map[string]Network{},
		plugged: map[string]string{}, desired: reconcile.NewLatest[map[string]Network](log)}
}

var _ agent.Service = (*Server)(nil)

// Name implements agent.Service.
func (s *Server) Name() string { return "dhcp" }

// Sync implements agent.Service: it computes the networks this host
// serves and hands them to Run, which applies them.
func (s *Server) Sync(_ context.Context, snap agent.Snapshot) error {
	d := Compute(s.cfg.Host, snap)
	if s.cfg.Metadata != nil {
		for id, n := range d {
			n.Metadata = slices.ContainsFunc(n.Subnets, func(s Subnet) bool { return s.Isolated })
			d[id] = n
		}
	}
	s.desired.Offer(d)
	return nil
}

// Run implements agent.Service: it applies what Sync computed (retrying
// failures with a growing pause, 0.2 to 10 s) and restarts every dnsmasq
// that died, until ctx ends. dnsmasq processes outlive the agent on
// purpose.
func (s *Server) Run(ctx context.Context) {
	supervised := make(chan struct{})
	go func() {
		defer close(supervised)
		t := time.NewTicker(s.cfg.SuperviseInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.supervise(ctx)
			}
		}
	}()
	s.desired.Run(ctx, s.Set)
	<-supervised
}

// Set makes the host serve exactly the desired networks. Networks equal to
// what was last applied are not touched; a network that fails is retried
// on the next Set.
func (s *Server) Set(ctx context.Context, desired map[string]Network) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if !s.swept {
		// An earlier agent may have served networks this one does not:
		// remove what is on disk and not desired.
		errs = append(errs, s.sweep(ctx, desired))
		s.swept = true
	}
	for id, portID := range s.plugged {
		if _, ok := desired[id]; !ok {
			if err := s.remove(ctx, id, portID); err != nil {
				errs = append(errs, err)
				continue // retried on the next Set
			}
			delete(s.plugged, id)
			delete(s.last, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(desired)) {
		n := desired[id]
		old, had := s.last[id]
		if had && reflect.DeepEqual(old, n) {
			continue
		}
		start := time.Now()
		if err := s.apply(ctx, n, old, had); err != nil {
			errs = append(errs, fmt.Errorf("dhcp: network %s: %w", id, err))
			delete(s.last, id)
			continue
		}
		s.last[id] = n
		s.log.Debug("applied network", "network", id, "hosts", len(n.Hosts), "duration_s", time.Since(start).Seconds())
	}
	return errors.Join(errs...)
}

// apply makes one network's namespace, NIC, files and dnsmasq match n.
func (s *Server) apply(ctx context.Context, n, old Network, had bool) error {
	dir := s.netDir(n.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dhcp: %w", err)
	}
	if prev, ok := s.plugged[n.ID]; ok && prev != n.Port.ID {
		// The network has another DHCP port now: its old NIC goes.
		if err := s.bridge.Unplug(ctx, prev); err != nil {
			return err
		}
	}
	s.plugged[n.ID] = n.Port.ID
	if !had || !reflect.DeepEqual(old.Port, n.Port) || old.MTU != n.MTU || old.Metadata != n.Metadata {
		if err := s.plug(ctx, n); err != nil {
			return err
		}
	}
	changed, err := writeFiles(dir, n)
	if err != nil {
		return err
	}
	if err := s.ensureDnsmasq(n, changed); err != nil {
		return err
	}
	if err := s.metadata(ctx, n); err != nil {
		return err
	}
	return s.releaseStale(n)
}

// metadata starts or stops the network's metadata proxy.
func (s *Server) metadata(ctx context.Context, n Network) error {
	switch {
	case s.cfg.Metadata == nil:
		return nil
	case n.Metadata:
		return s.cfg.Metadata.NetworkUp(ctx, n.ID, s.nsPath(n.ID))
	}
	s.cfg.Metadata.NetworkDown(n.ID)
	return nil
}

// remove stops serving a network: dnsmasq, NIC, namespace, state.
func (s *Server) remove(ctx context.Context, id, portID string) error {
	s.log.Info("no longer serving network", "network", id)
	if s.cfg.Metadata != nil {
		s.cfg.Metadata.NetworkDown(id)
	}
	errs := []error{s.stopDnsmasq(id)}
	if portID != "" {
		errs = append(errs, s.bridge.Unplug(ctx, portID))
	}
	errs = append(errs, netns.DeleteAt(s.cfg.NetnsDir, NSPrefix+id))
	if err := os.RemoveAll(s.netDir(id)); err != nil {
		errs = append(errs, fmt.Errorf("dhcp: %w", err))
	}
	return errors.Join(errs...)
}

// sweep removes networks an earlier run served that are not desired: state
// directories (with their dnsmasq and NIC) and qdhcp- namespaces.
func (s *Server) sweep(ctx context.Context, desired map[string]Network) error {
	var errs []error
	ents, err := os.ReadDir(s.cfg.StateDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("dhcp: %w", err))
	}
	for _, e := range ents {
		if _, ok := desired[e.Name()]; ok || !e.IsDir() {
			continue
		}
		portID := ""
		if b, err := os.ReadFile(filepath.Join(s.netDir(e.Name()), ifaceFile)); err == nil {
			portID = strings.TrimSpace(string(b))
		}
		errs = append(errs, s.remove(ctx, e.Name(), portID))
	}
	nss, err := netns.ListAt(s.cfg.NetnsDir, NSPrefix)
	errs = append(errs, err)
	for _, ns := range nss {
		if _, ok := desired[strings.TrimPrefix(ns, NSPrefix)]; !ok {
			errs = append(errs, netns.DeleteAt(s.cfg.NetnsDir, ns))
		}
	}
	return errors.Join(errs...)
}

// supervise restarts the dnsmasq of every served network that is not running.
func (s *Server) supervise(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.last {
		if ctx.Err() != nil {
			return
		}
		if pid, _ := s.running(n); pid > 0 {
			continue
		}
		s.log.Warn("dnsmasq is not running, restarting it", "network", id, "log_tail", s.logTail(id))
		if err := s.startDnsmasq(n); err != nil {
			s.log.Error("restart dnsmasq", "network", id, "err", err)
		}
	}
}

// Served lists the networks currently applied (for tests and status).
func (s *Server) Served() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.last))
}

// logTail is the end of a network's dnsmasq log, for the log line that
// says it died.
func (s *Server) logTail(id string) string {
	b, _ := os.ReadFile(filepath.Join(s.netDir(id), logFile))
	if len(b) > 400 {
		b = b[len(b)-400:]
	}
	return string(b)
}

func (s *Server) netDir(id string) string { return filepath.Join(s.cfg.StateDir, id) }
func (s *Server) nsPath(id string) string { return filepath.Join(s.cfg.NetnsDir, NSPrefix+id) }
