package clienttest

import (
	"errors"
	"fmt"
	"net/netip"
)

const defaultProject = "admin-project-id"

// create fills defaults the way Neutron does and checks references.
func (f *Fake) create(coll string, o object) (object, int, error) {
	id := newID()
	o["id"] = id
	if o["project_id"] == nil {
		o["project_id"] = defaultProject
	}
	o["tenant_id"] = o["project_id"]
	setDefault(o, "name", "")
	setDefault(o, "description", "")
	setDefault(o, "admin_state_up", true)
	var err error
	status := 400
	switch coll {
	case "networks":
		setDefault(o, "status", "ACTIVE")
		setDefault(o, "shared", false)
		setDefault(o, "mtu", 1450)
		setDefault(o, "provider:network_type", "vxlan")
		setDefault(o, "subnets", []any{})
	case "subnets":
		err = f.createSubnet(o)
	case "ports":
		status, err = f.createPort(o)
	}
	if err != nil {
		return nil, status, err
	}
	f.colls[coll][id] = o
	return o, 201, nil
}

func setDefault(o object, k string, v any) {
	if _, ok := o[k]; !ok {
		o[k] = v
	}
}

func (f *Fake) createSubnet(o object) error {
	net, ok := f.colls["networks"][fmt.Sprint(o["network_id"])]
	if !ok {
		return fmt.Errorf("network %v could not be found", o["network_id"])
	}
	pfx, err := netip.ParsePrefix(fmt.Sprint(o["cidr"]))
	if err != nil {
		return fmt.Errorf("invalid input for cidr: %w", err)
	}
	setDefault(o, "ip_version", 4)
	setDefault(o, "enable_dhcp", true)
	setDefault(o, "gateway_ip", pfx.Masked().Addr().Next().String())
	setDefault(o, "dns_nameservers", []any{})
	setDefault(o, "host_routes", []any{})
	last := lastAddr(pfx)
	setDefault(o, "allocation_pools", []any{object{"start": pfx.Masked().Addr().Next().Next().String(), "end": last.Prev().String()}})
	net["subnets"] = append(net["subnets"].([]any), o["id"])
	return nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	bits := 32 - p.Bits()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | (1<<bits - 1)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func (f *Fake) createPort(o object) (int, error) {
	netID := fmt.Sprint(o["network_id"])
	if _, ok := f.colls["networks"][netID]; !ok {
		return 404, fmt.Errorf("network %s could not be found", netID)
	}
	setDefault(o, "mac_address", "fa:16:3e:"+newID()[0:2]+":"+newID()[0:2]+":"+newID()[0:2])
	setDefault(o, "status", "DOWN")
	setDefault(o, "device_id", "")
	setDefault(o, "device_owner", "")
	setDefault(o, "binding:host_id", "")
	setDefault(o, "port_security_enabled", true)
	setDefault(o, "allowed_address_pairs", []any{})
	reqs, _ := o["fixed_ips"].([]any)
	if len(reqs) == 0 {
		for _, s := range f.colls["subnets"] {
			if s["network_id"] == netID {
				reqs = []any{object{"subnet_id": s["id"]}}
				break
			}
		}
	}
	var out []any
	for _, r := range reqs {
		fip, status, err := f.fixedIP(netID, r.(object))
		if err != nil {
			return status, err
		}
		out = append(out, fip)
	}
	o["fixed_ips"] = out
	return 201, nil
}

// fixedIP checks a requested address (409 if taken) or picks the next free.
func (f *Fake) fixedIP(netID string, req object) (object, int, error) {
	used := map[string]bool{}
	for _, p := range f.colls["ports"] {
		if p["network_id"] == netID {
			for _, ip := range p["fixed_ips"].([]any) {
				used[fmt.Sprint(ip.(object)["ip_address"])] = true
			}
		}
	}
	subID, _ := req["subnet_id"].(string)
	ip, _ := req["ip_address"].(string)
	if subID == "" {
		subID = f.subnetOf(netID, ip)
	}
	sub, ok := f.colls["subnets"][subID]
	if !ok || sub["network_id"] != netID {
		return nil, 400, fmt.Errorf("subnet %s is not on network %s", subID, netID)
	}
	if ip != "" {
		if used[ip] {
			return nil, 409, fmt.Errorf("IP address %s already allocated in subnet %s", ip, subID)
		}
		return object{"subnet_id": subID, "ip_address": ip}, 201, nil
	}
	pfx := netip.MustParsePrefix(fmt.Sprint(sub["cidr"]))
	for a := pfx.Masked().Addr().Next().Next(); pfx.Contains(a); a = a.Next() {
		if !used[a.String()] {
			return object{"subnet_id": subID, "ip_address": a.String()}, 201, nil
		}
	}
	return nil, 409, errors.New("no more IP addresses available")
}

// delete refuses to delete a network that still has ports, as Neutron does.
func (f *Fake) delete(coll string, o object) (int, error) {
	id := fmt.Sprint(o["id"])
	if coll == "networks" {
		for _, p := range f.colls["ports"] {
			if p["network_id"] == id {
				return 409, fmt.Errorf("Unable to complete operation on network %s. There are one or more ports still in use on the network.", id)
			}
		}
		for sid, s := range f.colls["subnets"] {
			if s["network_id"] == id {
				delete(f.colls["subnets"], sid)
			}
		}
	}
	delete(f.colls[coll], id)
	return 204, nil
}

// subnetOf finds the subnet of network netID that contains ip.
func (f *Fake) subnetOf(netID, ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	for id, s := range f.colls["subnets"] {
		if s["network_id"] == netID && netip.MustParsePrefix(fmt.Sprint(s["cidr"])).Contains(a) {
			return id
		}
	}
	return ""
}
