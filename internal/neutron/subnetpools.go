package neutron

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/service"
)

// poolAPI is what subnet pools, address scopes and IP availability need
// from the service.
type poolAPI interface {
	CreateSubnetPools(ctx context.Context, reqs []service.SubnetPoolRequest) ([]api.SubnetPool, error)
	GetSubnetPool(ctx context.Context, id string) (api.SubnetPool, error)
	ListSubnetPools(ctx context.Context) ([]api.SubnetPool, error)
	UpdateSubnetPool(ctx context.Context, id string, r service.SubnetPoolRequest, ifMatch int64) (api.SubnetPool, error)
	DeleteSubnetPool(ctx context.Context, id string, ifMatch int64) error
	AddPrefixes(ctx context.Context, id string, prefixes []string) ([]string, error)
	RemovePrefixes(ctx context.Context, id string, prefixes []string) ([]string, error)
	CreateAddressScopes(ctx context.Context, reqs []service.AddressScopeRequest) ([]api.AddressScope, error)
	GetAddressScope(ctx context.Context, id string) (api.AddressScope, error)
	ListAddressScopes(ctx context.Context) ([]api.AddressScope, error)
	UpdateAddressScope(ctx context.Context, id string, r service.AddressScopeRequest, ifMatch int64) (api.AddressScope, error)
	DeleteAddressScope(ctx context.Context, id string, ifMatch int64) error
	ListIPAvailability(ctx context.Context, version int) ([]api.NetworkIPAvailability, error)
	GetIPAvailability(ctx context.Context, id string) (api.NetworkIPAvailability, error)
}

type poolReq = service.SubnetPoolRequest

var subnetPoolAttrs = func() map[string]attr[poolReq] {
	t := map[string]attr[poolReq]{
		"name":              rw(bind(str(255, false), func(r *poolReq) *service.Opt[string] { return &r.Name })),
		"description":       rw(bind(str(255, false), func(r *poolReq) *service.Opt[string] { return &r.Description })),
		"prefixes":          rw(bind(strList, func(r *poolReq) *service.Opt[[]string] { return &r.Prefixes })),
		"default_prefixlen": rw(bind(integer(false), func(r *poolReq) *service.Opt[int] { return &r.DefaultPrefixLen })),
		"min_prefixlen":     rw(bind(integer(false), func(r *poolReq) *service.Opt[int] { return &r.MinPrefixLen })),
		"max_prefixlen":     rw(bind(integer(false), func(r *poolReq) *service.Opt[int] { return &r.MaxPrefixLen })),
		"shared":            postOnly(bind(boolean, func(r *poolReq) *service.Opt[bool] { return &r.Shared })),
		"is_default":        rw(bind(boolean, func(r *poolReq) *service.Opt[bool] { return &r.IsDefault })),
		"default_quota":     rw(bind(integer(true), func(r *poolReq) *service.Opt[int] { return &r.DefaultQuota })),
		"address_scope_id":  rw(bind(str(36, true), func(r *poolReq) *service.Opt[string] { return &r.AddressScopeID })),
		"ip_version":        readOnly[poolReq](),
	}
	projectAttrs(t, func(r *poolReq) *service.Opt[string] { return &r.ProjectID })
	commonReadOnly(t)
	t["tags"] = postOnly(bind(strList, func(r *poolReq) *service.Opt[[]string] { return &r.Tags }))
	return t
}()

type scopeReq = service.AddressScopeRequest

var addressScopeAttrs = func() map[string]attr[scopeReq] {
	t := map[string]attr[scopeReq]{
		"name":       rw(bind(str(255, false), func(r *scopeReq) *service.Opt[string] { return &r.Name })),
		"ip_version": postOnly(bind(integer(false), func(r *scopeReq) *service.Opt[int] { return &r.IPVersion })),
		"shared":     rw(bind(boolean, func(r *scopeReq) *service.Opt[bool] { return &r.Shared })),
		"id":         readOnly[scopeReq](),
	}
	projectAttrs(t, func(r *scopeReq) *service.Opt[string] { return &r.ProjectID })
	return t
}()

// registerPools mounts /v2.0/subnetpools (with add_prefixes,
// remove_prefixes and tags), /v2.0/address-scopes and
// /v2.0/network-ip-availabilities.
func registerPools(mux *http.ServeMux, svc interface {
	poolAPI
	tagAPI
}) {
	pools := &resource[api.SubnetPool, service.SubnetPoolRequest]{
		singular: "subnetpool", plural: "subnetpools", attrs: subnetPoolAttrs, known: knownAttrs(api.SubnetPool{}),
		create: svc.CreateSubnetPools, get: svc.GetSubnetPool, list: svc.ListSubnetPools,
		update: svc.UpdateSubnetPool, remove: svc.DeleteSubnetPool,
	}
	pools.register(mux)
	registerTags(mux, svc, "subnetpools")
	mux.HandleFunc("PUT /v2.0/subnetpools/{id}/add_prefixes", prefixOp(svc.AddPrefixes))
	mux.HandleFunc("PUT /v2.0/subnetpools/{id}/remove_prefixes", prefixOp(svc.RemovePrefixes))

	// The collection's URL and its JSON key differ ("address-scopes",
	// "address_scopes"), so the routes are mounted by hand.
	scopes := &resource[api.AddressScope, service.AddressScopeRequest]{
		singular: "address_scope", plural: "address_scopes", attrs: addressScopeAttrs, known: knownAttrs(api.AddressScope{}),
		create: svc.CreateAddressScopes, get: svc.GetAddressScope, list: svc.ListAddressScopes,
		update: svc.UpdateAddressScope, remove: svc.DeleteAddressScope,
	}
	mux.HandleFunc("GET /v2.0/address-scopes", scopes.handleList)
	mux.HandleFunc("GET /v2.0/address-scopes/{id}", scopes.handleGet)
	mux.HandleFunc("POST /v2.0/address-scopes", scopes.handleCreate)
	mux.HandleFunc("PUT /v2.0/address-scopes/{id}", scopes.handleUpdate)
	mux.HandleFunc("DELETE /v2.0/address-scopes/{id}", scopes.handleDelete)

	avail := func(version int) *resource[api.NetworkIPAvailability, struct{}] {
		return &resource[api.NetworkIPAvailability, struct{}]{
			singular: "network_ip_availability", plural: "network_ip_availabilities",
			known: knownAttrs(api.NetworkIPAvailability{}), get: svc.GetIPAvailability,
			list: func(ctx context.Context) ([]api.NetworkIPAvailability, error) {
				return svc.ListIPAvailability(ctx, version)
			},
		}
	}
	mux.HandleFunc("GET /v2.0/network-ip-availabilities", func(w http.ResponseWriter, r *http.Request) {
		version, err := ipVersionFilter(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		avail(version).handleList(w, r)
	})
	mux.HandleFunc("GET /v2.0/network-ip-availabilities/{id}", avail(0).handleGet)
}

// ipVersionFilter takes the ip_version filter of an IP availability list
// out of the query (it filters subnets, not an attribute of the answer;
// the openstack client always sends it).
func ipVersionFilter(r *http.Request) (int, error) {
	q := r.URL.Query()
	vs, ok := q["ip_version"]
	if !ok {
		return 0, nil
	}
	if len(vs) != 1 || (vs[0] != "4" && vs[0] != "6") {
		return 0, badRequest(fmt.Sprintf("Invalid input for ip_version. Reason: '%s' is not in [4, 6].", strings.Join(vs, ",")))
	}
	q.Del("ip_version")
	r.URL.RawQuery = q.Encode()
	return int(vs[0][0] - '0'), nil
}

// prefixOp serves add_prefixes and remove_prefixes: body and answer are
// {"prefixes": [...]}.
func prefixOp(op func(context.Context, string, []string) ([]string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		raw, ok := body["prefixes"]
		if !ok {
			raw = json.RawMessage("null")
		}
		prefixes, err := strList("prefixes", raw)
		if err != nil {
			writeError(w, r, err)
			return
		}
		out, err := op(r.Context(), r.PathValue("id"), prefixes.V)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"prefixes": out})
	}
}

// Subnet pool and address scope errors, by Neutron's exception names.
func init() {
	for _, e := range []struct {
		kind   error
		status int
		typ    string
	}{
		{service.ErrSubnetPoolNotFound, http.StatusNotFound, "SubnetPoolNotFound"},
		{service.ErrAddressScopeNotFound, http.StatusNotFound, "AddressScopeNotFound"},
		{service.ErrPoolPrefixes, http.StatusBadRequest, "IllegalSubnetPoolPrefixUpdate"},
		{service.ErrPoolPrefixBounds, http.StatusBadRequest, "IllegalSubnetPoolPrefixBounds"},
		{service.ErrPrefixVersionMismatch, http.StatusBadRequest, "PrefixVersionMismatch"},
		{service.ErrEmptyPrefixList, http.StatusBadRequest, "EmptySubnetPoolPrefixList"},
		{service.ErrMinPrefixAllocation, http.StatusBadRequest, "MinPrefixSubnetAllocationError"},
		{service.ErrMaxPrefixAllocation, http.StatusBadRequest, "MaxPrefixSubnetAllocationError"},
		{service.ErrSubnetAllocation, http.StatusBadRequest, "SubnetAllocationError"},
		{service.ErrPoolExhausted, http.StatusConflict, "SubnetAllocationError"},
		{service.ErrPoolQuotaExceeded, http.StatusConflict, "SubnetPoolQuotaExceeded"},
		{service.ErrPoolDelete, http.StatusBadRequest, "SubnetPoolDeleteError"},
		{service.ErrPoolAffinity, http.StatusBadRequest, "NetworkSubnetPoolAffinityError"},
		{service.ErrPoolUpdate, http.StatusBadRequest, "IllegalSubnetPoolUpdate"},
		{service.ErrScopePrefixConflict, http.StatusConflict, "AddressScopePrefixConflict"},
		{service.ErrScopeAssociation, http.StatusBadRequest, "IllegalSubnetPoolAssociationToAddressScope"},
		{service.ErrScopeVersionAssociation, http.StatusBadRequest, "IllegalSubnetPoolIpVersionAssociationToAddressScope"},
		{service.ErrScopeInUse, http.StatusConflict, "AddressScopeInUse"},
		{service.ErrScopeUpdate, http.StatusBadRequest, "AddressScopeUpdateError"},
	} {
		errorTable = append(errorTable, struct {
			kind error
			wire wireError
		}{e.kind, wireError{e.status, e.typ}})
	}
}
