package service

import (
	"context"
	"slices"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// Ports in security groups, with Neutron's rules: a new port gets its
// project's default group unless security_groups says otherwise; a port
// without port security has no groups; network-owned ports (DHCP, router
// interfaces) get no default group. The groups a port names must exist
// and be visible to the caller and, unless it is an admin, belong to the
// port's project; the port's write is conditioned on their revisions so
// a concurrent group delete cannot leave it in a deleted group.

// checkPortSecGroups validates ids for a port of project and returns the
// conditions the port's write needs.
func (s *Service) checkPortSecGroups(who identity.Identity, ids []string, project string) ([]string, []store.Cond, error) {
	var out []string
	var conds []store.Cond
	var missing []string
	for _, id := range ids {
		if slices.Contains(out, id) {
			continue
		}
		v, ok := s.cache.secGroup(id)
		if !ok || !readsProject(who, v.obj.ProjectID) || (!who.IsAdmin() && v.obj.ProjectID != project) {
			missing = append(missing, id)
			continue
		}
		out = append(out, id)
		conds = append(conds, store.Cond{Key: store.SecurityGroupKey(id), ModRevision: v.rev})
	}
	if len(missing) > 0 {
		return nil, nil, secGroupNotFound(strings.Join(missing, ", "))
	}
	return nonNil(out), conds, nil
}

func errNeedPortSecurity() error {
	return fault.New(ErrSecGroupsNeedPortSec, "Port security must be enabled and port must have an IP address in order to use security groups.")
}

// createPortSecGroups sets the groups of a new port p from the request.
func (s *Service) createPortSecGroups(ctx context.Context, who identity.Identity, r *PortRequest, p *api.Port) ([]store.Cond, error) {
	asked := r.SecurityGroups.has()
	switch {
	case !p.PortSecurityEnabled:
		if asked && len(r.SecurityGroups.V) > 0 {
			return nil, errNeedPortSecurity()
		}
		p.SecurityGroups = []string{}
		return nil, nil
	case !asked && isNetworkDevice(p.DeviceOwner):
		p.SecurityGroups = []string{}
		return nil, nil
	case !asked:
		if err := s.ensureDefaultSecGroup(ctx, p.ProjectID); err != nil {
			return nil, err
		}
		ids, conds, err := s.checkPortSecGroups(identity.Identity{Roles: []string{identity.RoleAdmin}}, []string{defaultSecGroupID(p.ProjectID)}, p.ProjectID)
		p.SecurityGroups = ids
		return conds, err
	}
	ids, conds, err := s.checkPortSecGroups(who, r.SecurityGroups.V, p.ProjectID)
	p.SecurityGroups = ids
	return conds, err
}

// updatePortSecGroups applies a security_groups change to p (old: the
// port before the update) and checks port security.
func (s *Service) updatePortSecGroups(who identity.Identity, r *PortRequest, old, p *api.Port) ([]store.Cond, error) {
	var conds []store.Cond
	if r.SecurityGroups.Set {
		ids, c, err := s.checkPortSecGroups(who, r.SecurityGroups.or(nil), p.ProjectID)
		if err != nil {
			return nil, err
		}
		p.SecurityGroups, conds = ids, c
	} else {
		p.SecurityGroups = old.SecurityGroups
	}
	if !p.PortSecurityEnabled && len(p.SecurityGroups) > 0 {
		if r.SecurityGroups.Set {
			return nil, errNeedPortSecurity()
		}
		return nil, fault.New(ErrPortHasSecGroup, "Port has security group associated. Cannot disable port security or ip address until security group is removed")
	}
	return conds, nil
}

// migratePortSecGroups gives ports written before vland had security
// groups (their groups were stored unchecked) their groups as Neutron
// would have: the existing groups they name, else the default group of
// their project if they have port security and are not network-owned.
func (s *Service) migratePortSecGroups(ctx context.Context) {
	for _, v := range s.cache.allPorts() {
		if v.obj.SGSet {
			continue
		}
		id := v.obj.ID
		err := s.retry(ctx, func() error {
			v, ok := s.cache.port(id)
			if !ok || v.obj.SGSet {
				return nil
			}
			p := v.obj
			p.SecurityGroups = slices.DeleteFunc(slices.Clone(p.SecurityGroups), func(g string) bool {
				_, ok := s.cache.secGroup(g)
				return !ok
			})
			if !p.PortSecurityEnabled {
				p.SecurityGroups = nil
			} else if len(p.SecurityGroups) == 0 && !isNetworkDevice(p.DeviceOwner) {
				if err := s.ensureDefaultSecGroup(ctx, p.ProjectID); err != nil {
					return err
				}
				p.SecurityGroups = []string{defaultSecGroupID(p.ProjectID)}
			}
			p.SecurityGroups = nonNil(p.SecurityGroups)
			p.SGSet = true
			_, err := s.txn(ctx, []store.Cond{{Key: store.PortKey(id), ModRevision: v.rev}}, storedPortOps(&v.obj.Port, &p))
			return err
		})
		if err != nil {
			s.log.Warn("service: port security group migration failed", "port", id, "err", err)
		}
	}
}
