package neutron

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/ipam"
	"github.com/vland/vland/internal/segment"
	"github.com/vland/vland/internal/service"
)

// wireError is how one error kind goes on the wire.
type wireError struct {
	status int
	typ    string // Neutron's exception class name
}

// errorTable is the one place client errors become HTTP: status code and
// Neutron error type per kind. Every client error is a *fault.Error whose
// kind (matched with errors.Is) is one of these sentinels, whichever
// package owns the rule: fault (generic), ipam (addressing), segment
// (network segments), service (everything else) or this package
// (transport).
var errorTable = []struct {
	kind error
	wire wireError
}{
	{fault.ErrBadRequest, wireError{http.StatusBadRequest, "HTTPBadRequest"}},
	{fault.ErrInvalidInput, wireError{http.StatusBadRequest, "InvalidInput"}},
	{ipam.ErrInvalidIPForSubnet, wireError{http.StatusBadRequest, "InvalidIpForSubnet"}},
	{ipam.ErrInvalidPool, wireError{http.StatusBadRequest, "InvalidAllocationPool"}},
	{ipam.ErrOverlappingPools, wireError{http.StatusBadRequest, "OverlappingAllocationPools"}},
	{ipam.ErrGatewayInPool, wireError{http.StatusConflict, "GatewayConflictWithAllocationPools"}},
	{ipam.ErrMACInUse, wireError{http.StatusConflict, "MacAddressInUse"}},
	{ipam.ErrIPInUse, wireError{http.StatusConflict, "IpAddressAlreadyAllocated"}},
	{ipam.ErrIPExhausted, wireError{http.StatusConflict, "IpAddressGenerationFailure"}},
	{segment.ErrTunnelIDInUse, wireError{http.StatusConflict, "TunnelIdInUse"}},
	{segment.ErrVLANInUse, wireError{http.StatusConflict, "VlanIdInUse"}},
	{segment.ErrFlatInUse, wireError{http.StatusConflict, "FlatNetworkInUse"}},
	{segment.ErrNoNetwork, wireError{http.StatusServiceUnavailable, "NoNetworkAvailable"}},
	{service.ErrUnauthenticated, wireError{http.StatusUnauthorized, "HTTPUnauthorized"}},
	{service.ErrForbidden, wireError{http.StatusForbidden, "PolicyNotAuthorized"}},
	{service.ErrNetworkNotFound, wireError{http.StatusNotFound, "NetworkNotFound"}},
	{service.ErrSubnetNotFound, wireError{http.StatusNotFound, "SubnetNotFound"}},
	{service.ErrPortNotFound, wireError{http.StatusNotFound, "PortNotFound"}},
	{service.ErrAgentNotFound, wireError{http.StatusNotFound, "AgentNotFound"}},
	{service.ErrTagNotFound, wireError{http.StatusNotFound, "TagNotFound"}},
	{service.ErrNetworkInUse, wireError{http.StatusConflict, "NetworkInUse"}},
	{service.ErrSubnetInUse, wireError{http.StatusConflict, "SubnetInUse"}},
	{service.ErrRevisionMismatch, wireError{http.StatusPreconditionFailed, "RevisionNumberConstraintFailed"}},
	{service.ErrSharedInUse, wireError{http.StatusConflict, "InvalidSharedSetting"}},
	{service.ErrGatewayInUse, wireError{http.StatusConflict, "GatewayIpInUse"}},
	{service.ErrOverQuota, wireError{http.StatusConflict, "OverQuota"}},
	{service.ErrRBACPolicyNotFound, wireError{http.StatusNotFound, "RbacPolicyNotFound"}},
	{service.ErrRBACPolicyInUse, wireError{http.StatusConflict, "RbacPolicyInUse"}},
	{service.ErrDuplicateRBACPolicy, wireError{http.StatusConflict, "DuplicateRbacPolicy"}},
	{service.ErrInvalidActionForType, wireError{http.StatusBadRequest, "InvalidActionForType"}},
	{service.ErrSecGroupNotFound, wireError{http.StatusNotFound, "SecurityGroupNotFound"}},
	{service.ErrSecGroupRuleNotFound, wireError{http.StatusNotFound, "SecurityGroupRuleNotFound"}},
	{service.ErrSecGroupInUse, wireError{http.StatusConflict, "SecurityGroupInUse"}},
	{service.ErrSecGroupRuleExists, wireError{http.StatusConflict, "SecurityGroupRuleExists"}},
	{service.ErrDefaultSecGroupExists, wireError{http.StatusConflict, "SecurityGroupDefaultAlreadyExists"}},
	{service.ErrCannotRemoveDefault, wireError{http.StatusConflict, "SecurityGroupCannotRemoveDefault"}},
	{service.ErrCannotUpdateDefault, wireError{http.StatusConflict, "SecurityGroupCannotUpdateDefault"}},
	{service.ErrSecGroupsNeedPortSec, wireError{http.StatusBadRequest, "PortSecurityAndIPRequiredForSecurityGroups"}},
	{service.ErrPortHasSecGroup, wireError{http.StatusConflict, "PortSecurityPortHasSecurityGroup"}},
	{service.ErrRuleInvalidProtocol, wireError{http.StatusBadRequest, "SecurityGroupRuleInvalidProtocol"}},
	{service.ErrRuleInvalidEthertype, wireError{http.StatusBadRequest, "SecurityGroupRuleInvalidEtherType"}},
	{service.ErrRuleInvalidPort, wireError{http.StatusBadRequest, "SecurityGroupInvalidPortValue"}},
	{service.ErrRuleInvalidRange, wireError{http.StatusBadRequest, "SecurityGroupInvalidPortRange"}},
	{service.ErrRuleInvalidICMP, wireError{http.StatusBadRequest, "SecurityGroupInvalidIcmpValue"}},
	{service.ErrRuleMissingICMPType, wireError{http.StatusBadRequest, "SecurityGroupMissingIcmpType"}},
	{service.ErrRuleProtocolRequired, wireError{http.StatusBadRequest, "SecurityGroupProtocolRequiredWithPorts"}},
	{service.ErrRuleRemoteConflict, wireError{http.StatusBadRequest, "SecurityGroupRemoteGroupAndRemoteIpPrefix"}},
	{service.ErrRuleEthertypeCIDR, wireError{http.StatusBadRequest, "SecurityGroupRuleParameterConflict"}},
	{service.ErrRuleEthertypeProto, wireError{http.StatusBadRequest, "SecurityGroupEthertypeConflictWithProtocol"}},
	{service.ErrBusy, wireError{http.StatusServiceUnavailable, "ServiceUnavailable"}},
	{service.ErrInvalidDHCPAgent, wireError{http.StatusNotFound, "InvalidDHCPAgent"}},
	{service.ErrNetworkHostedByDHCPAgent, wireError{http.StatusConflict, "NetworkHostedByDHCPAgent"}},
	{service.ErrInvalidL3Agent, wireError{http.StatusNotFound, "InvalidL3Agent"}},
	{service.ErrRouterHostedByL3Agent, wireError{http.StatusConflict, "RouterHostedByL3Agent"}},
	{service.ErrRouterNotHostedByL3Agent, wireError{http.StatusConflict, "RouterNotHostedByL3Agent"}},
	{service.ErrNetworkNotHostedByDHCPAgent, wireError{http.StatusConflict, "NetworkNotHostedByDhcpAgent"}},
	{service.ErrAgentAlive, wireError{http.StatusConflict, "AgentInUse"}},
	{service.ErrInstanceNotFound, wireError{http.StatusNotFound, "InstanceNotFound"}},
	{service.ErrInstanceExists, wireError{http.StatusConflict, "InstanceExists"}},
	{errNotFound, wireError{http.StatusNotFound, "HTTPNotFound"}},
	{errTooLarge, wireError{http.StatusRequestEntityTooLarge, "HTTPRequestEntityTooLarge"}},
	{errExtensionNotFound, wireError{http.StatusNotFound, "ExtensionNotFound"}},
	{errMethodNotAllowed, wireError{http.StatusMethodNotAllowed, "HTTPMethodNotAllowed"}},
}

// Transport-level error kinds.
var (
	errNotFound          = errors.New("neutron: no such resource")
	errTooLarge          = errors.New("neutron: request body too large")
	errExtensionNotFound = errors.New("neutron: no such extension")
	errMethodNotAllowed  = errors.New("neutron: method not allowed")
)

// transportErr builds a client error of a transport kind.
func transportErr(kind error, msg string) error { return &fault.Error{Kind: kind, Message: msg} }

// badRequest is Neutron's generic 400.
func badRequest(msg string) error { return transportErr(fault.ErrBadRequest, msg) }

// writeError answers err in Neutron's format. Errors outside the table are
// internal: logged with the request id and answered 500 without details.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	body := api.ErrorBody{}
	status := http.StatusInternalServerError
	body.NeutronError = api.NeutronError{Type: "HTTPInternalServerError",
		Message: "Request Failed: internal server error while processing your request."}
	var se *fault.Error
	matched := false
	for _, e := range errorTable {
		if errors.Is(err, e.kind) {
			status, body.NeutronError.Type, matched = e.wire.status, e.wire.typ, true
			break
		}
	}
	switch {
	case matched && errors.As(err, &se):
		body.NeutronError.Message = se.Message
	case matched:
		body.NeutronError.Message = err.Error()
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		status = http.StatusServiceUnavailable
		body.NeutronError.Type = "ServiceUnavailable"
		body.NeutronError.Message = "Request was cancelled or timed out."
	default:
		slog.Error("neutron: internal error", "method", r.Method, "path", r.URL.Path,
			"request_id", w.Header().Get(requestIDHeader), "err", err)
	}
	writeJSON(w, status, body)
}
