package service

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// Security groups (Neutron's security-group and stateful-security-group
// extensions). A group is stored as one object holding its rules, so a
// rule change is one conditional write of its group, which bumps the
// group's revision as Neutron does. Every project has a "default" group,
// created on first use (listing groups, creating a group or a port) with
// Neutron's default rules; its id is derived from the project's, so
// concurrent first uses on any number of servers create it once (the
// create is conditioned on the key not existing) and a port of a
// project can name it before it exists. Ports join groups through index
// keys (store.SecGroupPortKey) written in the port's own transactions: a
// group delete conditions on "no port joined since I listed".

// storedSecGroup is a group as it lives in the store. QuotaSlot is the
// group's quota slot (none for the default group), RuleSlots the slot of
// each rule by rule id.
type storedSecGroup struct {
	api.SecurityGroup
	QuotaSlot string            `json:"vland:quota_slot,omitempty"`
	RuleSlots map[string]string `json:"vland:rule_slots,omitempty"`
}

// SecurityGroupRequest is the body of a group create or update.
type SecurityGroupRequest struct {
	Name        Opt[string]
	Description Opt[string]
	ProjectID   Opt[string]
	Stateful    Opt[bool]
	Tags        Opt[[]string]
}

// Error kinds of security groups.
var (
	ErrSecGroupNotFound      = errors.New("service: security group not found")           // 404 SecurityGroupNotFound
	ErrSecGroupRuleNotFound  = errors.New("service: security group rule not found")      // 404 SecurityGroupRuleNotFound
	ErrSecGroupInUse         = errors.New("service: security group in use")              // 409 SecurityGroupInUse
	ErrSecGroupRuleExists    = errors.New("service: security group rule exists")         // 409 SecurityGroupRuleExists
	ErrDefaultSecGroupExists = errors.New("service: default security group exists")      // 409 SecurityGroupDefaultAlreadyExists
	ErrCannotRemoveDefault   = errors.New("service: cannot remove default group")        // 409 SecurityGroupCannotRemoveDefault
	ErrCannotUpdateDefault   = errors.New("service: cannot update default group")        // 409 SecurityGroupCannotUpdateDefault
	ErrSecGroupsNeedPortSec  = errors.New("service: security groups need port security") // 400 PortSecurityAndIPRequiredForSecurityGroups
	ErrPortHasSecGroup       = errors.New("service: port has security groups")           // 409 PortSecurityPortHasSecurityGroup
)

func secGroupNotFound(id string) error {
	return fault.New(ErrSecGroupNotFound, "Security group %s does not exist", id)
}

// Quota resource names of groups and rules.
const (
	quotaSecGroup     = "security_group"
	quotaSecGroupRule = "security_group_rule"
)

const defaultSecGroupName = "default"

// defaultSecGroupID is the id of a project's default group.
func defaultSecGroupID(project string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("vland/default-security-group/"+project)).String()
}

// egressRules are the rules every new group starts with (egress to
// anywhere, IPv4 and IPv6); the default group also admits ingress from
// its own members.
func (s *Service) newGroupRules(g *api.SecurityGroup, isDefault bool) []api.SecurityGroupRule {
	var out []api.SecurityGroupRule
	for _, et := range []string{api.EtherTypeIPv4, api.EtherTypeIPv6} {
		out = append(out, s.newRule(g, api.SecurityGroupRule{Direction: api.DirectionEgress, Ethertype: et}))
		if isDefault {
			out = append(out, s.newRule(g, api.SecurityGroupRule{Direction: api.DirectionIngress, Ethertype: et, RemoteGroupID: ptr(g.ID)}))
		}
	}
	return out
}

func (s *Service) newRule(g *api.SecurityGroup, r api.SecurityGroupRule) api.SecurityGroupRule {
	r.ID = newID()
	r.ProjectID, r.TenantID, r.SecurityGroupID = g.ProjectID, g.ProjectID, g.ID
	r.RevisionNumber, r.CreatedAt, r.UpdatedAt = 0, g.CreatedAt, g.CreatedAt
	return r
}

func ptr[T any](v T) *T { return &v }

// ensureDefaultSecGroup creates the project's default group unless it
// exists. It does not count against the quota (as in Neutron), but its
// rules and itself show in the usage.
func (s *Service) ensureDefaultSecGroup(ctx context.Context, project string) error {
	id := defaultSecGroupID(project)
	if _, ok := s.cache.secGroup(id); ok {
		return nil
	}
	now := s.timestamp()
	g := storedSecGroup{SecurityGroup: api.SecurityGroup{
		ID: id, Name: defaultSecGroupName, Description: "Default security group",
		ProjectID: project, TenantID: project, Stateful: true, Tags: []string{},
		RevisionNumber: 1, CreatedAt: now, UpdatedAt: now,
	}}
	g.SecurityGroupRules = s.newGroupRules(&g.SecurityGroup, true)
	key := store.SecurityGroupKey(id)
	_, err := s.txn(ctx, []store.Cond{{Key: key}}, []store.Op{{Key: key, Value: mustJSON(g)}})
	if errors.Is(err, store.ErrConflict) {
		err = nil // another request created it
	}
	if err != nil {
		return err
	}
	if err := s.cache.sync(ctx); err != nil {
		return err
	}
	s.catchUp(ctx)
	return nil
}

// secGroupView is a group as answers show it.
func secGroupView(g *storedSecGroup) api.SecurityGroup {
	out := g.SecurityGroup
	out.Tags = nonNil(slices.Clone(out.Tags))
	out.SecurityGroupRules = make([]api.SecurityGroupRule, len(g.SecurityGroupRules))
	for i, r := range g.SecurityGroupRules {
		out.SecurityGroupRules[i] = ruleView(g, r)
	}
	return out
}

func ruleView(g *storedSecGroup, r api.SecurityGroupRule) api.SecurityGroupRule {
	r.BelongsToDefaultSG = g.Name == defaultSecGroupName && g.ID == defaultSecGroupID(g.ProjectID)
	r.NormalizedCIDR = r.RemoteIPPrefix
	return r
}

func isDefaultGroup(g *storedSecGroup) bool { return g.ID == defaultSecGroupID(g.ProjectID) }

// visibleSecGroup returns a group the caller may see (get_security_group:
// admin or a reader of its project).
func (s *Service) visibleSecGroup(ctx context.Context, who identity.Identity, id string) (versioned[storedSecGroup], error) {
	v, ok := s.cache.secGroup(id)
	if !ok {
		if err := s.cache.sync(ctx); err != nil {
			return v, err
		}
		v, ok = s.cache.secGroup(id)
	}
	if !ok || !readsProject(who, v.obj.ProjectID) {
		return v, secGroupNotFound(id)
	}
	return v, nil
}

// writableSecGroup returns a group the caller may change.
func (s *Service) writableSecGroup(ctx context.Context, who identity.Identity, id, action string) (versioned[storedSecGroup], error) {
	v, err := s.visibleSecGroup(ctx, who, id)
	if err != nil {
		return v, err
	}
	if !writesProject(who, v.obj.ProjectID) {
		return v, forbidden(action)
	}
	return v, nil
}

// GetSecurityGroup returns a group the caller may see.
func (s *Service) GetSecurityGroup(ctx context.Context, id string) (api.SecurityGroup, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.SecurityGroup{}, err
	}
	v, err := s.visibleSecGroup(ctx, who, id)
	if err != nil {
		return api.SecurityGroup{}, err
	}
	return secGroupView(&v.obj), nil
}

// ListSecurityGroups returns the groups the caller may see, by id.
func (s *Service) ListSecurityGroups(ctx context.Context) ([]api.SecurityGroup, error) {
	groups, err := s.visibleSecGroups(ctx)
	if err != nil {
		return nil, err
	}
	var out []api.SecurityGroup
	for _, g := range groups {
		out = append(out, secGroupView(g))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// visibleSecGroups returns the groups the caller may read; the caller's
// project gets its default group first, as in Neutron.
func (s *Service) visibleSecGroups(ctx context.Context) ([]*storedSecGroup, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	if who.ProjectID != "" && who.IsReader() {
		if err := s.ensureDefaultSecGroup(ctx, who.ProjectID); err != nil {
			return nil, err
		}
	}
	var out []*storedSecGroup
	for _, v := range s.cache.allSecGroups() {
		if readsProject(who, v.obj.ProjectID) {
			out = append(out, &v.obj)
		}
	}
	return out, nil
}

// CreateSecurityGroups creates groups (bulk: all or none, one
// transaction), each with the two egress rules Neutron gives new groups.
func (s *Service) CreateSecurityGroups(ctx context.Context, reqs []SecurityGroupRequest) ([]api.SecurityGroup, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := canCreate(who, "create_security_group"); err != nil {
		return nil, err
	}
	projects := make([]string, len(reqs))
	for i, r := range reqs {
		if projects[i], err = projectFor(who, r.ProjectID); err != nil {
			return nil, err
		}
		if r.Name.or("") == defaultSecGroupName {
			return nil, fault.New(ErrDefaultSecGroupExists, "Default security group already exists.")
		}
		if _, err := createTags(r.Tags); err != nil {
			return nil, err
		}
		if err := s.ensureDefaultSecGroup(ctx, projects[i]); err != nil {
			return nil, err
		}
	}
	ctx, cancel := detach(ctx)
	defer cancel()
	out := make([]api.SecurityGroup, len(reqs))
	err = s.retry(ctx, func() error {
		a := &alloc{s: s, who: who}
		defer a.release()
		quota := newQuotaGuard(s)
		var ops []store.Op
		var conds []store.Cond
		for i, r := range reqs {
			tags, _ := createTags(r.Tags)
			now := s.timestamp()
			g := storedSecGroup{SecurityGroup: api.SecurityGroup{
				ID: newID(), Name: r.Name.or(""), Description: r.Description.or(""),
				ProjectID: projects[i], TenantID: projects[i], Stateful: r.Stateful.or(true),
				Tags: tags, RevisionNumber: 1, CreatedAt: now, UpdatedAt: now,
			}, RuleSlots: map[string]string{}}
			var err error
			if g.QuotaSlot, err = quota.slot(a, g.ProjectID, quotaSecGroup); err != nil {
				return err
			}
			g.SecurityGroupRules = s.newGroupRules(&g.SecurityGroup, false)
			for _, rule := range g.SecurityGroupRules {
				if g.RuleSlots[rule.ID], err = quota.slot(a, g.ProjectID, quotaSecGroupRule); err != nil {
					return err
				}
			}
			key := store.SecurityGroupKey(g.ID)
			conds = append(conds, store.Cond{Key: key})
			ops = append(ops, store.Op{Key: key, Value: mustJSON(g)})
			out[i] = secGroupView(&g)
		}
		for _, k := range a.keys {
			conds = append(conds, store.Cond{Key: k})
			ops = append(ops, store.Op{Key: k, Value: []byte("security-group")})
		}
		if _, err := s.txn(ctx, append(conds, quota.condList()...), ops); err != nil {
			return err
		}
		a.commit()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateSecurityGroup changes a group's name, description or stateful.
// The default group cannot be renamed, no other group can take its name,
// and stateful changes only while no port uses the group (Neutron).
func (s *Service) UpdateSecurityGroup(ctx context.Context, id string, r SecurityGroupRequest, ifMatch int64) (api.SecurityGroup, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.SecurityGroup{}, err
	}
	if r.ProjectID.Set {
		return api.SecurityGroup{}, fault.New(fault.ErrBadRequest, "Cannot update read-only attribute project_id")
	}
	var out api.SecurityGroup
	err = s.retry(ctx, func() error {
		v, err := s.writableSecGroup(ctx, who, id, "update_security_group")
		if err != nil {
			return err
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		g := v.obj
		if r.Name.has() && r.Name.V != g.Name {
			if isDefaultGroup(&g) {
				return fault.New(ErrCannotUpdateDefault, "Updating default security group not allowed.")
			}
			if r.Name.V == defaultSecGroupName {
				return fault.New(ErrDefaultSecGroupExists, "Default security group already exists.")
			}
		}
		g.Name, g.Description = r.Name.or(g.Name), r.Description.or(g.Description)
		conds := []store.Cond{{Key: store.SecurityGroupKey(id), ModRevision: v.rev}}
		if r.Stateful.has() && r.Stateful.V != g.Stateful {
			c, err := s.secGroupUnused(ctx, id)
			if err != nil {
				return err
			}
			conds = append(conds, c)
			g.Stateful = r.Stateful.V
		}
		if g.Name == v.obj.Name && g.Description == v.obj.Description && g.Stateful == v.obj.Stateful {
			out = secGroupView(&g)
			return nil
		}
		g.RevisionNumber++
		g.UpdatedAt = s.timestamp()
		out = secGroupView(&g)
		_, err = s.txn(ctx, conds, []store.Op{{Key: store.SecurityGroupKey(id), Value: mustJSON(g)}})
		return err
	})
	return out, err
}

// secGroupUnused checks that no port is in the group and returns the
// condition that keeps it so until the write.
func (s *Service) secGroupUnused(ctx context.Context, id string) (store.Cond, error) {
	prefix := store.SecGroupPortsOf(id)
	kvs, listed, err := s.st.ListKeys(ctx, prefix)
	if err != nil {
		return store.Cond{}, err
	}
	if len(kvs) > 0 {
		return store.Cond{}, fault.New(ErrSecGroupInUse, "Security Group %s in use.", id)
	}
	return store.NoKeysCreatedUnder(prefix, listed), nil
}

// DeleteSecurityGroup deletes a group no port uses. Only admins delete a
// default group.
func (s *Service) DeleteSecurityGroup(ctx context.Context, id string, ifMatch int64) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := detach(ctx)
	defer cancel()
	return s.retry(ctx, func() error {
		v, err := s.writableSecGroup(ctx, who, id, "delete_security_group")
		if err != nil {
			return err
		}
		if isDefaultGroup(&v.obj) && !who.IsAdmin() {
			return fault.New(ErrCannotRemoveDefault, "Insufficient rights for removing default security group.")
		}
		if err := checkRevision(ifMatch, v.obj.RevisionNumber); err != nil {
			return err
		}
		unused, err := s.secGroupUnused(ctx, id)
		if err != nil {
			return err
		}
		ops := []store.Op{{Key: store.SecurityGroupKey(id), Delete: true}}
		if v.obj.QuotaSlot != "" {
			ops = append(ops, store.Op{Key: v.obj.QuotaSlot, Delete: true})
		}
		for _, slot := range v.obj.RuleSlots {
			ops = append(ops, store.Op{Key: slot, Delete: true})
		}
		_, err = s.txn(ctx, []store.Cond{{Key: store.SecurityGroupKey(id), ModRevision: v.rev}, unused}, ops)
		return err
	})
}

func init() {
	taggables["security-groups"] = taggable[storedSecGroup]{
		key: store.SecurityGroupKey,
		find: func(s *Service, who identity.Identity, id string, write bool) (versioned[storedSecGroup], error) {
			v, ok := s.cache.secGroup(id)
			if !ok || !readsProject(who, v.obj.ProjectID) {
				return v, secGroupNotFound(id)
			}
			if write && !writesProject(who, v.obj.ProjectID) {
				return v, forbidden("update_security_group")
			}
			return v, nil
		},
		std: func(g *storedSecGroup) (*[]string, *int64, *string) { return &g.Tags, &g.RevisionNumber, &g.UpdatedAt },
	}
}

// lowerName is protocol name normalisation (Neutron compares names case
// insensitively).
func lowerName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
