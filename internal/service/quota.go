package service

import (
	"context"
	"errors"
	"slices"
	"sort"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/store"
)

// Quotas, as Neutron's quotas extension: per-project limits on networks,
// subnets and ports, -1 unlimited. Enforcement is in the create
// transaction: each resource holds a quota slot key (0 ≤ n < limit),
// taken lowest-free by compare-and-create like an address, so concurrent
// creates on any number of servers cannot hold more slots than the limit.
// Creates also compare the project's quota record, so a limit changed
// meanwhile makes them retry under the new one.

// ErrOverQuota: a create would exceed the project's quota (409 OverQuota).
var ErrOverQuota = errors.New("service: over quota")

// Resource names of the quota API (and of the slot keys).
const (
	quotaNetwork = "network"
	quotaSubnet  = "subnet"
	quotaPort    = "port"
	// L3 (routers.go, floatingips.go).
	quotaRouter     = "router"
	quotaFloatingIP = "floatingip"
)

// unsetLimit marks a limit a stored quota record does not have (written
// before the resource had a quota): the default applies.
const unsetLimit = -2

// QuotaRequest is the body of PUT /v2.0/quotas/{project_id}.
type QuotaRequest struct {
	Network    Opt[int]
	Subnet     Opt[int]
	Port       Opt[int]
	Router     Opt[int]
	FloatingIP Opt[int]

	SecurityGroup     Opt[int]
	SecurityGroupRule Opt[int]
}

// quotaOf returns the project's limits and the revision of its record (0:
// none, the defaults apply).
func (s *Service) quotaOf(project string) (api.Quota, int64) {
	if v, ok := s.cache.quota(project); ok {
		q := v.obj
		q.ProjectID, q.TenantID = "", ""
		if q.SecurityGroup == 0 && q.SecurityGroupRule == 0 {
			// A record written before security groups had quotas.
			q.SecurityGroup, q.SecurityGroupRule = s.cfg.DefaultQuota.SecurityGroup, s.cfg.DefaultQuota.SecurityGroupRule
		}
		return s.fillLimits(q), v.rev
	}
	return s.cfg.DefaultQuota, 0
}

// fillLimits gives the default to limits a record does not have.
func (s *Service) fillLimits(q api.Quota) api.Quota {
	if q.Router == unsetLimit {
		q.Router = s.cfg.DefaultQuota.Router
	}
	if q.FloatingIP == unsetLimit {
		q.FloatingIP = s.cfg.DefaultQuota.FloatingIP
	}
	return q
}

func limitOf(q api.Quota, resource string) int {
	switch resource {
	case quotaNetwork:
		return q.Network
	case quotaSubnet:
		return q.Subnet
	case quotaSecGroup:
		return q.SecurityGroup
	case quotaSecGroupRule:
		return q.SecurityGroupRule
	case quotaRouter:
		return q.Router
	case quotaFloatingIP:
		return q.FloatingIP
	}
	return q.Port
}

func overQuota(resource string) error {
	return fault.New(ErrOverQuota, "Quota exceeded for resources: ['%s'].", resource)
}

// quotaGuard collects, for one write attempt, the quota records the write
// depends on and how many resources of each project it adds.
type quotaGuard struct {
	s     *Service
	conds map[string]store.Cond
	added map[string]int // project/resource -> resources added so far
}

func newQuotaGuard(s *Service) *quotaGuard {
	return &quotaGuard{s: s, conds: map[string]store.Cond{}, added: map[string]int{}}
}

// slot reserves a quota slot for one new resource of the project into a
// (a.keys then creates it with the resource) and returns its key.
func (g *quotaGuard) slot(a *alloc, project, resource string) (string, error) {
	q, rev := g.s.quotaOf(project)
	g.conds[project] = store.Cond{Key: store.QuotaKey(project), ModRevision: rev}
	limit := limitOf(q, resource)
	if limit >= 0 {
		// The count catches a quota lowered below what is in use (slots
		// above the new limit stay held); the slots make it exact under
		// concurrency.
		used := g.s.cache.used(project, resource)
		if used+g.added[project+"/"+resource] >= limit {
			return "", overQuota(resource)
		}
	}
	n, ok := g.s.cache.freeSlot(project, resource, limit, func(n int) bool {
		return a.reserve(store.QuotaSlotKey(project, resource, n), false)
	})
	if !ok {
		return "", overQuota(resource)
	}
	g.added[project+"/"+resource]++
	return store.QuotaSlotKey(project, resource, n), nil
}

// condList returns the quota record conditions.
func (g *quotaGuard) condList() []store.Cond {
	out := make([]store.Cond, 0, len(g.conds))
	for _, c := range g.conds {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// quotaAccess checks who may read a project's quota: admins, and members
// their own project's.
func quotaAccess(ctx context.Context, project string) error {
	who, err := caller(ctx)
	if err != nil {
		return err
	}
	if !who.IsAdmin() && who.ProjectID != project {
		return forbidden("get_quota")
	}
	return nil
}

// GetQuota returns a project's limits.
func (s *Service) GetQuota(ctx context.Context, project string) (api.Quota, error) {
	if err := quotaAccess(ctx, project); err != nil {
		return api.Quota{}, err
	}
	if err := s.cache.sync(ctx); err != nil {
		return api.Quota{}, err
	}
	q, _ := s.quotaOf(project)
	return q, nil
}

// DefaultQuota returns the limits of projects without their own.
func (s *Service) DefaultQuota(ctx context.Context, project string) (api.Quota, error) {
	if err := quotaAccess(ctx, project); err != nil {
		return api.Quota{}, err
	}
	return s.cfg.DefaultQuota, nil
}

// QuotaDetails returns a project's limits with what it uses.
func (s *Service) QuotaDetails(ctx context.Context, project string) (api.QuotaDetails, error) {
	q, err := s.GetQuota(ctx, project)
	if err != nil {
		return api.QuotaDetails{}, err
	}
	n, sub, p := s.cache.usage(project)
	return api.QuotaDetails{
		Network:    api.QuotaUsage{Limit: q.Network, Used: n},
		Subnet:     api.QuotaUsage{Limit: q.Subnet, Used: sub},
		Port:       api.QuotaUsage{Limit: q.Port, Used: p},
		Router:     api.QuotaUsage{Limit: q.Router, Used: s.cache.used(project, quotaRouter)},
		FloatingIP: api.QuotaUsage{Limit: q.FloatingIP, Used: s.cache.used(project, quotaFloatingIP)},

		SecurityGroup:     api.QuotaUsage{Limit: q.SecurityGroup, Used: s.cache.used(project, quotaSecGroup)},
		SecurityGroupRule: api.QuotaUsage{Limit: q.SecurityGroupRule, Used: s.cache.used(project, quotaSecGroupRule)},
	}, nil
}

// ListQuotas returns the projects with their own quota (admin only).
func (s *Service) ListQuotas(ctx context.Context) ([]api.Quota, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	if !who.IsAdmin() {
		return nil, forbidden("get_quota")
	}
	all := s.cache.allQuotas()
	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]api.Quota, 0, len(ids))
	for _, id := range ids {
		q := s.fillLimits(all[id])
		q.ProjectID, q.TenantID = id, id
		out = append(out, q)
	}
	return out, nil
}

// UpdateQuota sets some of a project's limits (admin only).
func (s *Service) UpdateQuota(ctx context.Context, project string, r QuotaRequest) (api.Quota, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.Quota{}, err
	}
	if !who.IsAdmin() {
		return api.Quota{}, forbidden("update_quota")
	}
	for name, o := range map[string]Opt[int]{quotaNetwork: r.Network, quotaSubnet: r.Subnet, quotaPort: r.Port,
		quotaRouter: r.Router, quotaFloatingIP: r.FloatingIP,
		quotaSecGroup: r.SecurityGroup, quotaSecGroupRule: r.SecurityGroupRule} {
		if o.Set && (o.Null || o.V < -1) {
			return api.Quota{}, fault.BadAttr(name, "'%d' is not a valid quota limit, it must be -1 or greater", o.V)
		}
	}
	var out api.Quota
	err = s.retry(ctx, func() error {
		q, rev := s.quotaOf(project)
		q.Network, q.Subnet, q.Port = r.Network.or(q.Network), r.Subnet.or(q.Subnet), r.Port.or(q.Port)
		q.Router, q.FloatingIP = r.Router.or(q.Router), r.FloatingIP.or(q.FloatingIP)
		q.SecurityGroup, q.SecurityGroupRule = r.SecurityGroup.or(q.SecurityGroup), r.SecurityGroupRule.or(q.SecurityGroupRule)
		_, err := s.txn(ctx, []store.Cond{{Key: store.QuotaKey(project), ModRevision: rev}},
			[]store.Op{{Key: store.QuotaKey(project), Value: mustJSON(q)}})
		out = q
		return err
	})
	return out, err
}

// DeleteQuota resets a project's limits to the defaults (admin only).
func (s *Service) DeleteQuota(ctx context.Context, project string) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	if !who.IsAdmin() {
		return forbidden("delete_quota")
	}
	_, err = s.txn(ctx, nil, []store.Op{{Key: store.QuotaKey(project), Delete: true}})
	return err
}
