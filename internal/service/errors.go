package service

import (
	"errors"

	"github.com/vland/vland/internal/fault"
)

// Error kinds of the service's own rules. Every client mistake is a
// *fault.Error of one of these kinds, of ipam's or segment's (addressing
// and segments), or of fault's generic ones; internal/neutron maps each
// kind to a status code and Neutron error type in one table.
var (
	ErrUnauthenticated  = errors.New("service: no identity")    // 401
	ErrForbidden        = errors.New("service: not authorized") // 403 PolicyNotAuthorized
	ErrNetworkNotFound  = errors.New("service: network not found")
	ErrSubnetNotFound   = errors.New("service: subnet not found")
	ErrPortNotFound     = errors.New("service: port not found")
	ErrAgentNotFound    = errors.New("service: agent not found")
	ErrNetworkInUse     = errors.New("service: network in use")
	ErrSubnetInUse      = errors.New("service: subnet in use")
	ErrRevisionMismatch = errors.New("service: revision number constraint failed")
	ErrSharedInUse      = errors.New("service: network sharing in use")
	ErrGatewayInUse     = errors.New("service: gateway ip in use")
	// ErrBusy: optimistic transactions kept conflicting; the caller may
	// retry (503).
	ErrBusy = errors.New("service: too much contention")
)

func networkNotFound(id string) error {
	return fault.New(ErrNetworkNotFound, "Network %s could not be found.", id)
}

func subnetNotFound(id string) error {
	return fault.New(ErrSubnetNotFound, "Subnet %s could not be found.", id)
}

func portNotFound(id string) error {
	return fault.New(ErrPortNotFound, "Port %s could not be found.", id)
}

func forbidden(rule string) error {
	return fault.New(ErrForbidden, "(rule:%s) is disallowed by policy", rule)
}
