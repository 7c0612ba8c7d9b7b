// Package daemon starts, stops and controls one host's Open vSwitch: an
// ovsdb-server and an ovs-vswitchd whose run, database and log directories
// are all one directory, with ovs-vswitchd running in a named network
// namespace. vland's lab runs one such instance per simulated host.
//
// Every OVS tool finds its sockets through OVS_RUNDIR, so the methods here
// (Vsctl, Ofctl, Appctl) run the tools with OVS_RUNDIR set to the instance's
// directory: "br-int" then resolves to DIR/br-int.mgmt and "ovs-vswitchd" to
// DIR/ovs-vswitchd.<pid>.ctl. Unix socket paths must stay below 108 bytes,
// so keep Dir short (tests use /tmp/<prefix>-...).
package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// SchemaPath is the Open_vSwitch schema shipped by openvswitch-switch.
const SchemaPath = "/usr/share/openvswitch/vswitch.ovsschema"

// Sentinel errors.
var (
	ErrBadConfig  = errors.New("daemon: bad config")
	ErrNotRunning = errors.New("daemon: not running")
)

// Config describes one host's Open vSwitch.
type Config struct {
	// Dir is the run, database and log directory. It must be absolute and
	// short (socket paths under it must be < 108 bytes). Created if missing.
	Dir string
	// NetNS is the named namespace (ip netns) where the daemons run; ""
	// means the current namespace.
	NetNS string
	// DatapathType is "netdev" or "system"; informational only (bridges
	// choose their datapath in OVSDB).
	DatapathType string
}

// OVS is a running (or attached) Open vSwitch instance. Its methods are safe
// for concurrent use.
type OVS struct {
	cfg Config
}

// startTimeout bounds one daemon start, including readiness checks.
const startTimeout = 20 * time.Second

// Start creates the database if needed and starts ovsdb-server and
// ovs-vswitchd, returning once both answer. An existing database in Dir is
// reused, so Start after Stop brings back the same configuration.
func Start(ctx context.Context, cfg Config) (*OVS, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("daemon: create dir: %w", err)
	}
	o := &OVS{cfg: cfg}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := o.createDB(ctx); err != nil {
		return nil, err
	}
	if err := o.startDBServer(ctx); err != nil {
		return nil, err
	}
	if err := o.startVswitchd(ctx); err != nil {
		o.killDaemon(dbServer)
		return nil, err
	}
	return o, nil
}

// Attach returns a handle on an instance already running in dir (started by
// another process). It fails with ErrNotRunning unless both daemons are alive.
func Attach(dir, netns string) (*OVS, error) {
	o := &OVS{cfg: Config{Dir: dir, NetNS: netns}}
	if err := o.cfg.validate(); err != nil {
		return nil, err
	}
	for _, d := range []string{dbServer, vswitchd} {
		if _, err := o.livePID(d); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (c Config) validate() error {
	if c.Dir == "" || !filepath.IsAbs(c.Dir) {
		return fmt.Errorf("%w: Dir %q must be an absolute path", ErrBadConfig, c.Dir)
	}
	// The longest socket is DIR/ovs-vswitchd.<pid>.ctl or DIR/<bridge>.mgmt.
	if len(c.Dir)+len("/ovs-vswitchd.4194304.ctl") >= 108 {
		return fmt.Errorf("%w: Dir %q too long for unix sockets", ErrBadConfig, c.Dir)
	}
	return nil
}

// Dir returns the run/db/log directory.
func (o *OVS) Dir() string { return o.cfg.Dir }

// RunDir returns the OVS_RUNDIR of this instance (same as Dir).
func (o *OVS) RunDir() string { return o.cfg.Dir }

// NetNS returns the namespace ovs-vswitchd runs in ("" = current).
func (o *OVS) NetNS() string { return o.cfg.NetNS }

// DBSock returns the OVSDB endpoint, "unix:DIR/db.sock".
func (o *OVS) DBSock() string { return "unix:" + o.dbSockPath() }

// BridgeTarget returns the OpenFlow management socket of a bridge,
// "unix:DIR/BR.mgmt", usable as ovs-ofctl target from any namespace.
func (o *OVS) BridgeTarget(bridge string) string {
	return "unix:" + filepath.Join(o.cfg.Dir, bridge+".mgmt")
}

func (o *OVS) dbSockPath() string { return filepath.Join(o.cfg.Dir, "db.sock") }
func (o *OVS) dbPath() string     { return filepath.Join(o.cfg.Dir, "conf.db") }
