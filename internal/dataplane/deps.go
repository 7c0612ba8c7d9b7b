package dataplane

import (
	"context"
	"time"

	"github.com/vland/vland/internal/ovs/ovsdb"
	"github.com/vland/vland/internal/pipeline"
)

// switchDB is what the data plane needs from OVSDB: the subset of
// *ovsdb.Client it uses, so tests can run against a fake.
type switchDB interface {
	EnsureBridge(ctx context.Context, name string, opts ovsdb.BridgeOptions) error
	GetBridge(ctx context.Context, name string) (ovsdb.BridgeInfo, error)
	SetBridgeExternalIDs(ctx context.Context, name string, ids map[string]string) error
	EnsurePort(ctx context.Context, bridge, name string, spec ovsdb.PortSpec) error
	DeletePort(ctx context.Context, bridge, name string) error
	UpdatePorts(ctx context.Context, ups []ovsdb.PortUpdate) (int, error)
	ListPorts(ctx context.Context, bridge string) ([]ovsdb.PortInfo, error)
	WaitOFPort(ctx context.Context, name string) (int, error)
	WaitCfg(ctx context.Context, target int, timeout time.Duration) error
	Changes() <-chan struct{}
	Close()
}

// flowWriter installs vland's flows on bridges. Sync installs the full
// set as round and removes every other vland flow (start, after loss);
// Apply sends the difference from what was last installed; Lost reports
// that installed flows vanished (ovs-vswitchd restarted).
type flowWriter interface {
	Sync(ctx context.Context, bridge string, round uint16, flows []pipeline.Flow) error
	Apply(ctx context.Context, bridge string, flows []pipeline.Flow) error
	Lost(ctx context.Context, bridge string) (bool, error)
	// ForgetPort deletes learned flows that output to ofport, so a tunnel
	// port re-created under another number is not blackholed until their
	// hard timeout.
	ForgetPort(ctx context.Context, bridge string, ofport int) error
	// Watch holds an OpenFlow connection to bridge and returns when it
	// ends (ovs-vswitchd exited or restarted) or ctx ends.
	Watch(ctx context.Context, bridge string) error
}
