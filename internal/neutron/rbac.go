package neutron

import (
	"context"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/service"
)

// rbacAPI is what /v2.0/rbac-policies needs from the service.
type rbacAPI interface {
	CreateRBACPolicies(ctx context.Context, reqs []service.RBACRequest) ([]api.RBACPolicy, error)
	GetRBACPolicy(ctx context.Context, id string) (api.RBACPolicy, error)
	ListRBACPolicies(ctx context.Context) ([]api.RBACPolicy, error)
	UpdateRBACPolicy(ctx context.Context, id string, r service.RBACRequest, ifMatch int64) (api.RBACPolicy, error)
	DeleteRBACPolicy(ctx context.Context, id string, ifMatch int64) error
}

type rbacReq = service.RBACRequest

// rbacAttrs: Neutron's rbac_policies attribute map. Only the target
// changes after creation.
var rbacAttrs = func() map[string]attr[rbacReq] {
	t := map[string]attr[rbacReq]{
		"object_type":   postOnly(bind(str(255, false), func(r *rbacReq) *service.Opt[string] { return &r.ObjectType })),
		"object_id":     postOnly(bind(str(255, false), func(r *rbacReq) *service.Opt[string] { return &r.ObjectID })),
		"action":        postOnly(bind(str(255, false), func(r *rbacReq) *service.Opt[string] { return &r.Action })),
		"target_tenant": rw(bind(str(255, false), func(r *rbacReq) *service.Opt[string] { return &r.TargetTenant })),
		"id":            readOnly[rbacReq](),
	}
	projectAttrs(t, func(r *rbacReq) *service.Opt[string] { return &r.ProjectID })
	return t
}()

func rbacResource(svc rbacAPI) *resource[api.RBACPolicy, service.RBACRequest] {
	return &resource[api.RBACPolicy, service.RBACRequest]{
		singular: "rbac_policy", plural: "rbac_policies", path: "rbac-policies",
		attrs: rbacAttrs, known: knownAttrs(api.RBACPolicy{}),
		create: svc.CreateRBACPolicies, get: svc.GetRBACPolicy, list: svc.ListRBACPolicies,
		update: svc.UpdateRBACPolicy, remove: svc.DeleteRBACPolicy,
	}
}
