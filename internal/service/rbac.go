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

// Network RBAC (Neutron's rbac-policies extension): a policy grants one
// project, or every project ("*"), access to a network, either
// access_as_shared (see it, its subnets, and plug ports into it) or
// access_as_external (see it as an external network). This is the
// permission control of seed 003: a project joins another project's
// network only if the owner granted it.
//
// A network keeps its policies in its own stored object (vland:rbac), so
// a policy change is one conditional write of the network that bumps its
// revision (as Neutron does). Port creates are conditioned on the
// network's revision, and a revoke on "no port created since I looked",
// so a grant revoked concurrently with a port create can never leave a
// port without the access it was created under.
//
// shared=true is exactly a wildcard access_as_shared policy and
// router:external=true at least one access_as_external policy, as in
// Neutron: creating or updating a network with them creates the wildcard
// policy (owned by the network's project), and creating or deleting the
// wildcard policy sets or clears shared. The stored Shared flag is "has a
// wildcard share"; the shared attribute a caller sees is whether the
// network is shared with it (wildcard or its project), Neutron's
// per-caller view. A first access_as_external policy makes a network
// external; deleting the last one leaves it external but visible to no
// other project (as Neutron does), and router:external=false removes
// every access_as_external policy.

// rbacEntry is one RBAC policy as its network stores it.
type rbacEntry struct {
	ID      string `json:"id"`
	Project string `json:"project_id"`
	Action  string `json:"action"`
	Target  string `json:"target_tenant"`
}

// RBACRequest is the body of an RBAC policy create or update (an update
// changes only the target).
type RBACRequest struct {
	ProjectID    Opt[string]
	ObjectType   Opt[string]
	ObjectID     Opt[string]
	Action       Opt[string]
	TargetTenant Opt[string]
}

// Error kinds of RBAC policies.
var (
	ErrRBACPolicyNotFound   = errors.New("service: rbac policy not found")     // 404 RbacPolicyNotFound
	ErrRBACPolicyInUse      = errors.New("service: rbac policy in use")        // 409 RbacPolicyInUse
	ErrDuplicateRBACPolicy  = errors.New("service: duplicate rbac policy")     // 409 DuplicateRbacPolicy
	ErrInvalidActionForType = errors.New("service: invalid action for object") // 400 InvalidActionForType
)

func rbacNotFound(id string) error {
	return fault.New(ErrRBACPolicyNotFound, "RBAC policy of type network with ID %s not found", id)
}

// policies returns a network's RBAC entries. A network written before
// vland knew RBAC has none stored (nil, where newer ones store a possibly
// empty list): its shared and external flags stand for the wildcard
// policies, with ids derived from the network's so they stay the same.
func policies(n *storedNetwork) []rbacEntry {
	if n.RBAC != nil {
		return n.RBAC
	}
	out := []rbacEntry{}
	for _, a := range []struct {
		on     bool
		action string
	}{{n.Shared, api.RBACAccessShared}, {n.External, api.RBACAccessExternal}} {
		if a.on {
			id := uuid.NewSHA1(uuid.NameSpaceOID, []byte(n.ID+"/"+a.action)).String()
			out = append(out, rbacEntry{ID: id, Project: n.ProjectID, Action: a.action, Target: api.RBACWildcard})
		}
	}
	return out
}

// grantsIn reports whether entries give project the action.
func grantsIn(entries []rbacEntry, action, project string) bool {
	return slices.ContainsFunc(entries, func(e rbacEntry) bool {
		return e.Action == action && (e.Target == api.RBACWildcard || e.Target == project)
	})
}

// grants reports whether the network's policies give project the action.
func (n *storedNetwork) grants(action, project string) bool {
	return grantsIn(policies(n), action, project)
}

// networkView is a network as the caller sees it: shared says whether it
// is shared with the caller's project (Neutron's per-caller attribute).
func networkView(who identity.Identity, n *storedNetwork) api.Network {
	out := n.Network
	out.Shared = n.grants(api.RBACAccessShared, who.ProjectID)
	return out
}

// flagPolicies sets the policies a create with shared / router:external
// implies: the wildcard ones, owned by the network's project.
func flagPolicies(n *storedNetwork) {
	n.RBAC = []rbacEntry{}
	if n.Shared {
		n.RBAC = append(n.RBAC, rbacEntry{ID: newID(), Project: n.ProjectID, Action: api.RBACAccessShared, Target: api.RBACWildcard})
	}
	if n.External {
		n.RBAC = append(n.RBAC, rbacEntry{ID: newID(), Project: n.ProjectID, Action: api.RBACAccessExternal, Target: api.RBACWildcard})
	}
}

// syncFlagPolicies follows an update of shared / router:external from
// was: shared adds or drops the wildcard share; external=true adds a
// wildcard access_as_external, external=false drops every one.
func syncFlagPolicies(n *storedNetwork, was *storedNetwork) {
	entries := slices.Clone(policies(was))
	if n.Shared != was.Shared {
		entries = slices.DeleteFunc(entries, func(e rbacEntry) bool {
			return e.Action == api.RBACAccessShared && e.Target == api.RBACWildcard
		})
		if n.Shared {
			entries = append(entries, rbacEntry{ID: newID(), Project: n.ProjectID, Action: api.RBACAccessShared, Target: api.RBACWildcard})
		}
	}
	if n.External != was.External {
		entries = slices.DeleteFunc(entries, func(e rbacEntry) bool { return e.Action == api.RBACAccessExternal })
		if n.External {
			entries = append(entries, rbacEntry{ID: newID(), Project: n.ProjectID, Action: api.RBACAccessExternal, Target: api.RBACWildcard})
		}
	}
	n.RBAC = nonNil(entries)
}

// sharedInUse reports whether turning shared off would strand another
// project: a project other than the owner with a (non network-device)
// port or a subnet on the network and no share of its own (Neutron's
// _validate_shared_update).
func (s *Service) sharedInUse(n *storedNetwork) bool {
	specific := slices.DeleteFunc(slices.Clone(policies(n)), func(e rbacEntry) bool { return e.Target == api.RBACWildcard })
	stranded := func(project string) bool {
		return project != n.ProjectID && !grantsIn(specific, api.RBACAccessShared, project)
	}
	for _, p := range s.cache.networkPorts(n.ID) {
		if !isNetworkDevice(p.obj.DeviceOwner) && stranded(p.obj.ProjectID) {
			return true
		}
	}
	for _, id := range n.Subnets {
		if sub, ok := s.cache.subnet(id); ok && stranded(sub.obj.ProjectID) {
			return true
		}
	}
	return false
}

func rbacPolicy(n *storedNetwork, e rbacEntry) api.RBACPolicy {
	return api.RBACPolicy{ID: e.ID, ProjectID: e.Project, TenantID: e.Project, ObjectType: api.RBACObjectNetwork,
		ObjectID: n.ID, Action: e.Action, TargetTenant: e.Target}
}

// findRBAC returns the policy with id and its network, if the caller may
// see the policy (get_rbac_policy: admin or a reader of the policy's
// project; the target project does not see policies, as in Neutron).
func (s *Service) findRBAC(who identity.Identity, id string) (versioned[storedNetwork], rbacEntry, error) {
	for _, v := range s.cache.allNetworks() {
		for _, e := range policies(&v.obj) {
			if e.ID == id {
				if !readsProject(who, e.Project) {
					return v, e, rbacNotFound(id)
				}
				return v, e, nil
			}
		}
	}
	return versioned[storedNetwork]{}, rbacEntry{}, rbacNotFound(id)
}

// GetRBACPolicy returns a policy the caller may see.
func (s *Service) GetRBACPolicy(ctx context.Context, id string) (api.RBACPolicy, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.RBACPolicy{}, err
	}
	v, e, err := s.findRBAC(who, id)
	if err != nil {
		return api.RBACPolicy{}, err
	}
	return rbacPolicy(&v.obj, e), nil
}

// ListRBACPolicies returns every policy the caller may see, by id.
func (s *Service) ListRBACPolicies(ctx context.Context) ([]api.RBACPolicy, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	var out []api.RBACPolicy
	for _, v := range s.cache.allNetworks() {
		for _, e := range policies(&v.obj) {
			if readsProject(who, e.Project) {
				out = append(out, rbacPolicy(&v.obj, e))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// CreateRBACPolicies creates policies one by one (Neutron allows bulk
// creates of them); if one fails, those already created are deleted.
func (s *Service) CreateRBACPolicies(ctx context.Context, reqs []RBACRequest) ([]api.RBACPolicy, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := detach(ctx)
	defer cancel()
	var out []api.RBACPolicy
	for i := range reqs {
		p, err := s.createRBAC(ctx, who, &reqs[i])
		if err != nil {
			s.catchUp(ctx) // the cache must hold what this request created
			for _, done := range out {
				if err := s.removeRBAC(ctx, who, done.ID); err != nil {
					s.log.Error("service: rbac bulk create rollback failed", "policy", done.ID, "err", err)
				}
			}
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// checkRBACRequest validates a create request's attributes.
func checkRBACRequest(r *RBACRequest) error {
	for _, a := range []struct {
		name string
		v    Opt[string]
	}{{"object_type", r.ObjectType}, {"object_id", r.ObjectID}, {"action", r.Action}, {"target_tenant", r.TargetTenant}} {
		if !a.v.has() {
			return fault.New(fault.ErrBadRequest, "Failed to parse request. Required attribute '%s' not specified", a.name)
		}
	}
	if t := strings.ToLower(strings.TrimSpace(r.ObjectType.V)); t != api.RBACObjectNetwork {
		return fault.BadAttr("object_type", "'%s' is not a valid RBAC object type", r.ObjectType.V)
	}
	if a := r.Action.V; a != api.RBACAccessShared && a != api.RBACAccessExternal {
		return fault.New(ErrInvalidActionForType, "Invalid action '%s' for object type 'network'. Valid actions: [%s, %s]",
			a, api.RBACAccessExternal, api.RBACAccessShared)
	}
	return checkTarget(r.TargetTenant.V)
}

func checkTarget(t string) error {
	if t == "" || len(t) > 255 {
		return fault.BadAttr("target_tenant", "'%s' is not a valid project id", t)
	}
	return nil
}

// createRBAC is create_rbac_policy: a member creates policies on its own
// project's networks (admins on any); only admins target "*".
func (s *Service) createRBAC(ctx context.Context, who identity.Identity, r *RBACRequest) (api.RBACPolicy, error) {
	if err := canCreate(who, "create_rbac_policy"); err != nil {
		return api.RBACPolicy{}, err
	}
	if err := checkRBACRequest(r); err != nil {
		return api.RBACPolicy{}, err
	}
	if r.TargetTenant.V == api.RBACWildcard && !who.IsAdmin() {
		return api.RBACPolicy{}, forbidden("create_rbac_policy:target_tenant")
	}
	project, err := projectFor(who, r.ProjectID)
	if err != nil {
		return api.RBACPolicy{}, err
	}
	e := rbacEntry{ID: newID(), Project: project, Action: r.Action.V, Target: r.TargetTenant.V}
	var out api.RBACPolicy
	err = s.retry(ctx, func() error {
		v, err := s.ownNetwork(ctx, who, r.ObjectID.V)
		if err != nil {
			return err
		}
		entries := policies(&v.obj)
		if slices.ContainsFunc(entries, func(o rbacEntry) bool { return o.Action == e.Action && o.Target == e.Target }) {
			return fault.New(ErrDuplicateRBACPolicy, "An RBAC policy already exists with those values.")
		}
		n := v.obj
		n.RBAC = append(slices.Clone(entries), e)
		if e.Action == api.RBACAccessExternal {
			n.External = true // the first external policy converts the network
		}
		out = rbacPolicy(&n, e)
		return s.writeRBAC(ctx, v, n, nil)
	})
	return out, err
}

// ownNetwork returns the network a policy is created or changed on: it
// must be visible to the caller (else not found) and the caller's own
// unless it is an admin (else Neutron's InvalidInput).
func (s *Service) ownNetwork(ctx context.Context, who identity.Identity, id string) (versioned[storedNetwork], error) {
	v, ok := s.cache.network(id)
	if !ok {
		if err := s.cache.sync(ctx); err != nil {
			return v, err
		}
		v, ok = s.cache.network(id)
	}
	if !ok || v.obj.Deleting || !canSeeNetwork(who, &v.obj) {
		return v, networkNotFound(id)
	}
	if !who.IsAdmin() && v.obj.ProjectID != who.ProjectID {
		return v, fault.InvalidInput("Only admins can manipulate policies on networks they do not own")
	}
	return v, nil
}

// writeRBAC writes n (v with changed policies) with the flags that follow
// from its policies and a new revision, on the conditions of v's revision
// and extra.
func (s *Service) writeRBAC(ctx context.Context, v versioned[storedNetwork], n storedNetwork, extra []store.Cond) error {
	n.RBAC = nonNil(n.RBAC)
	n.Shared = slices.ContainsFunc(n.RBAC, func(e rbacEntry) bool {
		return e.Action == api.RBACAccessShared && e.Target == api.RBACWildcard
	})
	n.RevisionNumber++
	n.UpdatedAt = s.timestamp()
	key := store.NetworkKey(n.ID)
	_, err := s.txn(ctx, append([]store.Cond{{Key: key, ModRevision: v.rev}}, extra...),
		[]store.Op{{Key: key, Value: mustJSON(n)}})
	return err
}

// writableRBAC returns a policy the caller may change (update and
// delete_rbac_policy: admin or a member of the policy's project).
func (s *Service) writableRBAC(who identity.Identity, id, action string) (versioned[storedNetwork], rbacEntry, error) {
	v, e, err := s.findRBAC(who, id)
	if err != nil {
		return v, e, err
	}
	if !writesProject(who, e.Project) {
		return v, e, forbidden(action)
	}
	return v, e, nil
}

// UpdateRBACPolicy changes a policy's target. The old target must not be
// using the access it loses (RbacPolicyInUse).
func (s *Service) UpdateRBACPolicy(ctx context.Context, id string, r RBACRequest, _ int64) (api.RBACPolicy, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.RBACPolicy{}, err
	}
	if r.TargetTenant.Set {
		if err := checkTarget(r.TargetTenant.V); err != nil {
			return api.RBACPolicy{}, err
		}
	}
	var out api.RBACPolicy
	err = s.retry(ctx, func() error {
		v, e, err := s.writableRBAC(who, id, "update_rbac_policy")
		if err != nil {
			return err
		}
		out = rbacPolicy(&v.obj, e)
		if !r.TargetTenant.has() || r.TargetTenant.V == e.Target {
			return nil
		}
		if r.TargetTenant.V == api.RBACWildcard && !who.IsAdmin() {
			return forbidden("update_rbac_policy:target_tenant")
		}
		if !who.IsAdmin() && v.obj.ProjectID != who.ProjectID {
			return fault.InvalidInput("Only admins can manipulate policies on networks they do not own")
		}
		entries := slices.Clone(policies(&v.obj))
		if slices.ContainsFunc(entries, func(o rbacEntry) bool { return o.Action == e.Action && o.Target == r.TargetTenant.V }) {
			return fault.New(ErrDuplicateRBACPolicy, "An RBAC policy already exists with those values.")
		}
		i := slices.IndexFunc(entries, func(o rbacEntry) bool { return o.ID == id })
		entries[i].Target = r.TargetTenant.V
		cond, err := s.checkRevoke(ctx, &v.obj, e, entries)
		if err != nil {
			return err
		}
		n := v.obj
		n.RBAC = entries
		out = rbacPolicy(&n, entries[i])
		return s.writeRBAC(ctx, v, n, cond)
	})
	return out, err
}

// DeleteRBACPolicy deletes a policy unless its target uses the access it
// gives (a port on the network that no other policy allows): then
// RbacPolicyInUse.
func (s *Service) DeleteRBACPolicy(ctx context.Context, id string, _ int64) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := detach(ctx)
	defer cancel()
	return s.removeRBAC(ctx, who, id)
}

func (s *Service) removeRBAC(ctx context.Context, who identity.Identity, id string) error {
	return s.retry(ctx, func() error {
		v, e, err := s.writableRBAC(who, id, "delete_rbac_policy")
		if err != nil {
			return err
		}
		entries := slices.DeleteFunc(slices.Clone(policies(&v.obj)), func(o rbacEntry) bool { return o.ID == id })
		cond, err := s.checkRevoke(ctx, &v.obj, e, entries)
		if err != nil {
			return err
		}
		n := v.obj
		n.RBAC = entries
		return s.writeRBAC(ctx, v, n, cond)
	})
}

// checkRevoke refuses to take access_as_shared away from a project that
// has ports on the network and no other policy (remaining) that allows
// them. The ports come from the store's index, and the returned condition
// makes the write fail if a port was created since (the retry then looks
// again). Revoking a share with the owner itself, or an external policy
// (vland has no router gateways that could depend on it), needs nothing.
func (s *Service) checkRevoke(ctx context.Context, n *storedNetwork, old rbacEntry, remaining []rbacEntry) ([]store.Cond, error) {
	if old.Action != api.RBACAccessShared || old.Target == n.ProjectID {
		return nil, nil
	}
	prefix := store.NetworkPortsOf(n.ID)
	idx, listed, err := s.st.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	for _, kv := range idx {
		p, ok, err := s.anyPort(ctx, strings.TrimPrefix(kv.Key, prefix))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, store.ErrConflict // deleted since the listing: look again
		}
		project := p.obj.ProjectID
		if project == n.ProjectID || (old.Target != api.RBACWildcard && project != old.Target) ||
			grantsIn(remaining, api.RBACAccessShared, project) {
			continue
		}
		return nil, fault.New(ErrRBACPolicyInUse, "RBAC policy on object %s cannot be removed because other objects depend on it.\nDetails: Unable to reconfigure sharing settings for network %s. Multiple tenants are using it.", n.ID, n.ID)
	}
	if err := s.fault("rbac-revoke-checked"); err != nil {
		return nil, err
	}
	return []store.Cond{store.NoKeysCreatedUnder(prefix, listed)}, nil
}

// storedNetworkOf is the cached network with id, nil if there is none.
func (s *Service) storedNetworkOf(id string) *storedNetwork {
	n, ok := s.cache.network(id)
	if !ok {
		return nil
	}
	return &n.obj
}
