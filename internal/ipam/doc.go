// Package ipam is vland's IP address management, the one home of subnet
// addressing rules: CIDR parsing and subnet validation with Neutron's
// defaults and wording (ParseCIDR, ValidateSubnet, DefaultPools,
// Nameservers, HostRoutes), allocation pools (Range), address checks
// (ParseAddr, CheckHost), MAC generation and validation (RandomMAC,
// NormalizeMAC), and the choice of the lowest free address (Used).
//
// ipam holds no state of its own and never reads the store. Allocation
// has three parts and only the choice lives here:
//
//   - knowing what is allocated: internal/service keeps one Used per subnet
//     in its watch-fed cache of the store (it already sees every address
//     key, so a second cache here would load and follow the same keys);
//   - not colliding with other in-flight requests of the same server: the
//     take callback of Used.LowestFree, where the service reserves the
//     address until its transaction ends;
//   - deciding between servers: the address's store.IPKey is created with
//     a must-not-exist condition in the same transaction as the port; on
//     conflict the service syncs its cache and chooses again.
//
// Addresses are handed out lowest first, so sequential creates get .2, .3,
// ... and two projects with the same CIDR get the same addresses.
//
// Client-facing failures are *fault.Error values whose kinds are this
// package's sentinels (or fault's generic ones); internal/neutron maps
// them to HTTP.
package ipam
