package server_test

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

// Subnet pools, address scopes and IP availability through the API: the
// Neutron attributes and defaults, prefix allocation, and each error's
// status and type.

func mkPool(t *testing.T, who caller, attrs map[string]any) map[string]any {
	t.Helper()
	return call(t, who, "POST", "/v2.0/subnetpools", map[string]any{"subnetpool": attrs}).want(t, 201).obj(t, "subnetpool")
}

func TestSubnetPoolCRUDAndDefaults(t *testing.T) {
	p := member("proj-pools-crud")
	pool := mkPool(t, p, map[string]any{"name": "pl", "prefixes": []string{"10.110.1.0/24", "10.110.0.0/24"}})
	if got := fmt.Sprint(pool["prefixes"]); got != "[10.110.0.0/23]" {
		t.Fatalf("prefixes %s, want compacted [10.110.0.0/23]", got)
	}
	for k, want := range map[string]any{"ip_version": 4.0, "min_prefixlen": 8.0, "max_prefixlen": 32.0, "default_prefixlen": 8.0,
		"shared": false, "is_default": false, "default_quota": nil, "address_scope_id": nil, "revision_number": 1.0,
		"project_id": "proj-pools-crud", "tenant_id": "proj-pools-crud"} {
		if pool[k] != want {
			t.Errorf("%s = %v, want %v", k, pool[k], want)
		}
	}
	id := pool["id"].(string)
	got := call(t, p, "PUT", "/v2.0/subnetpools/"+id, map[string]any{"subnetpool": map[string]any{
		"name": "pl2", "default_prefixlen": 26, "min_prefixlen": "24", "prefixes": []string{"10.110.0.0/23", "10.110.8.0/24"}}}).want(t, 200).obj(t, "subnetpool")
	if got["name"] != "pl2" || got["default_prefixlen"] != 26.0 || got["min_prefixlen"] != 24.0 || got["revision_number"] != 2.0 ||
		fmt.Sprint(got["prefixes"]) != "[10.110.0.0/23 10.110.8.0/24]" {
		t.Fatalf("updated pool %v", got)
	}
	call(t, p, "PUT", "/v2.0/subnetpools/"+id, map[string]any{"subnetpool": map[string]any{"prefixes": []string{"10.110.0.0/24"}}}).
		wantError(t, 400, "IllegalSubnetPoolPrefixUpdate")
	call(t, p, "PUT", "/v2.0/subnetpools/"+id, map[string]any{"subnetpool": map[string]any{"default_prefixlen": 23}}).
		wantError(t, 400, "IllegalSubnetPoolPrefixBounds")
	call(t, p, "PUT", "/v2.0/subnetpools/"+id, map[string]any{"subnetpool": map[string]any{"shared": true}}).want(t, 400)
	call(t, p, "PUT", "/v2.0/subnetpools/"+id, map[string]any{"subnetpool": map[string]any{"is_default": true}}).
		wantError(t, 403, "PolicyNotAuthorized")
	// Listed, filtered, shown with fields; invisible to other projects.
	if l := call(t, p, "GET", "/v2.0/subnetpools?name=pl2", nil).want(t, 200).list(t, "subnetpools"); len(l) != 1 {
		t.Fatalf("list by name: %v", l)
	}
	if o := call(t, p, "GET", "/v2.0/subnetpools/"+id+"?fields=name", nil).want(t, 200).obj(t, "subnetpool"); len(o) != 1 {
		t.Fatalf("fields=name: %v", o)
	}
	other := member("proj-pools-other")
	call(t, other, "GET", "/v2.0/subnetpools/"+id, nil).wantError(t, 404, "SubnetPoolNotFound")
	call(t, other, "DELETE", "/v2.0/subnetpools/"+id, nil).wantError(t, 404, "SubnetPoolNotFound")
	// add_prefixes / remove_prefixes.
	r := call(t, p, "PUT", "/v2.0/subnetpools/"+id+"/add_prefixes", map[string]any{"prefixes": []string{"10.110.9.0/24"}}).want(t, 200)
	if fmt.Sprint(r.body["prefixes"]) != "[10.110.0.0/23 10.110.8.0/23]" {
		t.Fatalf("add_prefixes: %s", r.raw)
	}
	r = call(t, p, "PUT", "/v2.0/subnetpools/"+id+"/remove_prefixes", map[string]any{"prefixes": []string{"10.110.8.0/24"}}).want(t, 200)
	if fmt.Sprint(r.body["prefixes"]) != "[10.110.0.0/23 10.110.9.0/24]" {
		t.Fatalf("remove_prefixes: %s", r.raw)
	}
	// Tags (tag framework).
	call(t, p, "PUT", "/v2.0/subnetpools/"+id+"/tags/red", nil).want(t, 201)
	if l := call(t, p, "GET", "/v2.0/subnetpools?tags=red", nil).want(t, 200).list(t, "subnetpools"); len(l) != 1 {
		t.Fatalf("tags filter: %v", l)
	}
	call(t, p, "DELETE", "/v2.0/subnetpools/"+id, nil).want(t, 204)
	call(t, p, "GET", "/v2.0/subnetpools/"+id, nil).wantError(t, 404, "SubnetPoolNotFound")
}

func TestSubnetPoolCreateErrors(t *testing.T) {
	p := member("proj-pools-errors")
	for _, c := range []struct {
		attrs  map[string]any
		status int
		typ    string
	}{
		{map[string]any{"name": "x"}, 400, "HTTPBadRequest"},
		{map[string]any{"prefixes": []string{}}, 400, "EmptySubnetPoolPrefixList"},
		{map[string]any{"prefixes": []string{"10.0.0.0/8", "fd00::/48"}}, 400, "PrefixVersionMismatch"},
		{map[string]any{"prefixes": []string{"10.0.0.1/8"}}, 400, "HTTPBadRequest"},
		{map[string]any{"prefixes": []string{"10.0.0.0/8"}, "min_prefixlen": 30, "max_prefixlen": 24}, 400, "IllegalSubnetPoolPrefixBounds"},
		{map[string]any{"prefixes": []string{"10.0.0.0/8"}, "max_prefixlen": 33}, 400, "IllegalSubnetPoolPrefixBounds"},
		{map[string]any{"prefixes": []string{"10.0.0.0/8"}, "default_quota": -1}, 400, "HTTPBadRequest"},
		{map[string]any{"prefixes": []string{"10.0.0.0/8"}, "ip_version": 4}, 400, "HTTPBadRequest"},
		{map[string]any{"prefixes": []string{"10.0.0.0/8"}, "bogus": 1}, 400, "HTTPBadRequest"},
		{map[string]any{"prefixes": []string{"10.0.0.0/8"}, "shared": true}, 403, "PolicyNotAuthorized"},
		{map[string]any{"prefixes": []string{"10.0.0.0/8"}, "is_default": true}, 403, "PolicyNotAuthorized"},
		{map[string]any{"prefixes": []string{"10.0.0.0/8"}, "address_scope_id": "nope"}, 404, "AddressScopeNotFound"},
	} {
		call(t, p, "POST", "/v2.0/subnetpools", map[string]any{"subnetpool": c.attrs}).wantError(t, c.status, c.typ)
	}
}

func TestSubnetFromPool(t *testing.T) {
	p := member("proj-pools-alloc")
	pool := mkPool(t, p, map[string]any{"prefixes": []string{"10.111.0.0/22"}, "min_prefixlen": 24, "max_prefixlen": 28, "default_prefixlen": 26})
	poolID := pool["id"].(string)
	netID := mkNetwork(t, p, map[string]any{"name": "pooled"})["id"].(string)
	sub := func(extra map[string]any) reply {
		attrs := map[string]any{"network_id": netID, "ip_version": 4, "subnetpool_id": poolID}
		for k, v := range extra {
			attrs[k] = v
		}
		return call(t, p, "POST", "/v2.0/subnets", map[string]any{"subnet": attrs})
	}
	first := sub(nil).want(t, 201).obj(t, "subnet")
	if first["cidr"] != "10.111.0.0/26" || first["subnetpool_id"] != poolID || first["gateway_ip"] != "10.111.0.1" {
		t.Fatalf("first subnet %v, want 10.111.0.0/26 (the default prefixlen) with gateway .1", first)
	}
	if s := sub(map[string]any{"prefixlen": 28}).want(t, 201).obj(t, "subnet"); s["cidr"] != "10.111.0.64/28" {
		t.Fatalf("/28: %v, want 10.111.0.64/28 (smallest free block first)", s["cidr"])
	}
	if s := sub(map[string]any{"cidr": "10.111.2.0/24"}).want(t, 201).obj(t, "subnet"); s["cidr"] != "10.111.2.0/24" {
		t.Fatalf("explicit cidr: %v", s["cidr"])
	}
	sub(map[string]any{"cidr": "10.111.2.128/25"}).wantError(t, 400, "SubnetAllocationError")
	sub(map[string]any{"cidr": "10.112.0.0/24"}).wantError(t, 400, "SubnetAllocationError")
	sub(map[string]any{"prefixlen": 23}).wantError(t, 400, "MinPrefixSubnetAllocationError")
	sub(map[string]any{"prefixlen": 29}).wantError(t, 400, "MaxPrefixSubnetAllocationError")
	sub(map[string]any{"prefixlen": 26, "cidr": "10.111.3.0/26"}).wantError(t, 400, "HTTPBadRequest")
	sub(map[string]any{"ip_version": 6}).wantError(t, 400, "HTTPBadRequest")
	sub(map[string]any{"subnetpool_id": "nope"}).wantError(t, 404, "SubnetPoolNotFound")
	// Fill the rest: 10.111.0.80/28 .. and 10.111.1.0/24, 10.111.3.0/24.
	for i := 0; ; i++ {
		r := sub(map[string]any{"prefixlen": 24})
		if r.status != 201 {
			r.wantError(t, 409, "SubnetAllocationError")
			break
		}
		if i > 4 {
			t.Fatal("pool never exhausted")
		}
	}
	call(t, p, "DELETE", "/v2.0/subnetpools/"+poolID, nil).wantError(t, 400, "SubnetPoolDeleteError")
	// Deleting a subnet frees its prefix for the next allocation.
	call(t, p, "DELETE", "/v2.0/subnets/"+first["id"].(string), nil).want(t, 204)
	if s := sub(nil).want(t, 201).obj(t, "subnet"); s["cidr"] != "10.111.0.0/26" {
		t.Fatalf("after delete: %v, want the freed 10.111.0.0/26", s["cidr"])
	}
	// Deleting the network frees every prefix: the pool can go.
	call(t, p, "DELETE", "/v2.0/networks/"+netID, nil).want(t, 204)
	call(t, p, "DELETE", "/v2.0/subnetpools/"+poolID, nil).want(t, 204)
}

func TestSubnetPoolAffinity(t *testing.T) {
	p := member("proj-pools-affinity")
	poolID := mkPool(t, p, map[string]any{"prefixes": []string{"10.113.0.0/16"}, "default_prefixlen": 24})["id"].(string)
	netID := mkNetwork(t, p, map[string]any{})["id"].(string)
	mkSubnet(t, p, netID, "192.168.78.0/24", nil)
	call(t, p, "POST", "/v2.0/subnets", map[string]any{"subnet": map[string]any{"network_id": netID, "subnetpool_id": poolID}}).
		wantError(t, 400, "NetworkSubnetPoolAffinityError")
}

func TestSharedAndDefaultPools(t *testing.T) {
	shared := mkPool(t, admin, map[string]any{"name": "shared-pl", "prefixes": []string{"10.114.0.0/16"}, "shared": true,
		"is_default": true, "default_prefixlen": 24, "default_quota": 512})
	id := shared["id"].(string)
	defer call(t, admin, "DELETE", "/v2.0/subnetpools/"+id, nil)
	p := member("proj-pools-shared")
	netID := mkNetwork(t, p, map[string]any{})["id"].(string)
	defer call(t, p, "DELETE", "/v2.0/networks/"+netID, nil)
	call(t, p, "GET", "/v2.0/subnetpools/"+id, nil).want(t, 200)
	create := func(attrs map[string]any) reply {
		attrs["network_id"] = netID
		return call(t, p, "POST", "/v2.0/subnets", map[string]any{"subnet": attrs})
	}
	a := create(map[string]any{"use_default_subnetpool": true}).want(t, 201).obj(t, "subnet")
	if a["subnetpool_id"] != id || a["cidr"] != "10.114.0.0/24" {
		t.Fatalf("default pool subnet %v", a)
	}
	create(map[string]any{"use_default_subnetpool": true, "subnetpool_id": id}).wantError(t, 400, "HTTPBadRequest")
	// default_quota 512 addresses: a second /24 fits, a third does not.
	create(map[string]any{"subnetpool_id": id}).want(t, 201)
	create(map[string]any{"subnetpool_id": id}).wantError(t, 409, "SubnetPoolQuotaExceeded")
	create(map[string]any{"subnetpool_id": id, "prefixlen": 25}).wantError(t, 409, "SubnetPoolQuotaExceeded")
}

func TestSecondDefaultPoolRefused(t *testing.T) {
	first := mkPool(t, admin, map[string]any{"prefixes": []string{"fd00:116::/48"}, "is_default": true})
	defer call(t, admin, "DELETE", "/v2.0/subnetpools/"+first["id"].(string), nil)
	call(t, admin, "POST", "/v2.0/subnetpools", map[string]any{"subnetpool": map[string]any{"prefixes": []string{"fd00:117::/48"}, "is_default": true}}).
		wantError(t, 400, "InvalidInput")
	second := mkPool(t, admin, map[string]any{"prefixes": []string{"fd00:117::/48"}})
	defer call(t, admin, "DELETE", "/v2.0/subnetpools/"+second["id"].(string), nil)
	call(t, admin, "PUT", "/v2.0/subnetpools/"+second["id"].(string), map[string]any{"subnetpool": map[string]any{"is_default": true}}).
		wantError(t, 400, "InvalidInput")
	call(t, admin, "PUT", "/v2.0/subnetpools/"+first["id"].(string), map[string]any{"subnetpool": map[string]any{"is_default": false}}).want(t, 200)
	call(t, admin, "PUT", "/v2.0/subnetpools/"+second["id"].(string), map[string]any{"subnetpool": map[string]any{"is_default": true}}).want(t, 200)
	call(t, admin, "PUT", "/v2.0/subnetpools/"+second["id"].(string), map[string]any{"subnetpool": map[string]any{"is_default": false}}).want(t, 200)
}

func TestAddressScopes(t *testing.T) {
	p := member("proj-scopes")
	sc := call(t, p, "POST", "/v2.0/address-scopes", map[string]any{"address_scope": map[string]any{"name": "as", "ip_version": 4}}).
		want(t, 201).obj(t, "address_scope")
	id := sc["id"].(string)
	if sc["shared"] != false || sc["ip_version"] != 4.0 || sc["project_id"] != "proj-scopes" {
		t.Fatalf("scope %v", sc)
	}
	a := mkPool(t, p, map[string]any{"prefixes": []string{"10.120.0.0/16"}, "address_scope_id": id})
	call(t, p, "POST", "/v2.0/subnetpools", map[string]any{"subnetpool": map[string]any{"prefixes": []string{"10.120.5.0/24"}, "address_scope_id": id}}).
		wantError(t, 409, "AddressScopePrefixConflict")
	call(t, p, "POST", "/v2.0/subnetpools", map[string]any{"subnetpool": map[string]any{"prefixes": []string{"fd00::/48"}, "address_scope_id": id}}).
		wantError(t, 400, "IllegalSubnetPoolIpVersionAssociationToAddressScope")
	b := mkPool(t, p, map[string]any{"prefixes": []string{"10.121.0.0/16"}, "address_scope_id": id})
	call(t, p, "PUT", "/v2.0/subnetpools/"+b["id"].(string), map[string]any{"subnetpool": map[string]any{"prefixes": []string{"10.120.0.0/15"}}}).
		wantError(t, 409, "AddressScopePrefixConflict")
	// Other projects neither see nor use it.
	other := member("proj-scopes-other")
	call(t, other, "GET", "/v2.0/address-scopes/"+id, nil).wantError(t, 404, "AddressScopeNotFound")
	call(t, other, "POST", "/v2.0/subnetpools", map[string]any{"subnetpool": map[string]any{"prefixes": []string{"10.122.0.0/16"}, "address_scope_id": id}}).
		wantError(t, 404, "AddressScopeNotFound")
	call(t, p, "PUT", "/v2.0/address-scopes/"+id, map[string]any{"address_scope": map[string]any{"shared": true}}).wantError(t, 403, "PolicyNotAuthorized")
	call(t, p, "PUT", "/v2.0/address-scopes/"+id, map[string]any{"address_scope": map[string]any{"ip_version": 6}}).want(t, 400)
	if u := call(t, p, "PUT", "/v2.0/address-scopes/"+id, map[string]any{"address_scope": map[string]any{"name": "as2"}}).want(t, 200).obj(t, "address_scope"); u["name"] != "as2" {
		t.Fatalf("renamed: %v", u)
	}
	if l := call(t, p, "GET", "/v2.0/address-scopes?name=as2", nil).want(t, 200).list(t, "address_scopes"); len(l) != 1 {
		t.Fatalf("list: %v", l)
	}
	call(t, p, "DELETE", "/v2.0/address-scopes/"+id, nil).wantError(t, 409, "AddressScopeInUse")
	call(t, p, "PUT", "/v2.0/subnetpools/"+a["id"].(string), map[string]any{"subnetpool": map[string]any{"address_scope_id": nil}}).want(t, 200)
	call(t, p, "DELETE", "/v2.0/subnetpools/"+b["id"].(string), nil).want(t, 204)
	call(t, p, "DELETE", "/v2.0/address-scopes/"+id, nil).want(t, 204)
	call(t, p, "DELETE", "/v2.0/subnetpools/"+a["id"].(string), nil).want(t, 204)
	call(t, p, "POST", "/v2.0/address-scopes", map[string]any{"address_scope": map[string]any{"name": "x"}}).wantError(t, 400, "HTTPBadRequest")
	call(t, p, "POST", "/v2.0/address-scopes", map[string]any{"address_scope": map[string]any{"ip_version": 5}}).wantError(t, 400, "HTTPBadRequest")
	// Admins share; a shared scope cannot be unshared.
	sh := call(t, admin, "POST", "/v2.0/address-scopes", map[string]any{"address_scope": map[string]any{"ip_version": 4, "shared": true}}).want(t, 201).obj(t, "address_scope")
	call(t, other, "GET", "/v2.0/address-scopes/"+sh["id"].(string), nil).want(t, 200)
	call(t, admin, "PUT", "/v2.0/address-scopes/"+sh["id"].(string), map[string]any{"address_scope": map[string]any{"shared": false}}).
		wantError(t, 400, "AddressScopeUpdateError")
	call(t, admin, "DELETE", "/v2.0/address-scopes/"+sh["id"].(string), nil).want(t, 204)
}

func TestNetworkIPAvailability(t *testing.T) {
	p := member("proj-ipavail")
	netID := mkNetwork(t, p, map[string]any{"name": "avail"})["id"].(string)
	subID := mkSubnet(t, p, netID, "10.123.0.0/28", nil)["id"].(string) // pool .2-.14: 13 addresses
	mkPort(t, p, netID, nil)
	mkPort(t, p, netID, nil)
	call(t, p, "GET", "/v2.0/network-ip-availabilities", nil).wantError(t, 403, "PolicyNotAuthorized")
	call(t, p, "GET", "/v2.0/network-ip-availabilities/"+netID, nil).wantError(t, 403, "PolicyNotAuthorized")
	a := call(t, admin, "GET", "/v2.0/network-ip-availabilities/"+netID, nil).want(t, 200).obj(t, "network_ip_availability")
	if a["network_name"] != "avail" || a["total_ips"] != 13.0 || a["used_ips"] != 2.0 || a["project_id"] != "proj-ipavail" {
		t.Fatalf("availability %v", a)
	}
	subs := a["subnet_ip_availability"].([]any)
	if len(subs) != 1 {
		t.Fatalf("subnets %v", subs)
	}
	s := subs[0].(map[string]any)
	if s["subnet_id"] != subID || s["cidr"] != "10.123.0.0/28" || s["ip_version"] != 4.0 || s["total_ips"] != 13.0 || s["used_ips"] != 2.0 {
		t.Fatalf("subnet availability %v", s)
	}
	l := call(t, admin, "GET", "/v2.0/network-ip-availabilities?network_id="+netID, nil).want(t, 200).list(t, "network_ip_availabilities")
	if len(l) != 1 || l[0]["used_ips"] != 2.0 {
		t.Fatalf("list %v", l)
	}
	// ip_version filters subnets (the openstack client always sends it).
	if l := call(t, admin, "GET", "/v2.0/network-ip-availabilities?ip_version=4&network_id="+netID, nil).want(t, 200).list(t, "network_ip_availabilities"); len(l) != 1 {
		t.Fatalf("ip_version=4: %v", l)
	}
	if l := call(t, admin, "GET", "/v2.0/network-ip-availabilities?ip_version=6&network_id="+netID, nil).want(t, 200).list(t, "network_ip_availabilities"); len(l) != 0 {
		t.Fatalf("ip_version=6: %v", l)
	}
	call(t, admin, "GET", "/v2.0/network-ip-availabilities?ip_version=5", nil).wantError(t, 400, "HTTPBadRequest")
	call(t, admin, "GET", "/v2.0/network-ip-availabilities?bogus=1", nil).wantError(t, 400, "HTTPBadRequest")
	call(t, admin, "GET", "/v2.0/network-ip-availabilities/nope", nil).wantError(t, 404, "NetworkNotFound")
}

// TestConcurrentSubnetsFromPool: 100 subnets created at once from one
// pool, through two servers, get distinct, non-overlapping prefixes, the
// lowest of the pool.
func TestConcurrentSubnetsFromPool(t *testing.T) {
	const n = 100
	p := member("proj-pools-conc")
	by := alternate(t, p)
	poolID := mkPool(t, p, map[string]any{"prefixes": []string{"10.124.0.0/16"}, "default_prefixlen": 24})["id"].(string)
	netIDs := make([]string, 10)
	for i := range netIDs {
		netIDs[i] = mkNetwork(t, p, map[string]any{})["id"].(string)
	}
	got, errs := parallel(n, func(i int) (string, error) {
		attrs := map[string]any{"network_id": netIDs[i%len(netIDs)], "subnetpool_id": poolID}
		if i%4 == 0 {
			attrs["prefixlen"] = 25 // mixed sizes: overlaps would show
		}
		r := call(t, by(i), "POST", "/v2.0/subnets", map[string]any{"subnet": attrs})
		if r.status != 201 {
			return "", fmt.Errorf("status %d: %s", r.status, r.raw)
		}
		return r.body["subnet"].(map[string]any)["cidr"].(string), nil
	})
	var prefixes []netip.Prefix
	for i, e := range errs {
		if e != nil {
			t.Fatal(e)
		}
		prefixes = append(prefixes, netip.MustParsePrefix(got[i]))
	}
	slices.SortFunc(prefixes, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	for i := 1; i < len(prefixes); i++ {
		if prefixes[i-1].Overlaps(prefixes[i]) {
			t.Fatalf("%s and %s overlap", prefixes[i-1], prefixes[i])
		}
	}
	// 75 /24s and 25 /25s (13 /24s' worth): dense from the bottom, all below 10.124.88.0.
	if last := prefixes[len(prefixes)-1]; !netip.MustParsePrefix("10.124.0.0/17").Contains(last.Addr()) || last.Addr().As4()[2] > 88 {
		t.Fatalf("highest prefix %s: allocation is not from the bottom", last)
	}
	listed := call(t, p, "GET", "/v2.0/subnets?subnetpool_id="+poolID, nil).want(t, 200).list(t, "subnets")
	if len(listed) != n {
		t.Fatalf("%d subnets of the pool listed, want %d", len(listed), n)
	}
}

func TestPoolExtensionsListed(t *testing.T) {
	for _, a := range []string{"subnet_allocation", "default-subnetpools", "subnetpool-prefix-ops", "address-scope", "network-ip-availability"} {
		call(t, admin, "GET", "/v2.0/extensions/"+a, nil).want(t, 200).obj(t, "extension")
	}
}

// TestConcurrentPoolQuota: 40 concurrent /28s (16 addresses each) from a
// pool with a default_quota of 256 addresses, through two servers: exactly
// 16 are created, the others answer 409 SubnetPoolQuotaExceeded.
func TestConcurrentPoolQuota(t *testing.T) {
	const n, fit = 40, 16
	p := member("proj-pools-quota-conc")
	by := alternate(t, p)
	poolID := mkPool(t, admin, map[string]any{"prefixes": []string{"10.125.0.0/16"}, "default_prefixlen": 28,
		"shared": true, "default_quota": 256})["id"].(string)
	netIDs := make([]string, 8)
	for i := range netIDs {
		netIDs[i] = mkNetwork(t, p, map[string]any{})["id"].(string)
	}
	codes, errs := parallel(n, func(i int) (int, error) {
		r := call(t, by(i), "POST", "/v2.0/subnets", map[string]any{"subnet": map[string]any{
			"network_id": netIDs[i%len(netIDs)], "subnetpool_id": poolID}})
		if r.status != 201 && !(r.status == 409 && r.neutronError(t) == "SubnetPoolQuotaExceeded") {
			return r.status, fmt.Errorf("status %d: %s", r.status, r.raw)
		}
		return r.status, nil
	})
	created := 0
	for i, e := range errs {
		if e != nil {
			t.Fatal(e)
		}
		if codes[i] == 201 {
			created++
		}
	}
	listed := call(t, p, "GET", "/v2.0/subnets?subnetpool_id="+poolID, nil).want(t, 200).list(t, "subnets")
	if created != fit || len(listed) != fit {
		t.Fatalf("%d created, %d listed; want exactly %d within the quota", created, len(listed), fit)
	}
}
