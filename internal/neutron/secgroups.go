package neutron

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/service"
)

// secGroupAPI is what /v2.0/security-groups and
// /v2.0/security-group-rules need from the service.
type secGroupAPI interface {
	CreateSecurityGroups(ctx context.Context, reqs []service.SecurityGroupRequest) ([]api.SecurityGroup, error)
	GetSecurityGroup(ctx context.Context, id string) (api.SecurityGroup, error)
	ListSecurityGroups(ctx context.Context) ([]api.SecurityGroup, error)
	UpdateSecurityGroup(ctx context.Context, id string, r service.SecurityGroupRequest, ifMatch int64) (api.SecurityGroup, error)
	DeleteSecurityGroup(ctx context.Context, id string, ifMatch int64) error
	CreateSecurityGroupRules(ctx context.Context, reqs []service.SecurityGroupRuleRequest) ([]api.SecurityGroupRule, error)
	GetSecurityGroupRule(ctx context.Context, id string) (api.SecurityGroupRule, error)
	ListSecurityGroupRules(ctx context.Context) ([]api.SecurityGroupRule, error)
	UpdateSecurityGroupRule(ctx context.Context, id string, r service.SecurityGroupRuleRequest, ifMatch int64) (api.SecurityGroupRule, error)
	DeleteSecurityGroupRule(ctx context.Context, id string, ifMatch int64) error
}

type sgReq = service.SecurityGroupRequest
type sgRuleReq = service.SecurityGroupRuleRequest

var secGroupAttrs = func() map[string]attr[sgReq] {
	t := map[string]attr[sgReq]{
		"name":                 rw(bind(str(255, false), func(r *sgReq) *service.Opt[string] { return &r.Name })),
		"description":          rw(bind(str(255, false), func(r *sgReq) *service.Opt[string] { return &r.Description })),
		"stateful":             rw(bind(boolean, func(r *sgReq) *service.Opt[bool] { return &r.Stateful })),
		"security_group_rules": readOnly[sgReq](),
		"shared":               readOnly[sgReq](),
	}
	projectAttrs(t, func(r *sgReq) *service.Opt[string] { return &r.ProjectID })
	commonReadOnly(t)
	t["tags"] = postOnly(bind(strList, func(r *sgReq) *service.Opt[[]string] { return &r.Tags }))
	return t
}()

// Rules cannot be changed after creation (Neutron: allow_put false).
var secGroupRuleAttrs = func() map[string]attr[sgRuleReq] {
	t := map[string]attr[sgRuleReq]{
		"security_group_id":       postOnly(bind(str(255, false), func(r *sgRuleReq) *service.Opt[string] { return &r.SecurityGroupID })),
		"direction":               postOnly(bind(str(255, false), func(r *sgRuleReq) *service.Opt[string] { return &r.Direction })),
		"ethertype":               postOnly(bind(str(255, false), func(r *sgRuleReq) *service.Opt[string] { return &r.Ethertype })),
		"protocol":                postOnly(bind(protocolConv, func(r *sgRuleReq) *service.Opt[string] { return &r.Protocol })),
		"port_range_min":          postOnly(bind(integer(true), func(r *sgRuleReq) *service.Opt[int] { return &r.PortRangeMin })),
		"port_range_max":          postOnly(bind(integer(true), func(r *sgRuleReq) *service.Opt[int] { return &r.PortRangeMax })),
		"remote_ip_prefix":        postOnly(bind(str(255, true), func(r *sgRuleReq) *service.Opt[string] { return &r.RemoteIPPrefix })),
		"remote_group_id":         postOnly(bind(str(255, true), func(r *sgRuleReq) *service.Opt[string] { return &r.RemoteGroupID })),
		"description":             postOnly(bind(str(255, false), func(r *sgRuleReq) *service.Opt[string] { return &r.Description })),
		"remote_address_group_id": readOnly[sgRuleReq](),
		"normalized_cidr":         readOnly[sgRuleReq](),
		"belongs_to_default_sg":   readOnly[sgRuleReq](),
	}
	projectAttrs(t, func(r *sgRuleReq) *service.Opt[string] { return &r.ProjectID })
	commonReadOnly(t)
	return t
}()

// protocolConv accepts a protocol as a string or a JSON number (tempest
// sends both), or null for any.
func protocolConv(name string, raw json.RawMessage) (service.Opt[string], error) {
	if isNull(raw) {
		return service.Opt[string]{Set: true, Null: true}, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err == nil {
		switch x := v.(type) {
		case string:
			return service.Some(x), nil
		case float64:
			if x == math.Trunc(x) {
				return service.Some(strconv.Itoa(int(x))), nil
			}
		}
	}
	return service.Opt[string]{}, invalid(name, "'%s' is not a valid protocol", shown(raw))
}

func registerSecGroups(mux *http.ServeMux, svc secGroupAPI) {
	groups := &resource[api.SecurityGroup, sgReq]{
		singular: "security_group", plural: "security_groups", path: "security-groups",
		attrs: secGroupAttrs, known: knownAttrs(api.SecurityGroup{}),
		create: svc.CreateSecurityGroups, get: svc.GetSecurityGroup, list: svc.ListSecurityGroups,
		update: svc.UpdateSecurityGroup, remove: svc.DeleteSecurityGroup,
	}
	rules := &resource[api.SecurityGroupRule, sgRuleReq]{
		singular: "security_group_rule", plural: "security_group_rules", path: "security-group-rules",
		attrs: secGroupRuleAttrs, known: knownAttrs(api.SecurityGroupRule{}),
		create: svc.CreateSecurityGroupRules, get: svc.GetSecurityGroupRule, list: svc.ListSecurityGroupRules,
		update: svc.UpdateSecurityGroupRule, remove: svc.DeleteSecurityGroupRule,
	}
	groups.register(mux)
	rules.register(mux)
}
