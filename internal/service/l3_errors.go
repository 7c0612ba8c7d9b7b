package service

import (
	"errors"

	"github.com/vland/vland/internal/fault"
)

// Error kinds of the L3 API (routers, floating IPs, port forwardings);
// internal/neutron maps them to Neutron's status codes and types.
var (
	ErrRouterNotFound                  = errors.New("service: router not found")
	ErrRouterInUse                     = errors.New("service: router in use")
	ErrRouterInterfaceNotFound         = errors.New("service: router interface not found")
	ErrRouterInterfaceNotFoundSubnet   = errors.New("service: router interface not found for subnet")
	ErrRouterInterfaceInUseByRoute     = errors.New("service: router interface in use by a route")
	ErrRouterInterfaceInUseByFIP       = errors.New("service: router interface in use by a floating ip")
	ErrGatewayInUseByFIP               = errors.New("service: router gateway in use by a floating ip")
	ErrInvalidRoutes                   = errors.New("service: invalid routes")
	ErrRoutesExhausted                 = errors.New("service: too many routes")
	ErrPortInUse                       = errors.New("service: port in use")
	ErrFloatingIPNotFound              = errors.New("service: floating ip not found")
	ErrExternalGatewayForFIPNotFound   = errors.New("service: no router path to the external network")
	ErrFloatingIPPortAlreadyAssociated = errors.New("service: fixed ip already has a floating ip")
	ErrFipInUseByPortForwarding        = errors.New("service: floating ip has port forwardings")
	ErrPortForwardingNotFound          = errors.New("service: port forwarding not found")
	ErrPortForwardingConflict          = errors.New("service: port forwarding conflict")
)

// maxRoutes is Neutron's max_routes.
const maxRoutes = 30

func routerNotFound(id string) error {
	return fault.New(ErrRouterNotFound, "Router %s could not be found", id)
}

func fipNotFound(id string) error {
	return fault.New(ErrFloatingIPNotFound, "Floating IP %s could not be found", id)
}

func badRouter(format string, args ...any) error {
	return fault.New(fault.ErrBadRequest, "Bad router request: "+format, args...)
}

func badFIP(format string, args ...any) error {
	return fault.New(fault.ErrBadRequest, "Bad floatingip request: "+format, args...)
}
