package dataplane

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/hoststate"
)

// portFlowsOf returns the flows that name a port's ofport.
func portFlowsOf(f *fakeOVS, port string) []string {
	var out []string
	for _, l := range strings.Split(f.String(), "\n") {
		if strings.Contains(l, "in_port="+port+",") || strings.Contains(l, "in_port="+port+" ") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

// A port whose tag write OVSDB refuses stays unwired (no flows, so table 0
// drops what it sends) and is not reported bound; once the write succeeds
// it is wired. An untagged port would be a trunk into every local VLAN.
func TestTagRefusedLeavesPortUnwired(t *testing.T) {
	states := seqStates()
	d, f := newFakeDataplane(t)
	ctx := context.Background()
	f.refuseTag = map[string]bool{"tap-p1": true}

	res, err := d.Apply(ctx, states[1])
	assert.Equal(t, []hoststate.PortResult{{PortID: "p1"}}, res, "not bound, so the agent reports it DOWN")
	assert.Nil(t, f.ports["tap-p1"].Tag)
	assert.Empty(t, portFlowsOf(f, "tap-p1"), "an untagged port must have no flows")
	require.ErrorIs(t, err, ErrTag)

	f.refuseTag = nil
	res, err = d.Apply(ctx, states[1])
	require.NoError(t, err)
	assert.Equal(t, []hoststate.PortResult{{PortID: "p1", LocalVLAN: 1, Bound: true}}, res)
	assert.Equal(t, 1, *f.ports["tap-p1"].Tag)
	assert.NotEmpty(t, portFlowsOf(f, "tap-p1"))
}

// The write is accepted but the tag does not read back (lost, or reset by
// another writer): only that port stays unwired; the others are wired.
func TestTagNotReadBackLeavesPortUnwired(t *testing.T) {
	states := seqStates()
	d, f := newFakeDataplane(t)
	ctx := context.Background()
	f.ignoreTag = map[string]bool{"tap-p2": true}

	res, err := d.Apply(ctx, states[2])
	require.ErrorIs(t, err, ErrTag)
	assert.Equal(t, []hoststate.PortResult{
		{PortID: "p1", LocalVLAN: 1, Bound: true},
		{PortID: "p2"},
		{PortID: "p3", LocalVLAN: 1, Bound: true},
	}, res)
	assert.Empty(t, portFlowsOf(f, "tap-p2"))
	assert.NotEmpty(t, portFlowsOf(f, "tap-p1"))

	// A wired port whose tag is later lost is unwired at the next Apply,
	// even though the tag write that follows is lost too.
	f.ports["tap-p1"].Tag = nil
	f.ignoreTag["tap-p1"] = true
	res, err = d.Apply(ctx, states[2])
	require.ErrorIs(t, err, ErrTag)
	assert.False(t, res[0].Bound)
	assert.Empty(t, portFlowsOf(f, "tap-p1"))
	assert.NotEmpty(t, portFlowsOf(f, "tap-p3"))
}
