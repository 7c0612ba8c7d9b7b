package ipam

import (
	"errors"
	"net/netip"

	"github.com/vland/vland/internal/fault"
)

// Error kinds of ipam. Failures are *fault.Error values of these kinds (or
// of fault.ErrBadRequest / fault.ErrInvalidInput) carrying Neutron's
// message; internal/neutron maps each kind to its status and type.
var (
	ErrInvalidIPForSubnet = errors.New("ipam: invalid ip for subnet")                   // 400 InvalidIpForSubnet
	ErrInvalidPool        = errors.New("ipam: invalid allocation pool")                 // 400 InvalidAllocationPool
	ErrOverlappingPools   = errors.New("ipam: overlapping allocation pools")            // 400 OverlappingAllocationPools
	ErrGatewayInPool      = errors.New("ipam: gateway conflicts with allocation pools") // 409 GatewayConflictWithAllocationPools
	ErrIPInUse            = errors.New("ipam: ip address already allocated")            // 409 IpAddressAlreadyAllocated
	ErrIPExhausted        = errors.New("ipam: no more ip addresses")                    // 409 IpAddressGenerationFailure
	ErrMACInUse           = errors.New("ipam: mac address in use")                      // 409 MacAddressInUse
)

// AlreadyAllocated is the error for a requested address that is taken.
func AlreadyAllocated(ip netip.Addr, subnetID string) error {
	return fault.New(ErrIPInUse, "IP address %s already allocated in subnet %s", ip, subnetID)
}

// GenerationFailure is the error for a network whose subnets have no free
// address left.
func GenerationFailure(networkID string) error {
	return fault.New(ErrIPExhausted, "No more IP addresses available on network %s.", networkID)
}

// MACInUse is the error for a requested MAC that is taken.
func MACInUse(networkID, mac string) error {
	return fault.New(ErrMACInUse, "Unable to complete operation for network %s. The mac address %s is in use.", networkID, mac)
}

// InvalidIPForSubnet is the error for an address outside the subnet's
// host range.
func InvalidIPForSubnet(ip netip.Addr) error {
	return fault.New(ErrInvalidIPForSubnet, "IP address %s is not a valid IP for the specified subnet.", ip)
}

// NoSubnetFor is the error for an address on none of a network's subnets.
func NoSubnetFor(ip netip.Addr) error {
	return fault.New(ErrInvalidIPForSubnet, "IP address %s is not a valid IP for any of the subnets on the specified network.", ip)
}
