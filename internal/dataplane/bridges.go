package dataplane

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/vland/vland/internal/ovs/ovsdb"
)

// OVSDB keys vland reads and writes.
const (
	extIfaceID     = "iface-id"
	extAttachedMAC = "attached-mac"
	extOwner       = "vland-owner" // on ports the data plane created
	extKind        = "vland-kind"  // "patch", "tunnel"
	extRound       = "vland-flow-round"
	ownerValue     = "dataplane"

	patchTun = "patch-tun" // br-int end
	patchInt = "patch-int" // br-tun end
)

// protocols are enabled on every bridge: bundles need OpenFlow 1.4+.
var protocols = []string{"OpenFlow10", "OpenFlow13", "OpenFlow14", "OpenFlow15"}

func (d *Dataplane) bridgeOpts() ovsdb.BridgeOptions {
	return ovsdb.BridgeOptions{DatapathType: d.cfg.DatapathType, FailMode: "secure", Protocols: protocols}
}

// ensureBridges makes br-int, br-tun, the provider bridges and their patch
// pairs exist. Idempotent.
func (d *Dataplane) ensureBridges(ctx context.Context, mappings map[string]string) error {
	intBr, tunBr := d.cfg.IntegrationBridge, d.cfg.TunnelBridge
	var errs []error
	for _, br := range append([]string{intBr, tunBr}, providerBridges(mappings)...) {
		if err := d.db.EnsureBridge(ctx, br, d.bridgeOpts()); err != nil {
			errs = append(errs, fmt.Errorf("dataplane: bridge %s: %w", br, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	errs = append(errs, d.ensurePatch(ctx, intBr, patchTun, tunBr, patchInt))
	for _, br := range providerBridges(mappings) {
		errs = append(errs, d.ensurePatch(ctx, intBr, intPatchName(br), br, phyPatchName(br)))
	}
	return errors.Join(errs...)
}

// ensurePatch creates the patch pair a (on brA) <-> b (on brB).
func (d *Dataplane) ensurePatch(ctx context.Context, brA, a, brB, b string) error {
	ext := map[string]string{extOwner: ownerValue, extKind: "patch"}
	errA := d.db.EnsurePort(ctx, brA, a, ovsdb.PortSpec{Type: "patch", Options: map[string]string{"peer": b}, ExternalIDs: ext})
	errB := d.db.EnsurePort(ctx, brB, b, ovsdb.PortSpec{Type: "patch", Options: map[string]string{"peer": a}, ExternalIDs: ext})
	if err := errors.Join(errA, errB); err != nil {
		return fmt.Errorf("dataplane: patch %s<->%s: %w", a, b, err)
	}
	return nil
}

// Neutron's names for the provider patch pair of bridge br-ex:
// int-br-ex on br-int, phy-br-ex on br-ex.
func intPatchName(br string) string { return truncName("int-" + br) }
func phyPatchName(br string) string { return truncName("phy-" + br) }

// truncName keeps port names within Linux's 15 characters.
func truncName(s string) string {
	if len(s) > 15 {
		return s[:15]
	}
	return s
}

func providerBridges(m map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, br := range m {
		if br != "" && !seen[br] {
			seen[br] = true
			out = append(out, br)
		}
	}
	sort.Strings(out)
	return out
}

// nextRound reads the flow round of the previous agent from br-int and
// persists the next one, so that this agent's cookies differ from any
// flow an earlier agent left behind.
func (d *Dataplane) nextRound(ctx context.Context) (uint16, error) {
	br, err := d.db.GetBridge(ctx, d.cfg.IntegrationBridge)
	if err != nil {
		return 0, fmt.Errorf("dataplane: read round: %w", err)
	}
	prev, _ := strconv.ParseUint(br.ExternalIDs[extRound], 10, 16)
	next := uint16(prev) + 1
	if next == 0 {
		next = 1
	}
	ids := map[string]string{extRound: strconv.FormatUint(uint64(next), 10)}
	if err := d.db.SetBridgeExternalIDs(ctx, d.cfg.IntegrationBridge, ids); err != nil {
		return 0, fmt.Errorf("dataplane: persist round: %w", err)
	}
	return next, nil
}
