package neutron

import (
	"encoding/json"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/service"
)

// The attribute maps below are vland's RESOURCE_ATTRIBUTE_MAP: which body
// attributes POST and PUT accept and how each is converted. Attributes
// that appear only in answers are listed read-only so that sending them
// gives Neutron's "not allowed" error rather than "unrecognized".

func rw[R any](s setter[R]) attr[R]       { return attr[R]{post: true, put: true, set: s} }
func postOnly[R any](s setter[R]) attr[R] { return attr[R]{post: true, set: s} }
func readOnly[R any]() attr[R]            { return attr[R]{} }

// projectAttrs accepts project_id and its old name tenant_id; both at
// once must agree.
func projectAttrs[R any](table map[string]attr[R], get func(*R) *service.Opt[string]) {
	conv := str(255, false)
	set := func(r *R, name string, raw json.RawMessage) error {
		v, err := conv(name, raw)
		if err != nil {
			return err
		}
		if cur := get(r); cur.Set && cur.V != v.V {
			return badRequest("'project_id' and 'tenant_id' do not match")
		}
		*get(r) = v
		return nil
	}
	table["project_id"], table["tenant_id"] = postOnly(set), postOnly(set)
}

func commonReadOnly[R any](table map[string]attr[R]) {
	for _, name := range []string{"id", "revision_number", "created_at", "updated_at", "tags"} {
		table[name] = readOnly[R]()
	}
}

type netReq = service.NetworkRequest

var networkAttrs = func() map[string]attr[netReq] {
	t := map[string]attr[netReq]{
		"name":                      rw(bind(str(255, false), func(r *netReq) *service.Opt[string] { return &r.Name })),
		"description":               rw(bind(str(255, false), func(r *netReq) *service.Opt[string] { return &r.Description })),
		"admin_state_up":            rw(bind(boolean, func(r *netReq) *service.Opt[bool] { return &r.AdminStateUp })),
		"shared":                    rw(bind(boolean, func(r *netReq) *service.Opt[bool] { return &r.Shared })),
		"router:external":           rw(bind(boolean, func(r *netReq) *service.Opt[bool] { return &r.External })),
		"mtu":                       rw(bind(integer(false), func(r *netReq) *service.Opt[int] { return &r.MTU })),
		"port_security_enabled":     rw(bind(boolean, func(r *netReq) *service.Opt[bool] { return &r.PortSecurityEnabled })),
		"provider:network_type":     rw(bind(str(255, false), func(r *netReq) *service.Opt[string] { return &r.NetworkType })),
		"provider:physical_network": rw(bind(str(64, true), func(r *netReq) *service.Opt[string] { return &r.PhysicalNetwork })),
		"provider:segmentation_id":  rw(bind(integer(true), func(r *netReq) *service.Opt[int] { return &r.SegmentationID })),
		"availability_zone_hints":   postOnly(bind(strList, func(r *netReq) *service.Opt[[]string] { return &r.AvailabilityZoneHints })),
		"status":                    readOnly[netReq](),
		"subnets":                   readOnly[netReq](),
		"availability_zones":        readOnly[netReq](),
	}
	projectAttrs(t, func(r *netReq) *service.Opt[string] { return &r.ProjectID })
	commonReadOnly(t)
	t["tags"] = postOnly(bind(strList, func(r *netReq) *service.Opt[[]string] { return &r.Tags }))
	return t
}()

type subReq = service.SubnetRequest

var subnetAttrs = func() map[string]attr[subReq] {
	t := map[string]attr[subReq]{
		"name":              rw(bind(str(255, false), func(r *subReq) *service.Opt[string] { return &r.Name })),
		"description":       rw(bind(str(255, false), func(r *subReq) *service.Opt[string] { return &r.Description })),
		"network_id":        postOnly(bind(str(255, false), func(r *subReq) *service.Opt[string] { return &r.NetworkID })),
		"ip_version":        postOnly(bind(integer(false), func(r *subReq) *service.Opt[int] { return &r.IPVersion })),
		"cidr":              postOnly(bind(str(64, false), func(r *subReq) *service.Opt[string] { return &r.CIDR })),
		"gateway_ip":        rw(bind(str(64, true), func(r *subReq) *service.Opt[string] { return &r.GatewayIP })),
		"allocation_pools":  rw(bind(strictJSON[[]api.AllocationPool]("a list of allocation pools"), func(r *subReq) *service.Opt[[]api.AllocationPool] { return &r.AllocationPools })),
		"enable_dhcp":       rw(bind(boolean, func(r *subReq) *service.Opt[bool] { return &r.EnableDHCP })),
		"dns_nameservers":   rw(bind(strList, func(r *subReq) *service.Opt[[]string] { return &r.DNSNameservers })),
		"host_routes":       rw(bind(strictJSON[[]api.HostRoute]("a list of host routes"), func(r *subReq) *service.Opt[[]api.HostRoute] { return &r.HostRoutes })),
		"ipv6_ra_mode":      postOnly(bind(str(64, true), func(r *subReq) *service.Opt[string] { return &r.IPv6RAMode })),
		"ipv6_address_mode": postOnly(bind(str(64, true), func(r *subReq) *service.Opt[string] { return &r.IPv6AddressMode })),
		"subnetpool_id":     postOnly(bind(str(64, true), func(r *subReq) *service.Opt[string] { return &r.SubnetPoolID })),
	}
	projectAttrs(t, func(r *subReq) *service.Opt[string] { return &r.ProjectID })
	// subnet_allocation, default-subnetpools: a prefix from a pool.
	t["prefixlen"] = postOnly(bind(integer(false), func(r *subReq) *service.Opt[int] { return &r.Prefixlen }))
	t["use_default_subnetpool"] = postOnly(bind(boolean, func(r *subReq) *service.Opt[bool] { return &r.UseDefaultSubnetPool }))
	commonReadOnly(t)
	t["tags"] = postOnly(bind(strList, func(r *subReq) *service.Opt[[]string] { return &r.Tags }))
	return t
}()

type portReq = service.PortRequest

var portAttrs = func() map[string]attr[portReq] {
	t := map[string]attr[portReq]{
		"name":                  rw(bind(str(255, false), func(r *portReq) *service.Opt[string] { return &r.Name })),
		"description":           rw(bind(str(255, false), func(r *portReq) *service.Opt[string] { return &r.Description })),
		"network_id":            postOnly(bind(str(255, false), func(r *portReq) *service.Opt[string] { return &r.NetworkID })),
		"mac_address":           rw(bind(str(64, false), func(r *portReq) *service.Opt[string] { return &r.MACAddress })),
		"fixed_ips":             rw(bind(strictJSON[[]api.FixedIP]("a list of fixed ips"), func(r *portReq) *service.Opt[[]api.FixedIP] { return &r.FixedIPs })),
		"device_id":             rw(bind(str(255, false), func(r *portReq) *service.Opt[string] { return &r.DeviceID })),
		"device_owner":          rw(bind(str(255, false), func(r *portReq) *service.Opt[string] { return &r.DeviceOwner })),
		"admin_state_up":        rw(bind(boolean, func(r *portReq) *service.Opt[bool] { return &r.AdminStateUp })),
		"port_security_enabled": rw(bind(boolean, func(r *portReq) *service.Opt[bool] { return &r.PortSecurityEnabled })),
		"security_groups":       rw(bind(strList, func(r *portReq) *service.Opt[[]string] { return &r.SecurityGroups })),
		"allowed_address_pairs": rw(bind(strictJSON[[]api.AddressPair]("a list of address pairs"), func(r *portReq) *service.Opt[[]api.AddressPair] { return &r.AllowedAddressPairs })),
		"binding:host_id":       rw(bind(str(255, true), func(r *portReq) *service.Opt[string] { return &r.BindingHostID })),
		"binding:profile":       rw(bind(dict, func(r *portReq) *service.Opt[map[string]any] { return &r.BindingProfile })),
		"binding:vnic_type":     rw(bind(str(64, false), func(r *portReq) *service.Opt[string] { return &r.BindingVNICType })),
		"status":                readOnly[portReq](),
		"binding:vif_type":      readOnly[portReq](),
		"binding:vif_details":   readOnly[portReq](),
	}
	projectAttrs(t, func(r *portReq) *service.Opt[string] { return &r.ProjectID })
	commonReadOnly(t)
	t["tags"] = postOnly(bind(strList, func(r *portReq) *service.Opt[[]string] { return &r.Tags }))
	return t
}()
