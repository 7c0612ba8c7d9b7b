package ipam

import "fmt"

// Neutron error types (the "type" of a NeutronError body) that ipam
// returns. The HTTP status goes with each.
const (
	KindInvalidInput               = "InvalidInput"                       // 400
	KindInvalidIPForSubnet         = "InvalidIpForSubnet"                 // 400
	KindInvalidAllocationPool      = "InvalidAllocationPool"              // 400
	KindOutOfBoundsAllocationPool  = "OutOfBoundsAllocationPool"          // 400
	KindOverlappingAllocationPools = "OverlappingAllocationPools"         // 409
	KindGatewayConflict            = "GatewayConflictWithAllocationPools" // 409
	KindIPAddressAlreadyAllocated  = "IpAddressAlreadyAllocated"          // 409
	KindIPAddressGenerationFailure = "IpAddressGenerationFailure"         // 409
	KindMACAddressInUse            = "MacAddressInUse"                    // 409
)

// Error is an ipam failure the API reports as a NeutronError: Kind is its
// "type", Status the HTTP status and Message the user-facing text (Neutron's
// wording). Match it with errors.As(err, new(*ipam.Error)), or through the
// NeutronType/HTTPStatus methods (segment.Error has the same ones).
type Error struct {
	Kind    string
	Status  int
	Message string
}

func (e *Error) Error() string { return "ipam: " + e.Message }

// NeutronType returns the NeutronError type.
func (e *Error) NeutronType() string { return e.Kind }

// HTTPStatus returns the HTTP status code.
func (e *Error) HTTPStatus() int { return e.Status }

func newError(kind string, status int, format string, args ...any) *Error {
	return &Error{Kind: kind, Status: status, Message: fmt.Sprintf(format, args...)}
}

// invalidInput is Neutron's generic 400 for a bad attribute value.
func invalidInput(attr, format string, args ...any) *Error {
	return newError(KindInvalidInput, 400, "Invalid input for %s. Reason: %s.", attr, fmt.Sprintf(format, args...))
}

// invalidOperation is Neutron's InvalidInput raised by the plugin.
func invalidOperation(format string, args ...any) *Error {
	return newError(KindInvalidInput, 400, "Invalid input for operation: %s.", fmt.Sprintf(format, args...))
}

// GenerationFailure is the error for a network whose subnets have no free
// address left; Reserve returns it naming the subnet, the service may
// replace it with one naming the network, as Neutron does.
func GenerationFailure(networkID string) *Error {
	return newError(KindIPAddressGenerationFailure, 409, "No more IP addresses available on network %s.", networkID)
}

// AlreadyAllocated is the error for a requested address that is taken.
func AlreadyAllocated(ip, subnetID string) *Error {
	return newError(KindIPAddressAlreadyAllocated, 409, "IP address %s already allocated in subnet %s", ip, subnetID)
}

// MACInUse is the error for a requested MAC that is taken (the store's
// MAC key condition failed).
func MACInUse(networkID, mac string) *Error {
	return newError(KindMACAddressInUse, 409,
		"Unable to complete operation for network %s. The mac address %s is in use.", networkID, mac)
}
