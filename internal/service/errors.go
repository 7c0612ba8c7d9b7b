package service

import (
	"errors"
	"fmt"
)

// Sentinel error kinds. Every error the service returns for a client
// mistake wraps one of these (through *Error, which also carries Neutron's
// message); internal/neutron maps each kind to a status code and Neutron
// error type in one table.
var (
	ErrBadRequest         = errors.New("service: bad request")           // 400 HTTPBadRequest
	ErrInvalidInput       = errors.New("service: invalid input")         // 400 InvalidInput
	ErrInvalidIPForSubnet = errors.New("service: invalid ip for subnet") // 400 InvalidIpForSubnet
	ErrInvalidPool        = errors.New("service: invalid allocation pool")
	ErrOverlappingPools   = errors.New("service: overlapping allocation pools")
	ErrGatewayInPool      = errors.New("service: gateway conflicts with allocation pools")
	ErrUnauthenticated    = errors.New("service: no identity")    // 401
	ErrForbidden          = errors.New("service: not authorized") // 403 PolicyNotAuthorized
	ErrNetworkNotFound    = errors.New("service: network not found")
	ErrSubnetNotFound     = errors.New("service: subnet not found")
	ErrPortNotFound       = errors.New("service: port not found")
	ErrAgentNotFound      = errors.New("service: agent not found")
	ErrNetworkInUse       = errors.New("service: network in use")
	ErrSubnetInUse        = errors.New("service: subnet in use")
	ErrMACInUse           = errors.New("service: mac address in use")
	ErrIPInUse            = errors.New("service: ip address already allocated")
	ErrIPExhausted        = errors.New("service: no more ip addresses")
	ErrTunnelIDInUse      = errors.New("service: tunnel id in use")
	ErrVLANInUse          = errors.New("service: vlan id in use")
	ErrFlatInUse          = errors.New("service: flat network in use")
	ErrNoSegment          = errors.New("service: no tenant network available") // 503
	ErrRevisionMismatch   = errors.New("service: revision number constraint failed")
	ErrSharedInUse        = errors.New("service: network sharing in use")
	ErrGatewayInUse       = errors.New("service: gateway ip in use")
	// ErrBusy: optimistic transactions kept conflicting; the caller may
	// retry (503).
	ErrBusy = errors.New("service: too much contention")
)

// Error is a client-facing error: a kind (one of the sentinels above) and
// the message Neutron would give.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

// errorf builds an *Error of the given kind.
func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// invalidInput is Neutron's InvalidInput: "Invalid input for operation: ...".
func invalidInput(format string, args ...any) error {
	return &Error{Kind: ErrInvalidInput, Message: "Invalid input for operation: " + fmt.Sprintf(format, args...) + "."}
}

// badAttr is Neutron's attribute validation failure.
func badAttr(attr, format string, args ...any) error {
	return &Error{Kind: ErrBadRequest, Message: fmt.Sprintf("Invalid input for %s. Reason: %s.", attr, fmt.Sprintf(format, args...))}
}

func networkNotFound(id string) error {
	return errorf(ErrNetworkNotFound, "Network %s could not be found.", id)
}

func subnetNotFound(id string) error {
	return errorf(ErrSubnetNotFound, "Subnet %s could not be found.", id)
}

func portNotFound(id string) error {
	return errorf(ErrPortNotFound, "Port %s could not be found.", id)
}

func forbidden(rule string) error {
	return errorf(ErrForbidden, "(rule:%s) is disallowed by policy", rule)
}
