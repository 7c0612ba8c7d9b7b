package server_test

import (
	"fmt"
	"slices"
	"testing"
)

// azRBAC is the matrix's RBAC part: project netown owns net, shared with
// project own through an access_as_shared policy (pol), own has a port
// on it (so pol is in use), and xnet, external to own through an
// access_as_external policy. Project other is granted nothing.
type azRBAC struct {
	net, sub, xnet, xsub, pol, port string
	targets                         int
}

func newAZRBAC(t *testing.T, f *azFixture) azRBAC {
	netown, own := f.actors[azNetOwner], f.actors[azOwner]
	var r azRBAC
	r.net = mkNetwork(t, netown, map[string]any{"name": "az-rbac"})["id"].(string)
	r.sub = mkSubnet(t, netown, r.net, "10.76.0.0/24", nil)["id"].(string)
	r.pol = rbac(t, netown, r.net, "access_as_shared", f.own).want(t, 201).obj(t, "rbac_policy")["id"].(string)
	r.port = mkPort(t, own, r.net, nil)["id"].(string)
	r.xnet = mkNetwork(t, netown, map[string]any{"name": "az-rbac-ext"})["id"].(string)
	r.xsub = mkSubnet(t, netown, r.xnet, "10.77.0.0/24", nil)["id"].(string)
	rbac(t, netown, r.xnet, "access_as_external", f.own).want(t, 201)
	return r
}

// target is a fresh target project for a policy a cell creates.
func (r *azRBAC) target() string {
	r.targets++
	return fmt.Sprintf("authz-target-%d", r.targets)
}

func azRBACRows(f *azFixture) []azRow {
	post := func(net func(*azFixture) string) func(*testing.T, *azFixture, caller) reply {
		return func(t *testing.T, f *azFixture, who caller) reply {
			return rbac(t, who, net(f), "access_as_shared", f.rbac.target())
		}
	}
	dropCreated := func(t *testing.T, _ *azFixture, r reply) {
		if r.status == 201 {
			id := r.obj(t, "rbac_policy")["id"].(string)
			call(t, admin, "DELETE", "/v2.0/rbac-policies/"+id, nil).want(t, 204)
		}
	}
	portOn := func(net func(*azFixture) string) func(*testing.T, *azFixture, caller) reply {
		return func(t *testing.T, f *azFixture, who caller) reply {
			return call(t, who, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net(f)}})
		}
	}
	dropPort := func(t *testing.T, _ *azFixture, r reply) {
		if r.status == 201 {
			call(t, admin, "DELETE", "/v2.0/ports/"+r.obj(t, "port")["id"].(string), nil).want(t, 204)
		}
	}
	shared := func(f *azFixture) string { return f.rbac.net }
	external := func(f *azFixture) string { return f.rbac.xnet }
	private := func(f *azFixture) string { return f.onet }
	var fresh string // the policy a delete cell made
	return []azRow{
		{name: "create port on the network shared with own", project: f.netown, notFound: "NetworkNotFound",
			want: exp(201, 403, 404, 201, 201), do: portOn(shared), check: dropPort},
		{name: "create port on the network external to own", project: f.netown, notFound: "NetworkNotFound",
			want: exp(403, 403, 404, 201, 201), do: portOn(external), check: dropPort},
		{name: "create subnet on the network shared with own", project: f.netown, notFound: "NetworkNotFound",
			want: exp(403, 403, 404, 201, 201),
			do: func(t *testing.T, f *azFixture, who caller) reply {
				return call(t, who, "POST", "/v2.0/subnets", map[string]any{"subnet": map[string]any{"network_id": f.rbac.net, "cidr": f.cidr(), "ip_version": 4}})
			},
			check: func(t *testing.T, _ *azFixture, r reply) {
				if r.status == 201 {
					call(t, admin, "DELETE", "/v2.0/subnets/"+r.obj(t, "subnet")["id"].(string), nil).want(t, 204)
				}
			}},
		{name: "list rbac policies (the share with own)", list: true, project: f.netown, want: exp(notListed, notListed, notListed, listed, listed),
			do: func(t *testing.T, f *azFixture, who caller) reply {
				if slices.Contains(policyIDs(t, who, ""), f.rbac.pol) {
					return reply{status: listed}
				}
				return reply{status: notListed}
			}},
		{name: "show rbac policy (the share with own)", project: f.netown, notFound: "RbacPolicyNotFound", want: exp(404, 404, 404, 200, 200),
			do: func(t *testing.T, f *azFixture, who caller) reply {
				return call(t, who, "GET", "/v2.0/rbac-policies/"+f.rbac.pol, nil)
			}},
		{name: "create rbac policy on the network shared with own", project: f.netown, notFound: "NetworkNotFound",
			want: exp(400, 403, 404, 201, 201), do: post(shared), check: dropCreated},
		{name: "create rbac policy on own's private network", project: f.own, notFound: "NetworkNotFound",
			want: exp(201, 403, 404, 404, 201), do: post(private), check: dropCreated},
		{name: "create wildcard rbac policy", project: azSelf, notFound: "NetworkNotFound", want: exp(403, 403, 403, 403, 201),
			do: func(t *testing.T, f *azFixture, who caller) reply {
				// own's callers on own's network, the others on netown's.
				net := f.rbac.net
				if who.project == f.own && !who.admin {
					net = f.onet
				}
				return rbac(t, who, net, "access_as_shared", "*")
			}, check: dropCreated},
		{name: "update rbac policy in use (the share with own)", project: f.netown, notFound: "RbacPolicyNotFound", want: exp(404, 404, 404, 409, 409),
			do: func(t *testing.T, f *azFixture, who caller) reply {
				return call(t, who, "PUT", "/v2.0/rbac-policies/"+f.rbac.pol, map[string]any{"rbac_policy": map[string]any{"target_tenant": f.rbac.target()}})
			}},
		{name: "delete rbac policy in use (the share with own)", project: f.netown, notFound: "RbacPolicyNotFound", want: exp(404, 404, 404, 409, 409),
			do: func(t *testing.T, f *azFixture, who caller) reply {
				return call(t, who, "DELETE", "/v2.0/rbac-policies/"+f.rbac.pol, nil)
			}},
		{name: "delete a fresh rbac policy", project: f.netown, notFound: "RbacPolicyNotFound", want: exp(404, 404, 404, 204, 204),
			do: func(t *testing.T, f *azFixture, who caller) reply {
				fresh = rbac(t, f.actors[azNetOwner], f.rbac.net, "access_as_shared", f.rbac.target()).want(t, 201).obj(t, "rbac_policy")["id"].(string)
				return call(t, who, "DELETE", "/v2.0/rbac-policies/"+fresh, nil)
			},
			check: func(t *testing.T, _ *azFixture, r reply) {
				gone := call(t, admin, "GET", "/v2.0/rbac-policies/"+fresh, nil).status == 404
				if gone != (r.status == 204) {
					t.Errorf("delete rbac policy %s answered %d; gone: %v", fresh, r.status, gone)
				}
				if !gone {
					call(t, admin, "DELETE", "/v2.0/rbac-policies/"+fresh, nil).want(t, 204)
				}
			}},
	}
}
