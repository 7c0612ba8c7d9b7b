package service

import (
	"errors"

	"github.com/vland/vland/internal/fault"
)

// Error kinds of subnet pools and address scopes (internal/neutron maps
// each to Neutron's exception of the same name).
var (
	ErrSubnetPoolNotFound      = errors.New("service: subnet pool not found")                  // 404 SubnetPoolNotFound
	ErrAddressScopeNotFound    = errors.New("service: address scope not found")                // 404 AddressScopeNotFound
	ErrPoolPrefixes            = errors.New("service: bad subnet pool prefixes")               // 400 IllegalSubnetPoolPrefixUpdate etc.
	ErrPoolPrefixBounds        = errors.New("service: bad subnet pool prefix lengths")         // 400 IllegalSubnetPoolPrefixBounds
	ErrPrefixVersionMismatch   = errors.New("service: mixed ip versions in a subnet pool")     // 400 PrefixVersionMismatch
	ErrEmptyPrefixList         = errors.New("service: empty subnet pool prefix list")          // 400 EmptySubnetPoolPrefixList
	ErrMinPrefixAllocation     = errors.New("service: prefix length below the pool's minimum") // 400 MinPrefixSubnetAllocationError
	ErrMaxPrefixAllocation     = errors.New("service: prefix length above the pool's maximum") // 400 MaxPrefixSubnetAllocationError
	ErrSubnetAllocation        = errors.New("service: cannot allocate the subnet")             // 400 SubnetAllocationError
	ErrPoolExhausted           = errors.New("service: subnet pool exhausted")                  // 409 SubnetAllocationError
	ErrPoolQuotaExceeded       = errors.New("service: subnet pool quota exceeded")             // 409 SubnetPoolQuotaExceeded
	ErrPoolDelete              = errors.New("service: subnet pool in use")                     // 400 SubnetPoolDeleteError
	ErrPoolAffinity            = errors.New("service: subnets of one network from two pools")  // 400 NetworkSubnetPoolAffinityError
	ErrPoolUpdate              = errors.New("service: illegal subnet pool update")             // 400 IllegalSubnetPoolUpdate
	ErrScopePrefixConflict     = errors.New("service: overlapping pools in an address scope")  // 409 AddressScopePrefixConflict
	ErrScopeAssociation        = errors.New("service: illegal address scope association")      // 400 IllegalSubnetPoolAssociationToAddressScope
	ErrScopeVersionAssociation = errors.New("service: address scope of another ip version")    // 400 IllegalSubnetPoolIpVersionAssociationToAddressScope
	ErrScopeInUse              = errors.New("service: address scope in use")                   // 409 AddressScopeInUse
	ErrScopeUpdate             = errors.New("service: illegal address scope update")           // 400 AddressScopeUpdateError
)

func subnetPoolNotFound(id string) error {
	return fault.New(ErrSubnetPoolNotFound, "Subnet pool %s could not be found.", id)
}

func addressScopeNotFound(id string) error {
	return fault.New(ErrAddressScopeNotFound, "Address scope %s could not be found.", id)
}

func prefixBounds(typ string, length int, baseType string, baseLength int) error {
	return fault.New(ErrPoolPrefixBounds, "Illegal prefix bounds: %s=%d, %s=%d.", typ, length, baseType, baseLength)
}
