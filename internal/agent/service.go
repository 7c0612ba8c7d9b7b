package agent

import (
	"context"
	"errors"
	"fmt"
)

// Service is a network service the agent runs for one of its roles (DHCP
// today; routers and metadata next). Each is its own reconciler beside the
// data plane: on every reconcile the agent hands it the store snapshot, and
// the service computes its slice of desired state and applies what changed
// since it last applied (its Set).
type Service interface {
	// Name names the service in logs ("dhcp").
	Name() string
	// Sync computes the service's desired state from snap and makes the
	// host match it.
	Sync(ctx context.Context, snap Snapshot) error
	// Run does the service's own background work (supervising its
	// processes) until ctx ends.
	Run(ctx context.Context)
}

// syncServices syncs every service; one failing does not stop the others.
func (a *Agent) syncServices(ctx context.Context, snap Snapshot) error {
	var errs []error
	for _, s := range a.cfg.Services {
		if err := s.Sync(ctx, snap); err != nil {
			errs = append(errs, fmt.Errorf("agent: %s: %w", s.Name(), err))
		}
	}
	return errors.Join(errs...)
}
