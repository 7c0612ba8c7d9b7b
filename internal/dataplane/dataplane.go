// Package dataplane makes one host's Open vSwitch match a hoststate.State:
// bridges and patches, local VLAN tags on br-int ports, tunnel ports on
// br-tun, provider bridge patches, and the flows internal/pipeline builds,
// installed atomically per bridge. It is declarative and level-triggered:
// Apply(state) converges from whatever OVS holds, so restart, resync and
// repeated calls are the same operation.
package dataplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/ovs/ovsdb"
)

// Sentinel errors.
var (
	ErrConfig   = errors.New("dataplane: bad config")
	ErrNotStart = errors.New("dataplane: not started")
	ErrFlows    = errors.New("dataplane: flow install failed")
	ErrTag      = errors.New("dataplane: port tag not applied")
)

// Config describes one host's data plane. Zero values take the defaults
// noted on each field.
type Config struct {
	Host              string
	IntegrationBridge string // default "br-int"
	TunnelBridge      string // default "br-tun"
	DatapathType      string // "netdev" or "system"; "" leaves OVS's default
	OVSDB             string // OVSDB endpoint, "unix:/path/db.sock"
	// NetNS is the named namespace OVS's bridges live in ("" = ours):
	// where the userspace datapath's tunnel neighbours are primed.
	NetNS string
	// OFTarget returns the ovs-ofctl target of a bridge. Default:
	// "unix:RunDir/BRIDGE.mgmt".
	OFTarget func(bridge string) string
	RunDir   string
	// LocalIP, TunnelTypes and BridgeMappings are used when the applied
	// State leaves them empty.
	LocalIP        netip.Addr
	TunnelTypes    []string
	BridgeMappings map[string]string
	Log            *slog.Logger
	// CanaryInterval is how often br-int's flows are counted, a backstop:
	// an ovs-vswitchd restart is seen at once through a held OpenFlow
	// connection, the canary also catches flows deleted by hand. Default 5s.
	CanaryInterval time.Duration
}

// Dataplane applies States to one Open vSwitch. Methods are safe for
// concurrent use; Apply calls are serialized.
type Dataplane struct {
	cfg Config
	log *slog.Logger

	mu         sync.Mutex // serializes Start/Apply/Close
	db         switchDB
	flows      flowWriter
	round      uint16
	synced     map[string]bool // bridges whose flows were Synced this round
	cancel     context.CancelFunc
	done       chan struct{} // closed when watch returns
	switchDone chan struct{} // closed when watchSwitch returns

	changes chan struct{}
	// resync is set when the OpenFlow connection to br-int broke
	// (ovs-vswitchd restarted): the next Apply re-Syncs every bridge.
	resync atomic.Bool
	// inputs is the last seen digest of what Apply reads from OVSDB (see
	// applyInputs); only a change of it asks for an Apply, so our own tag
	// writes, next_cfg bumps and interface statistics do not.
	inputs string
	// flushZone empties a conntrack zone (ovs-appctl; tests replace it).
	flushZone func(ctx context.Context, zone int) error
	// neigh primes ovs-vswitchd's tunnel neighbour cache (netdev only,
	// else nil); neighDone is closed when its goroutine returns.
	neigh     *neighPrimer
	neighDone chan struct{}
}

// New returns an unstarted Dataplane.
func New(cfg Config) *Dataplane {
	if cfg.IntegrationBridge == "" {
		cfg.IntegrationBridge = "br-int"
	}
	if cfg.TunnelBridge == "" {
		cfg.TunnelBridge = "br-tun"
	}
	if cfg.CanaryInterval <= 0 {
		cfg.CanaryInterval = 5 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.OFTarget == nil {
		dir := cfg.RunDir
		cfg.OFTarget = func(br string) string { return "unix:" + filepath.Join(dir, br+".mgmt") }
	}
	d := &Dataplane{cfg: cfg, log: cfg.Log.With("host", cfg.Host), changes: make(chan struct{}, 1)}
	d.flushZone = d.flushConntrackZone
	if cfg.DatapathType == "netdev" {
		d.neigh = newNeighPrimer(execNeighCmds{runDir: cfg.RunDir, netNS: cfg.NetNS}, d.log)
	}
	return d
}

// Start connects to OVSDB, ensures the bridges and patch ports, and starts
// a new flow round (persisted in br-int's external_ids) so that the first
// Apply replaces the flows of any previous agent without a gap. Local VLANs
// are rebuilt from the ports' other_config on every Apply.
func (d *Dataplane) Start(ctx context.Context) error {
	if d.cfg.OVSDB == "" {
		return fmt.Errorf("%w: OVSDB endpoint is empty", ErrConfig)
	}
	db, err := ovsdb.Connect(ctx, d.cfg.OVSDB, d.log)
	if err != nil {
		return fmt.Errorf("dataplane: %w", err)
	}
	if err := d.start(ctx, db, newOFBridges(d.cfg.OFTarget)); err != nil {
		db.Close()
		return err
	}
	return nil
}

// start is Start with its dependencies injected (tests use fakes).
func (d *Dataplane) start(ctx context.Context, db switchDB, fw flowWriter) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.db != nil {
		return fmt.Errorf("%w: already started", ErrConfig)
	}
	d.db, d.flows, d.synced = db, fw, map[string]bool{}
	if err := d.ensureBridges(ctx, d.cfg.BridgeMappings); err != nil {
		d.db = nil
		return err
	}
	round, err := d.nextRound(ctx)
	if err != nil {
		d.db = nil
		return err
	}
	d.round = round
	wctx, cancel := context.WithCancel(context.Background())
	d.cancel, d.done, d.switchDone = cancel, make(chan struct{}), make(chan struct{})
	go d.watch(wctx, db)
	go d.watchSwitch(wctx)
	d.neighDone = make(chan struct{})
	go func() {
		defer close(d.neighDone)
		if d.neigh != nil {
			d.neigh.run(wctx)
		}
	}()
	d.log.Info("dataplane started", "round", round)
	return nil
}

// Close stops watching and disconnects from OVSDB. Flows and ports stay:
// the data plane keeps forwarding while the agent is away.
func (d *Dataplane) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cancel != nil {
		d.cancel()
		<-d.done
		<-d.switchDone
		<-d.neighDone
		d.cancel = nil
	}
	if d.db != nil {
		d.db.Close()
		d.db = nil
	}
}

// Changes signals (coalesced) that Apply should run again: br-int
// interfaces or ofports changed, or ovs-vswitchd restarted and lost flows.
func (d *Dataplane) Changes() <-chan struct{} { return d.changes }

func (d *Dataplane) signal() {
	select {
	case d.changes <- struct{}{}:
	default:
	}
}

// Interfaces returns br-int's interfaces that carry external_ids:iface-id,
// with their attached MAC and ofport (0 until assigned).
func (d *Dataplane) Interfaces(ctx context.Context) ([]hoststate.Interface, error) {
	d.mu.Lock()
	db := d.db
	d.mu.Unlock()
	if db == nil {
		return nil, ErrNotStart
	}
	ports, err := db.ListPorts(ctx, d.cfg.IntegrationBridge)
	if err != nil {
		return nil, fmt.Errorf("dataplane: list %s: %w", d.cfg.IntegrationBridge, err)
	}
	var out []hoststate.Interface
	for _, p := range ports {
		id := p.IfaceExternalIDs[extIfaceID]
		if id == "" {
			continue
		}
		mac := p.IfaceExternalIDs[extAttachedMAC]
		out = append(out, hoststate.Interface{Name: p.Name, IfaceID: id, MAC: mac, OFPort: p.OFPort})
	}
	return out, nil
}
