package agent

import (
	"context"

	"github.com/vland/vland/internal/hoststate"
)

// Dataplane is what the agent needs from the host's data plane
// (internal/dataplane in production, a recording fake in tests). It is
// declarative: Apply makes Open vSwitch match a whole State, so calling it
// again with the same State changes nothing.
type Dataplane interface {
	// Start connects to OVS and creates the bridges; it returns once
	// Interfaces reflects what is plugged into br-int.
	Start(ctx context.Context) error
	// Interfaces lists br-int's interfaces that carry an iface-id.
	Interfaces(ctx context.Context) ([]hoststate.Interface, error)
	// Changes receives a value (coalesced) whenever Interfaces changes.
	Changes() <-chan struct{}
	// Apply reconciles OVS to s and reports what happened to each port.
	Apply(ctx context.Context, s hoststate.State) ([]hoststate.PortResult, error)
	// Close releases the data plane's connections; flows stay in place.
	Close()
}
