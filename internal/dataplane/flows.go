package dataplane

import (
	"context"
	"fmt"
	"sync"

	"github.com/vland/vland/internal/ovs/openflow"
	"github.com/vland/vland/internal/pipeline"
)

// Cookie returns the full cookie of a flow of owner in round (layout in
// docs/pipeline.md): component | round | pipeline owner.
func Cookie(owner pipeline.Owner, round uint16) uint64 {
	return uint64(openflow.NewCookie(pipeline.CookieComponent, round, uint32(owner)))
}

// ofBridges writes flows through internal/ovs/openflow: one Bridge applier
// per bridge, owner pipeline.CookieComponent, pipeline owners in the
// cookie's feature bits. Learned flows carry another component and are
// never touched.
type ofBridges struct {
	of openflow.Ofctl
	mu sync.Mutex
	br map[string]*openflow.Bridge
}

func newOFBridges(target func(string) string) *ofBridges {
	return &ofBridges{of: openflow.Ofctl{Target: target}, br: map[string]*openflow.Bridge{}}
}

func (o *ofBridges) bridge(name string) *openflow.Bridge {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.br[name]
	if !ok {
		b = openflow.NewBridge(o.of, name, pipeline.CookieComponent)
		o.br[name] = b
	}
	return b
}

func toOpenflow(fs []pipeline.Flow) []openflow.Flow {
	out := make([]openflow.Flow, len(fs))
	for i, f := range fs {
		out[i] = openflow.Flow{Table: f.Table, Priority: f.Priority, Cookie: uint64(f.Owner), Match: f.Match, Actions: f.Actions}
	}
	return out
}

func (o *ofBridges) Sync(ctx context.Context, bridge string, round uint16, flows []pipeline.Flow) error {
	return o.bridge(bridge).Sync(ctx, toOpenflow(flows), round)
}

func (o *ofBridges) Apply(ctx context.Context, bridge string, flows []pipeline.Flow) error {
	return o.bridge(bridge).Apply(ctx, toOpenflow(flows))
}

func (o *ofBridges) Lost(ctx context.Context, bridge string) (bool, error) {
	return o.bridge(bridge).Lost(ctx)
}

func (o *ofBridges) ForgetPort(ctx context.Context, bridge string, ofport int) error {
	line := fmt.Sprintf("delete table=%d,out_port=%d", pipeline.TunUcast.ID, ofport)
	return o.of.Bundle(ctx, bridge, []string{line})
}

func (o *ofBridges) Watch(ctx context.Context, bridge string) error {
	return o.of.Monitor(ctx, bridge)
}
