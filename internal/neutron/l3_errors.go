package neutron

import (
	"net/http"

	"github.com/vland/vland/internal/service"
)

// The L3 API's error kinds (Neutron's l3 and port forwarding exceptions).
func init() {
	for _, e := range []struct {
		kind   error
		status int
		typ    string
	}{
		{service.ErrRouterNotFound, http.StatusNotFound, "RouterNotFound"},
		{service.ErrRouterInUse, http.StatusConflict, "RouterInUse"},
		{service.ErrRouterInterfaceNotFound, http.StatusNotFound, "RouterInterfaceNotFound"},
		{service.ErrRouterInterfaceNotFoundSubnet, http.StatusNotFound, "RouterInterfaceNotFoundForSubnet"},
		{service.ErrRouterInterfaceInUseByRoute, http.StatusConflict, "RouterInterfaceInUseByRoute"},
		{service.ErrRouterInterfaceInUseByFIP, http.StatusConflict, "RouterInterfaceInUseByFloatingIP"},
		{service.ErrGatewayInUseByFIP, http.StatusConflict, "RouterExternalGatewayInUseByFloatingIp"},
		{service.ErrInvalidRoutes, http.StatusBadRequest, "InvalidRoutes"},
		{service.ErrRoutesExhausted, http.StatusBadRequest, "RoutesExhausted"},
		{service.ErrPortInUse, http.StatusConflict, "PortInUse"},
		{service.ErrServicePortInUse, http.StatusConflict, "ServicePortInUse"},
		{service.ErrFloatingIPNotFound, http.StatusNotFound, "FloatingIPNotFound"},
		{service.ErrExternalGatewayForFIPNotFound, http.StatusNotFound, "ExternalGatewayForFloatingIPNotFound"},
		{service.ErrFloatingIPPortAlreadyAssociated, http.StatusConflict, "FloatingIPPortAlreadyAssociated"},
		{service.ErrFipInUseByPortForwarding, http.StatusConflict, "FipInUseByPortForwarding"},
		{service.ErrPortForwardingNotFound, http.StatusNotFound, "PortForwardingNotFound"},
		{service.ErrPortForwardingConflict, http.StatusConflict, "PortForwardingConflict"},
	} {
		errorTable = append(errorTable, struct {
			kind error
			wire wireError
		}{e.kind, wireError{e.status, e.typ}})
	}
}
