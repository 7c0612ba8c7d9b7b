package server_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// rbac creates an RBAC policy on a network as who and returns the reply.
func rbac(t *testing.T, who caller, net, action, target string) reply {
	t.Helper()
	return call(t, who, "POST", "/v2.0/rbac-policies", map[string]any{"rbac_policy": map[string]any{
		"object_type": "network", "object_id": net, "action": action, "target_tenant": target}})
}

// policyIDs lists the ids of the policies who sees (with a query).
func policyIDs(t *testing.T, who caller, query string) []string {
	t.Helper()
	var ids []string
	for _, p := range call(t, who, "GET", "/v2.0/rbac-policies"+query, nil).want(t, 200).list(t, "rbac_policies") {
		ids = append(ids, p["id"].(string))
	}
	return ids
}

// TestRBACShareWithOneProject: the owner shares a network with one
// project; that project sees it (shared=true for it only), its subnets,
// plugs ports into it, but may not change it, add subnets or see the
// policy; a third project sees nothing. Revoking is refused while the
// target has ports, allowed once another policy covers them or they are
// gone, and then the target can no longer see or attach.
func TestRBACShareWithOneProject(t *testing.T) {
	owner, granted, other := member("rbac-owner"), member("rbac-granted"), member("rbac-other")
	t.Cleanup(func() { azCleanup(t, owner.project, granted.project, other.project) })
	net := mkNetwork(t, owner, map[string]any{"name": "rbac-net"})["id"].(string)
	sub := mkSubnet(t, owner, net, "10.61.0.0/24", nil)["id"].(string)
	port := map[string]any{"port": map[string]any{"network_id": net}}

	call(t, granted, "GET", "/v2.0/networks/"+net, nil).wantError(t, 404, "NetworkNotFound")
	call(t, granted, "POST", "/v2.0/ports", port).wantError(t, 404, "NetworkNotFound")
	rev := revision(t, "networks", net)

	p := rbac(t, owner, net, "access_as_shared", granted.project).want(t, 201).obj(t, "rbac_policy")
	want := map[string]any{"object_type": "network", "object_id": net, "action": "access_as_shared",
		"target_tenant": granted.project, "project_id": owner.project, "tenant_id": owner.project}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("policy %s = %v, want %v (%v)", k, p[k], v, p)
		}
	}
	pid := p["id"].(string)
	if got := revision(t, "networks", net); got <= rev {
		t.Errorf("a policy create did not bump the network's revision (%d -> %d)", rev, got)
	}
	if got := call(t, owner, "GET", "/v2.0/rbac-policies/"+pid, nil).want(t, 200).obj(t, "rbac_policy"); fmt.Sprint(got) != fmt.Sprint(p) {
		t.Errorf("show %v, create answered %v", got, p)
	}

	// The target sees the network as shared, its subnet, and attaches.
	n := call(t, granted, "GET", "/v2.0/networks/"+net, nil).want(t, 200).obj(t, "network")
	if n["shared"] != true {
		t.Errorf("the target sees shared=%v", n["shared"])
	}
	if n := call(t, owner, "GET", "/v2.0/networks/"+net, nil).want(t, 200).obj(t, "network"); n["shared"] != false {
		t.Errorf("the owner sees shared=%v for a network shared with one project", n["shared"])
	}
	if l := call(t, granted, "GET", "/v2.0/networks?shared=true", nil).want(t, 200).list(t, "networks"); !slices.ContainsFunc(l, func(o map[string]any) bool { return o["id"] == net }) {
		t.Errorf("shared=true filter misses the network for its target")
	}
	call(t, granted, "GET", "/v2.0/subnets/"+sub, nil).want(t, 200)
	gport := call(t, granted, "POST", "/v2.0/ports", port).want(t, 201).obj(t, "port")["id"].(string)
	call(t, granted, "PUT", "/v2.0/networks/"+net, map[string]any{"network": map[string]any{"name": "x"}}).wantError(t, 403, "PolicyNotAuthorized")
	call(t, granted, "POST", "/v2.0/subnets", map[string]any{"subnet": map[string]any{"network_id": net, "cidr": "10.62.0.0/24", "ip_version": 4}}).
		wantError(t, 403, "PolicyNotAuthorized")
	// ... but neither sees nor touches the policy, nor shares further.
	if slices.Contains(policyIDs(t, granted, ""), pid) {
		t.Errorf("the target lists the policy that targets it")
	}
	call(t, granted, "GET", "/v2.0/rbac-policies/"+pid, nil).wantError(t, 404, "RbacPolicyNotFound")
	call(t, granted, "DELETE", "/v2.0/rbac-policies/"+pid, nil).wantError(t, 404, "RbacPolicyNotFound")
	rbac(t, granted, net, "access_as_shared", other.project).wantError(t, 400, "InvalidInput")

	// A third project sees nothing of it.
	call(t, other, "GET", "/v2.0/networks/"+net, nil).wantError(t, 404, "NetworkNotFound")
	call(t, other, "GET", "/v2.0/subnets/"+sub, nil).wantError(t, 404, "SubnetNotFound")
	call(t, other, "POST", "/v2.0/ports", port).wantError(t, 404, "NetworkNotFound")
	rbac(t, other, net, "access_as_shared", other.project).wantError(t, 404, "NetworkNotFound")

	// Revoking while the target has a port is refused; a wildcard policy
	// covers the port, then the wildcard alone is the one in use.
	call(t, owner, "DELETE", "/v2.0/rbac-policies/"+pid, nil).wantError(t, 409, "RbacPolicyInUse")
	call(t, owner, "PUT", "/v2.0/rbac-policies/"+pid, map[string]any{"rbac_policy": map[string]any{"target_tenant": other.project}}).
		wantError(t, 409, "RbacPolicyInUse")
	wild := rbac(t, admin, net, "access_as_shared", "*").want(t, 201).obj(t, "rbac_policy")["id"].(string)
	if n := call(t, other, "GET", "/v2.0/networks/"+net, nil).want(t, 200).obj(t, "network"); n["shared"] != true {
		t.Errorf("a wildcard policy leaves shared=%v", n["shared"])
	}
	call(t, owner, "DELETE", "/v2.0/rbac-policies/"+pid, nil).want(t, 204)
	call(t, admin, "DELETE", "/v2.0/rbac-policies/"+wild, nil).wantError(t, 409, "RbacPolicyInUse")
	call(t, admin, "PUT", "/v2.0/rbac-policies/"+wild, map[string]any{"rbac_policy": map[string]any{"target_tenant": other.project}}).
		wantError(t, 409, "RbacPolicyInUse")
	call(t, granted, "DELETE", "/v2.0/ports/"+gport, nil).want(t, 204)
	call(t, admin, "DELETE", "/v2.0/rbac-policies/"+wild, nil).want(t, 204)
	if n := call(t, owner, "GET", "/v2.0/networks/"+net, nil).want(t, 200).obj(t, "network"); n["shared"] != false {
		t.Errorf("deleting the wildcard policy leaves shared=%v", n["shared"])
	}

	// Revoked: nothing new attaches, nothing shows.
	call(t, granted, "GET", "/v2.0/networks/"+net, nil).wantError(t, 404, "NetworkNotFound")
	call(t, granted, "GET", "/v2.0/subnets/"+sub, nil).wantError(t, 404, "SubnetNotFound")
	call(t, granted, "POST", "/v2.0/ports", port).wantError(t, 404, "NetworkNotFound")
	call(t, owner, "GET", "/v2.0/rbac-policies/"+pid, nil).wantError(t, 404, "RbacPolicyNotFound")
}

// TestRBACPolicyErrors: Neutron's answers to bad policy requests.
func TestRBACPolicyErrors(t *testing.T) {
	owner, target := member("rbac-err-owner"), member("rbac-err-target")
	reader := caller{project: owner.project, roles: "reader"}
	t.Cleanup(func() { azCleanup(t, owner.project, target.project) })
	net := mkNetwork(t, owner, map[string]any{})["id"].(string)
	post := func(who caller, attrs map[string]any) reply {
		return call(t, who, "POST", "/v2.0/rbac-policies", map[string]any{"rbac_policy": attrs})
	}
	base := func() map[string]any {
		return map[string]any{"object_type": "network", "object_id": net, "action": "access_as_shared", "target_tenant": target.project}
	}
	with := func(k string, v any) map[string]any {
		a := base()
		if v == nil {
			delete(a, k)
		} else {
			a[k] = v
		}
		return a
	}
	post(owner, with("action", "access_as_owner")).wantError(t, 400, "InvalidActionForType")
	post(owner, with("object_type", "qos_policy")).wantError(t, 400, "HTTPBadRequest")
	for _, k := range []string{"object_type", "object_id", "action", "target_tenant"} {
		post(owner, with(k, nil)).wantError(t, 400, "HTTPBadRequest")
	}
	post(owner, with("target_tenant", "")).wantError(t, 400, "HTTPBadRequest")
	post(owner, with("unknown", "x")).wantError(t, 400, "HTTPBadRequest")
	post(owner, with("object_id", "no-such-network")).wantError(t, 404, "NetworkNotFound")
	post(owner, with("target_tenant", "*")).wantError(t, 403, "PolicyNotAuthorized")
	post(owner, with("action", "access_as_external")).want(t, 201) // owners may grant external access to one project
	post(reader, base()).wantError(t, 403, "PolicyNotAuthorized")
	pid := post(owner, base()).want(t, 201).obj(t, "rbac_policy")["id"].(string)
	post(owner, base()).wantError(t, 409, "DuplicateRbacPolicy")
	post(admin, base()).wantError(t, 409, "DuplicateRbacPolicy")

	// Readers of the policy's project see it but change nothing.
	if !slices.Contains(policyIDs(t, reader, ""), pid) {
		t.Errorf("a reader of the policy's project does not list it")
	}
	call(t, reader, "DELETE", "/v2.0/rbac-policies/"+pid, nil).wantError(t, 403, "PolicyNotAuthorized")
	put := func(who caller, attrs map[string]any) reply {
		return call(t, who, "PUT", "/v2.0/rbac-policies/"+pid, map[string]any{"rbac_policy": attrs})
	}
	put(reader, map[string]any{"target_tenant": "x"}).wantError(t, 403, "PolicyNotAuthorized")
	put(owner, map[string]any{"target_tenant": "*"}).wantError(t, 403, "PolicyNotAuthorized")
	put(owner, map[string]any{"action": "access_as_external"}).wantError(t, 400, "HTTPBadRequest")
	put(owner, map[string]any{"object_id": net}).wantError(t, 400, "HTTPBadRequest")
	got := put(owner, map[string]any{"target_tenant": "rbac-err-new"}).want(t, 200).obj(t, "rbac_policy")
	if got["target_tenant"] != "rbac-err-new" || got["id"] != pid || got["object_id"] != net || got["action"] != "access_as_shared" {
		t.Errorf("updated policy %v", got)
	}
	call(t, owner, "DELETE", "/v2.0/rbac-policies/no-such-policy", nil).wantError(t, 404, "RbacPolicyNotFound")

	// Bulk: all or nothing.
	bulk := func(targets ...string) reply {
		var items []map[string]any
		for _, tg := range targets {
			items = append(items, map[string]any{"object_type": "network", "object_id": net, "action": "access_as_shared", "target_tenant": tg})
		}
		return call(t, owner, "POST", "/v2.0/rbac-policies", map[string]any{"rbac_policies": items})
	}
	if l := bulk("rbac-bulk-1", "rbac-bulk-2").want(t, 201).list(t, "rbac_policies"); len(l) != 2 || l[1]["target_tenant"] != "rbac-bulk-2" {
		t.Errorf("bulk create answered %v", l)
	}
	bulk("rbac-bulk-3", "rbac-bulk-1").wantError(t, 409, "DuplicateRbacPolicy")
	if ids := policyIDs(t, owner, "?target_tenant=rbac-bulk-3"); len(ids) != 0 {
		t.Errorf("a failed bulk create left %v", ids)
	}

	// Filters, fields and the extension.
	if ids := policyIDs(t, owner, "?object_id="+net+"&action=access_as_shared&target_tenant=rbac-err-new"); len(ids) != 1 || ids[0] != pid {
		t.Errorf("filtered list %v, want [%s]", ids, pid)
	}
	if ids := policyIDs(t, owner, "?target_tenant=nobody"); len(ids) != 0 {
		t.Errorf("filter target_tenant=nobody lists %v", ids)
	}
	one := call(t, owner, "GET", "/v2.0/rbac-policies/"+pid+"?fields=target_tenant", nil).want(t, 200).obj(t, "rbac_policy")
	if len(one) != 1 || one["target_tenant"] != "rbac-err-new" {
		t.Errorf("fields=target_tenant shows %v", one)
	}
	call(t, owner, "GET", "/v2.0/extensions/rbac-policies", nil).want(t, 200)
	// Deleting the network deletes its policies.
	call(t, owner, "DELETE", "/v2.0/networks/"+net, nil).want(t, 204)
	call(t, owner, "GET", "/v2.0/rbac-policies/"+pid, nil).wantError(t, 404, "RbacPolicyNotFound")
}

// TestRBACSharedAttributeIsWildcardPolicy: shared=true is a wildcard
// access_as_shared policy (created with the network, owned by its
// project), and shared=false removes it, unless other projects depend on
// it; router:external likewise with access_as_external.
func TestRBACSharedAttributeIsWildcardPolicy(t *testing.T) {
	owner, user := member("rbac-flag-owner"), member("rbac-flag-user")
	t.Cleanup(func() { azCleanup(t, owner.project, user.project) })
	net := mkNetwork(t, admin, map[string]any{"shared": true, "project_id": owner.project})["id"].(string)
	wild := call(t, owner, "GET", "/v2.0/rbac-policies?object_id="+net, nil).want(t, 200).list(t, "rbac_policies")
	if len(wild) != 1 || wild[0]["target_tenant"] != "*" || wild[0]["action"] != "access_as_shared" || wild[0]["project_id"] != owner.project {
		t.Fatalf("a shared network's policies: %v", wild)
	}
	// The user's port depends on the share: shared=false and deleting the
	// policy are refused; a policy of its own lets both through.
	mkSubnet(t, owner, net, "10.63.0.0/24", nil)
	mkPort(t, user, net, nil)
	upd := func(attrs map[string]any) reply {
		return call(t, admin, "PUT", "/v2.0/networks/"+net, map[string]any{"network": attrs})
	}
	upd(map[string]any{"shared": false}).wantError(t, 409, "InvalidSharedSetting")
	call(t, owner, "DELETE", "/v2.0/rbac-policies/"+wild[0]["id"].(string), nil).wantError(t, 409, "RbacPolicyInUse")
	rbac(t, owner, net, "access_as_shared", user.project).want(t, 201)
	if n := upd(map[string]any{"shared": false}).want(t, 200).obj(t, "network"); n["shared"] != false {
		t.Errorf("update shared=false answers shared=%v", n["shared"])
	}
	left := call(t, owner, "GET", "/v2.0/rbac-policies?object_id="+net, nil).want(t, 200).list(t, "rbac_policies")
	if len(left) != 1 || left[0]["target_tenant"] != user.project {
		t.Errorf("after shared=false the policies are %v", left)
	}
	if n := call(t, user, "GET", "/v2.0/networks/"+net, nil).want(t, 200).obj(t, "network"); n["shared"] != true {
		t.Errorf("the user's own policy shows shared=%v", n["shared"])
	}
	upd(map[string]any{"shared": true}).want(t, 200)
	if ids := policyIDs(t, admin, "?object_id="+net+"&target_tenant=*"); len(ids) != 1 {
		t.Errorf("shared=true again: %d wildcard policies", len(ids))
	}

	// External: a policy for one project makes the network external and
	// visible to that project only, without its subnets or ports.
	ext := mkNetwork(t, owner, map[string]any{})["id"].(string)
	xsub := mkSubnet(t, owner, ext, "10.64.0.0/24", nil)["id"].(string)
	rbac(t, owner, ext, "access_as_external", user.project).want(t, 201)
	if n := call(t, user, "GET", "/v2.0/networks/"+ext, nil).want(t, 200).obj(t, "network"); n["router:external"] != true || n["shared"] != false {
		t.Errorf("the target of an external policy sees %v", n)
	}
	call(t, user, "GET", "/v2.0/subnets/"+xsub, nil).wantError(t, 404, "SubnetNotFound")
	call(t, user, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": ext}}).wantError(t, 403, "PolicyNotAuthorized")
	call(t, member("rbac-flag-third"), "GET", "/v2.0/networks/"+ext, nil).wantError(t, 404, "NetworkNotFound")
	// router:external=false drops every external policy; true adds the wildcard.
	call(t, admin, "PUT", "/v2.0/networks/"+ext, map[string]any{"network": map[string]any{"router:external": false}}).want(t, 200)
	if ids := policyIDs(t, admin, "?object_id="+ext); len(ids) != 0 {
		t.Errorf("router:external=false leaves policies %v", ids)
	}
	call(t, user, "GET", "/v2.0/networks/"+ext, nil).wantError(t, 404, "NetworkNotFound")
	call(t, admin, "PUT", "/v2.0/networks/"+ext, map[string]any{"network": map[string]any{"router:external": true}}).want(t, 200)
	if ids := policyIDs(t, admin, "?object_id="+ext+"&action=access_as_external&target_tenant=*"); len(ids) != 1 {
		t.Errorf("router:external=true makes %d wildcard policies", len(ids))
	}
	call(t, member("rbac-flag-third"), "GET", "/v2.0/networks/"+ext, nil).want(t, 200)
}

// TestRBACSelfShare: a policy that targets the network's own project is
// never in use (the owner needs no grant).
func TestRBACSelfShare(t *testing.T) {
	owner := member("rbac-self")
	t.Cleanup(func() { azCleanup(t, owner.project) })
	net := mkNetwork(t, owner, map[string]any{})["id"].(string)
	pid := rbac(t, owner, net, "access_as_shared", owner.project).want(t, 201).obj(t, "rbac_policy")["id"].(string)
	mkPort(t, owner, net, nil)
	call(t, owner, "PUT", "/v2.0/rbac-policies/"+pid, map[string]any{"rbac_policy": map[string]any{"target_tenant": "rbac-self-2"}}).want(t, 200)
	call(t, owner, "DELETE", "/v2.0/rbac-policies/"+pid, nil).want(t, 204)
}

// TestRBACRevokeRacesPortCreates: a revoke racing with the target's port
// creates either wins (and then no port of the target is left on the
// network) or answers RbacPolicyInUse (and a port exists): never a port
// without the grant it was created under.
func TestRBACRevokeRacesPortCreates(t *testing.T) {
	owner, target := member("rbac-race-owner"), member("rbac-race-target")
	t.Cleanup(func() { azCleanup(t, owner.project, target.project) })
	for round := range 8 {
		net := mkNetwork(t, owner, map[string]any{})["id"].(string)
		mkSubnet(t, owner, net, "10.65.0.0/24", nil)
		pid := rbac(t, owner, net, "access_as_shared", target.project).want(t, 201).obj(t, "rbac_policy")["id"].(string)
		var wg sync.WaitGroup
		var revoke reply
		created := make([]int, 4)
		for g := range created {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Later rounds give the revoke a head start, so both
				// outcomes occur.
				time.Sleep(time.Duration(round) * 150 * time.Microsecond)
				for range 5 {
					r := call(t, target, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net}})
					if r.status == 201 {
						created[g]++
					} else if r.status != 404 {
						t.Errorf("port create answered %d: %s", r.status, r.raw)
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			revoke = call(t, owner, "DELETE", "/v2.0/rbac-policies/"+pid, nil)
		}()
		wg.Wait()
		ports := call(t, admin, "GET", "/v2.0/ports?network_id="+net+"&project_id="+target.project, nil).want(t, 200).list(t, "ports")
		switch revoke.status {
		case 204:
			if len(ports) != 0 {
				t.Fatalf("round %d: the revoke won, yet the target has %d ports on the network", round, len(ports))
			}
		case 409:
			if len(ports) == 0 {
				t.Fatalf("round %d: the revoke was refused, yet the target has no port", round)
			}
		default:
			t.Fatalf("round %d: revoke answered %d: %s", round, revoke.status, revoke.raw)
		}
		total := 0
		for _, c := range created {
			total += c
		}
		if total != len(ports) {
			t.Fatalf("round %d: %d creates succeeded, %d ports exist", round, total, len(ports))
		}
		t.Logf("round %d: revoke %d, %d ports created", round, revoke.status, total)
		for _, p := range ports {
			call(t, admin, "DELETE", "/v2.0/ports/"+p["id"].(string), nil).want(t, 204)
		}
	}
}
