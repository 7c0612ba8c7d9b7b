package service

import "github.com/vland/vland/api"

// Opt is one attribute of a create or update request: Set says the client
// sent it, Null that it sent JSON null (meaningful for gateway_ip and the
// provider attributes). The zero value is "not sent".
type Opt[T any] struct {
	Set  bool
	Null bool
	V    T
}

// Some returns a set Opt holding v.
func Some[T any](v T) Opt[T] { return Opt[T]{Set: true, V: v} }

// has reports whether the attribute was sent with a non-null value.
func (o Opt[T]) has() bool { return o.Set && !o.Null }

// or returns the value if sent, else def.
func (o Opt[T]) or(def T) T {
	if o.has() {
		return o.V
	}
	return def
}

// NetworkRequest is the body of a network create or update, already
// type-checked by the transport. ProjectID carries project_id or tenant_id.
type NetworkRequest struct {
	Name                  Opt[string]
	Description           Opt[string]
	ProjectID             Opt[string]
	AdminStateUp          Opt[bool]
	Shared                Opt[bool]
	External              Opt[bool]
	MTU                   Opt[int]
	PortSecurityEnabled   Opt[bool]
	NetworkType           Opt[string]
	PhysicalNetwork       Opt[string]
	SegmentationID        Opt[int]
	AvailabilityZoneHints Opt[[]string]
	Tags                  Opt[[]string] // create only
	DNSDomain             Opt[string]
}

// SubnetRequest is the body of a subnet create or update.
type SubnetRequest struct {
	Name            Opt[string]
	Description     Opt[string]
	ProjectID       Opt[string]
	NetworkID       Opt[string]
	IPVersion       Opt[int]
	CIDR            Opt[string]
	GatewayIP       Opt[string]
	AllocationPools Opt[[]api.AllocationPool]
	EnableDHCP      Opt[bool]
	DNSNameservers  Opt[[]string]
	HostRoutes      Opt[[]api.HostRoute]
	IPv6RAMode      Opt[string]
	IPv6AddressMode Opt[string]
	SubnetPoolID    Opt[string]
	// Prefixlen and UseDefaultSubnetPool (create only) ask for a prefix
	// from the pool (subnet_allocation, default-subnetpools).
	Prefixlen            Opt[int]
	UseDefaultSubnetPool Opt[bool]
	Tags                 Opt[[]string] // create only
}

// PortRequest is the body of a port create or update.
type PortRequest struct {
	Name                Opt[string]
	Description         Opt[string]
	ProjectID           Opt[string]
	NetworkID           Opt[string]
	MACAddress          Opt[string]
	FixedIPs            Opt[[]api.FixedIP]
	DeviceID            Opt[string]
	DeviceOwner         Opt[string]
	AdminStateUp        Opt[bool]
	PortSecurityEnabled Opt[bool]
	SecurityGroups      Opt[[]string]
	AllowedAddressPairs Opt[[]api.AddressPair]
	BindingHostID       Opt[string]
	BindingVNICType     Opt[string]
	BindingProfile      Opt[map[string]any]
	Tags                Opt[[]string] // create only
	ExtraDHCPOpts       Opt[[]map[string]any]
	DNSName             Opt[string]
}
