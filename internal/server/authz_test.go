package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
)

// The actors of the authorization matrix, in the order of every row's
// expectations: a member and a reader of the project that owns the
// resources, a member of an unrelated project, a member of the project
// that owns the shared network, and the admin.
const (
	azOwner = iota
	azReader
	azOther
	azNetOwner
	azAdmin
	azActors
)

var azNames = [azActors]string{"owner member", "owner reader", "other member", "network owner", "admin"}

// azSelf is the project of a row whose target is the caller's own project.
const azSelf = "(the caller's)"

// Pseudo-statuses of list cells: whether the resource is in the list.
const (
	listed    = 200
	notListed = 404
)

// azFixture is what the matrix acts on. Project own owns a private
// network; project netown owns a shared network on which own has a port;
// project ext owns an external (not shared) network.
type azFixture struct {
	actors                  [azActors]caller
	own, other, netown, ext string
	onet, snet, xnet        string
	osub, ssub, xsub        string
	oport, sport            string
	agent                   string
	cidrs                   int
	rbac                    azRBAC // networks shared through RBAC policies
}

// azRow is one resource × verb (× variant): do makes the request as who
// and returns its reply; want is the status per actor; project is the
// project that owns the target (what makes a request cross-project).
type azRow struct {
	name     string
	list     bool // want and the answer are listed or notListed
	project  string
	notFound string // the error type of a 404
	want     [azActors]int
	do       func(t *testing.T, f *azFixture, who caller) reply
	// check, if set, verifies the store after the request (that a refused
	// write changed nothing, and an accepted one did what it said).
	check func(t *testing.T, f *azFixture, r reply)
}

// TestAuthorizationMatrix tries every verb on every resource as every
// actor and compares each answer with Neutron's default policy (secure
// RBAC): readers only read, the network owner sees and deletes but does
// not change other projects' ports, members get an empty agent list, an
// external network's subnets stay hidden, and whatever an actor may not
// see answers exactly as a missing resource would.
func TestAuthorizationMatrix(t *testing.T) {
	f := newAZFixture(t)
	rows := azRows(f)
	type count struct{ tried, leaked int }
	var cross, same [azActors]count
	for _, row := range rows {
		for a := range azActors {
			who := f.actors[a]
			r := row.do(t, f, who)
			want := row.want[a]
			leaked := leak(want, r.status)
			if row.list {
				leaked = want == notListed && r.status == listed
			}
			if leaked {
				t.Errorf("LEAK %s as %s: status %d, want %d: %s", row.name, azNames[a], r.status, want, r.raw)
			} else if r.status != want {
				t.Errorf("%s as %s: status %d, want %d: %s", row.name, azNames[a], r.status, want, r.raw)
			}
			if r.status == want && r.status >= 400 && r.raw != nil {
				wantType := map[int]string{403: "PolicyNotAuthorized", 404: row.notFound}[want]
				if got := r.neutronError(t); wantType != "" && got != wantType {
					t.Errorf("%s as %s: error %s, want %s", row.name, azNames[a], got, wantType)
				}
			}
			if row.check != nil {
				row.check(t, f, r)
			}
			c := &same[a]
			if row.project != who.project && row.project != azSelf || a == azAdmin {
				c = &cross[a]
			}
			c.tried++
			if leaked {
				c.leaked++
			}
		}
	}
	for a := range azActors {
		t.Logf("%-14s cross-project requests tried %3d, leaked %d; own-project %3d, leaked %d",
			azNames[a], cross[a].tried, cross[a].leaked, same[a].tried, same[a].leaked)
	}
	for a := range azActors {
		if cross[a].leaked+same[a].leaked != 0 {
			t.Errorf("%s: %d requests leaked", azNames[a], cross[a].leaked+same[a].leaked)
		}
	}
}

// leak reports an answer that grants more than the policy allows: a
// success where a refusal was due, or anything but 404 where the target
// should look missing (a 403, 400 or 409 tells that it exists).
func leak(want, got int) bool {
	return want >= 400 && (got < 400 || (want == 404 && got != 404))
}

func newAZFixture(t *testing.T) *azFixture {
	f := &azFixture{own: "authz-own", other: "authz-other", netown: "authz-netown", ext: "authz-ext"}
	f.actors = [azActors]caller{
		{project: f.own}, {project: f.own, roles: "reader"}, {project: f.other}, {project: f.netown}, admin,
	}
	t.Cleanup(func() { azCleanup(t, f.own, f.other, f.netown, f.ext) })
	own := f.actors[azOwner]
	f.onet = mkNetwork(t, own, map[string]any{"name": "az-private"})["id"].(string)
	f.osub = mkSubnet(t, own, f.onet, "10.71.0.0/24", nil)["id"].(string)
	f.oport = mkPort(t, own, f.onet, nil)["id"].(string)
	f.snet = mkNetwork(t, admin, map[string]any{"name": "az-shared", "shared": true, "project_id": f.netown})["id"].(string)
	f.ssub = mkSubnet(t, f.actors[azNetOwner], f.snet, "10.72.0.0/24", nil)["id"].(string)
	f.sport = mkPort(t, own, f.snet, nil)["id"].(string)
	f.xnet = mkNetwork(t, admin, map[string]any{"name": "az-external", "router:external": true, "project_id": f.ext})["id"].(string)
	f.xsub = mkSubnet(t, admin, f.xnet, "10.73.0.0/24", map[string]any{"project_id": f.ext})["id"].(string)
	f.rbac = newAZRBAC(t, f)
	f.agent = "agent-authz-host"
	ctx := context.Background()
	lease, err := srv.Store().Grant(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := json.Marshal(api.Agent{ID: f.agent, Host: "authz-host", AgentType: api.AgentTypeOVS, Binary: "vland-agent"})
	if _, err := srv.Store().Txn(ctx, nil, []store.Op{
		{Key: store.AgentKey("authz-host"), Value: rec},
		{Key: store.AgentAliveKey("authz-host"), Value: []byte("1"), Lease: lease},
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Store().Revoke(ctx, lease)
		_, _ = srv.Store().Txn(ctx, nil, []store.Op{{Key: store.AgentKey("authz-host"), Delete: true}})
	})
	return f
}

// azCleanup deletes every port and network (with its subnets) of the
// projects, so the shared and external networks do not show up in other
// tests' lists.
func azCleanup(t *testing.T, projects ...string) {
	for _, coll := range []string{"ports", "networks"} {
		for _, p := range projects {
			for _, o := range call(t, admin, "GET", "/v2.0/"+coll+"?project_id="+p, nil).want(t, 200).list(t, coll) {
				call(t, admin, "DELETE", "/v2.0/"+coll+"/"+o["id"].(string), nil).want(t, 204)
			}
		}
	}
}

// cidr returns a fresh /24 for a subnet created by a matrix cell.
func (f *azFixture) cidr() string {
	f.cidrs++
	return fmt.Sprintf("10.80.%d.0/24", f.cidrs)
}

// exp spells a row's expectations in actor order.
func exp(owner, reader, other, netOwner, admin int) [azActors]int {
	return [azActors]int{owner, reader, other, netOwner, admin}
}

func azRows(f *azFixture) []azRow {
	var rows []azRow
	type target struct {
		coll, id, project, notFound string
		seen                        [azActors]bool
		update                      map[string]any
		canUpdate                   [azActors]int
	}
	all := [azActors]bool{true, true, true, true, true}
	ownOnly := [azActors]bool{true, true, false, false, true}
	portOnShared := [azActors]bool{true, true, false, true, true}
	adminOnly := [azActors]bool{false, false, false, false, true}
	granted := [azActors]bool{true, true, false, true, true}
	netOwnerOnly := [azActors]bool{false, false, false, true, true}
	name := func(n string) map[string]any { return map[string]any{"name": n} }
	targets := []target{
		{"networks", f.onet, f.own, "NetworkNotFound", ownOnly, name("n1"), exp(200, 403, 404, 404, 200)},
		{"networks", f.snet, f.netown, "NetworkNotFound", all, name("n2"), exp(403, 403, 403, 200, 200)},
		{"networks", f.xnet, f.ext, "NetworkNotFound", all, name("n3"), exp(403, 403, 403, 403, 200)},
		{"subnets", f.osub, f.own, "SubnetNotFound", ownOnly, name("s1"), exp(200, 403, 404, 404, 200)},
		{"subnets", f.ssub, f.netown, "SubnetNotFound", all, name("s2"), exp(403, 403, 403, 200, 200)},
		{"subnets", f.xsub, f.ext, "SubnetNotFound", adminOnly, name("s3"), exp(404, 404, 404, 404, 200)},
		{"ports", f.oport, f.own, "PortNotFound", ownOnly, name("p1"), exp(200, 403, 404, 404, 200)},
		// RBAC: netown's networks granted to own (shared, external).
		{"networks", f.rbac.net, f.netown, "NetworkNotFound", granted, name("r1"), exp(403, 403, 404, 200, 200)},
		{"subnets", f.rbac.sub, f.netown, "SubnetNotFound", granted, name("r2"), exp(403, 403, 404, 200, 200)},
		{"networks", f.rbac.xnet, f.netown, "NetworkNotFound", granted, name("r3"), exp(403, 403, 404, 200, 200)},
		{"subnets", f.rbac.xsub, f.netown, "SubnetNotFound", netOwnerOnly, name("r4"), exp(404, 404, 404, 200, 200)},
	}
	// The owner's port on the shared network: its network's owner sees
	// it but may change nothing, whatever the attribute.
	portUpdates := []struct {
		attrs map[string]any
		want  [azActors]int
	}{
		{name("p2"), exp(200, 403, 404, 403, 200)},
		{map[string]any{"admin_state_up": false}, exp(200, 403, 404, 403, 200)},
		{map[string]any{"device_id": "vm-authz"}, exp(200, 403, 404, 403, 200)},
		{map[string]any{"security_groups": []string{}}, exp(200, 403, 404, 403, 200)},
		{map[string]any{"allowed_address_pairs": []map[string]any{{"ip_address": "0.0.0.0/0"}}}, exp(403, 403, 404, 403, 200)},
		{map[string]any{"fixed_ips": []map[string]any{{"subnet_id": f.ssub, "ip_address": "10.72.0.50"}}}, exp(403, 403, 404, 403, 200)},
	}
	for i, u := range portUpdates {
		tg := target{"ports", f.sport, f.own, "PortNotFound", portOnShared, u.attrs, u.want}
		if i > 0 {
			tg.seen = [azActors]bool{} // list and show once
		}
		targets = append(targets, tg)
	}
	for _, tg := range targets {
		singular := tg.coll[:len(tg.coll)-1]
		if tg.seen != ([azActors]bool{}) {
			var listWant, showWant [azActors]int
			for a, ok := range tg.seen {
				listWant[a], showWant[a] = notListed, 404
				if ok {
					listWant[a], showWant[a] = listed, 200
				}
			}
			rows = append(rows, azRow{
				name: "list " + tg.coll + " (" + tg.id + ")", list: true, project: tg.project, want: listWant,
				do: func(t *testing.T, _ *azFixture, who caller) reply {
					r := call(t, who, "GET", "/v2.0/"+tg.coll, nil).want(t, 200)
					if slices.ContainsFunc(r.list(t, tg.coll), func(o map[string]any) bool { return o["id"] == tg.id }) {
						return reply{status: listed}
					}
					return reply{status: notListed}
				},
			}, azRow{
				name: "show " + singular + " " + tg.id, project: tg.project, notFound: tg.notFound, want: showWant,
				do: func(t *testing.T, _ *azFixture, who caller) reply {
					return call(t, who, "GET", "/v2.0/"+tg.coll+"/"+tg.id, nil)
				},
			})
		}
		var before int64
		rows = append(rows, azRow{
			name: fmt.Sprintf("update %s %s %v", singular, tg.id, tg.update), project: tg.project, notFound: tg.notFound, want: tg.canUpdate,
			do: func(t *testing.T, _ *azFixture, who caller) reply {
				before = revision(t, tg.coll, tg.id)
				return call(t, who, "PUT", "/v2.0/"+tg.coll+"/"+tg.id, map[string]any{singular: tg.update})
			},
			check: func(t *testing.T, _ *azFixture, r reply) {
				if after := revision(t, tg.coll, tg.id); (after != before) != (r.status == 200) {
					t.Errorf("update %s %s answered %d; revision %d -> %d", singular, tg.id, r.status, before, after)
				}
			},
		})
	}
	// Agents: admins only; others list nothing (200 []) and find none.
	rows = append(rows, azRow{
		name: "list agents", list: true, project: "", want: exp(notListed, notListed, notListed, notListed, listed),
		do: func(t *testing.T, f *azFixture, who caller) reply {
			r := call(t, who, "GET", "/v2.0/agents", nil)
			if r.status != 200 {
				return r
			}
			l := r.list(t, "agents")
			if !who.admin && len(l) != 0 {
				return reply{status: listed}
			}
			if slices.ContainsFunc(l, func(o map[string]any) bool { return o["id"] == f.agent }) {
				return reply{status: listed}
			}
			return reply{status: notListed}
		},
	}, azRow{
		name: "show agent", project: "", notFound: "AgentNotFound", want: exp(404, 404, 404, 404, 200),
		do: func(t *testing.T, f *azFixture, who caller) reply {
			return call(t, who, "GET", "/v2.0/agents/"+f.agent, nil)
		},
	})
	rows = append(rows, azCreateRows(f)...)
	rows = append(rows, azRBACRows(f)...)
	return append(rows, azDeleteRows()...)
}

func azCreateRows(f *azFixture) []azRow {
	post := func(coll string, attrs func(f *azFixture) map[string]any) func(*testing.T, *azFixture, caller) reply {
		return func(t *testing.T, f *azFixture, who caller) reply {
			return call(t, who, "POST", "/v2.0/"+coll, map[string]any{coll[:len(coll)-1]: attrs(f)})
		}
	}
	subnetOn := func(net string) func(f *azFixture) map[string]any {
		return func(f *azFixture) map[string]any {
			return map[string]any{"network_id": net, "cidr": f.cidr(), "ip_version": 4}
		}
	}
	portOn := func(net string) func(f *azFixture) map[string]any {
		return func(*azFixture) map[string]any { return map[string]any{"network_id": net} }
	}
	// A subnet named in fixed_ips that the caller cannot see answers as
	// a missing one (no existence oracle); one it sees is invalid there.
	foreignSubnet := func(f *azFixture) map[string]any {
		return map[string]any{"network_id": f.snet, "fixed_ips": []map[string]any{{"subnet_id": f.osub}}}
	}
	rows := []azRow{
		{name: "create network", project: azSelf, want: exp(201, 403, 201, 201, 201),
			do: post("networks", func(*azFixture) map[string]any { return map[string]any{"name": "az-new"} })},
		{name: "create network in the owner's project", project: f.own, want: exp(201, 403, 400, 400, 201),
			do: post("networks", func(f *azFixture) map[string]any { return map[string]any{"project_id": f.own} })},
		{name: "create subnet on the private network", project: f.own, notFound: "NetworkNotFound", want: exp(201, 403, 404, 404, 201),
			do: post("subnets", subnetOn(f.onet))},
		{name: "create subnet on the shared network", project: f.netown, want: exp(403, 403, 403, 201, 201),
			do: post("subnets", subnetOn(f.snet))},
		{name: "create subnet on the external network", project: f.ext, want: exp(403, 403, 403, 403, 201),
			do: post("subnets", subnetOn(f.xnet))},
		{name: "create port on the private network", project: f.own, notFound: "NetworkNotFound", want: exp(201, 403, 404, 404, 201),
			do: post("ports", portOn(f.onet))},
		{name: "create port on the shared network", project: f.netown, want: exp(201, 403, 201, 201, 201),
			do: post("ports", portOn(f.snet))},
		{name: "create port on the external network", project: f.ext, want: exp(403, 403, 403, 403, 201),
			do: post("ports", portOn(f.xnet))},
		{name: "create port naming the owner's subnet", project: f.own, notFound: "SubnetNotFound", want: exp(400, 403, 404, 404, 400),
			do: post("ports", foreignSubnet)},
		{name: "create port naming a missing subnet", project: "", notFound: "SubnetNotFound", want: exp(404, 403, 404, 404, 404),
			do: post("ports", func(f *azFixture) map[string]any {
				return map[string]any{"network_id": f.snet, "fixed_ips": []map[string]any{{"subnet_id": uuid.NewString()}}}
			})},
	}
	// Whatever a cell created goes at once: the next cells must find the
	// networks as they were.
	for i := range rows {
		rows[i].check = func(t *testing.T, _ *azFixture, r reply) {
			if r.status != 201 {
				return
			}
			for _, singular := range []string{"network", "subnet", "port"} {
				if o, ok := r.body[singular].(map[string]any); ok {
					call(t, admin, "DELETE", "/v2.0/"+singular+"s/"+o["id"].(string), nil).want(t, 204)
				}
			}
		}
	}
	return rows
}

// azDeleteRows delete a fresh target in every cell and check that it is
// gone exactly when the answer says so.
func azDeleteRows() []azRow {
	type made struct{ coll, id string }
	var target made
	del := func(setup func(t *testing.T, f *azFixture) made) func(*testing.T, *azFixture, caller) reply {
		return func(t *testing.T, f *azFixture, who caller) reply {
			target = setup(t, f)
			return call(t, who, "DELETE", "/v2.0/"+target.coll+"/"+target.id, nil)
		}
	}
	check := func(t *testing.T, _ *azFixture, r reply) {
		gone := call(t, admin, "GET", "/v2.0/"+target.coll+"/"+target.id, nil).status == 404
		if gone != (r.status == 204) {
			t.Errorf("delete %s %s answered %d; gone: %v", target.coll, target.id, r.status, gone)
		}
	}
	network := func(project string, attrs map[string]any) func(*testing.T, *azFixture) made {
		return func(t *testing.T, f *azFixture) made {
			a := map[string]any{"project_id": map[string]string{"own": f.own, "netown": f.netown, "ext": f.ext}[project]}
			for k, v := range attrs {
				a[k] = v
			}
			return made{"networks", mkNetwork(t, admin, a)["id"].(string)}
		}
	}
	subnetOf := func(netSetup func(*testing.T, *azFixture) made, project string) func(*testing.T, *azFixture) made {
		return func(t *testing.T, f *azFixture) made {
			n := netSetup(t, f)
			p := map[string]string{"own": f.own, "netown": f.netown, "ext": f.ext}[project]
			return made{"subnets", mkSubnet(t, admin, n.id, "10.90.0.0/24", map[string]any{"project_id": p})["id"].(string)}
		}
	}
	shared := map[string]any{"shared": true}
	external := map[string]any{"router:external": true}
	return []azRow{
		{name: "delete private network", project: "authz-own", notFound: "NetworkNotFound", want: exp(204, 403, 404, 404, 204),
			do: del(network("own", nil)), check: check},
		{name: "delete shared network", project: "authz-netown", want: exp(403, 403, 403, 204, 204),
			do: del(network("netown", shared)), check: check},
		{name: "delete external network", project: "authz-ext", want: exp(403, 403, 403, 403, 204),
			do: del(network("ext", external)), check: check},
		{name: "delete subnet of a private network", project: "authz-own", notFound: "SubnetNotFound", want: exp(204, 403, 404, 404, 204),
			do: del(subnetOf(network("own", nil), "own")), check: check},
		{name: "delete subnet of a shared network", project: "authz-netown", want: exp(403, 403, 403, 204, 204),
			do: del(subnetOf(network("netown", shared), "netown")), check: check},
		{name: "delete subnet of an external network", project: "authz-ext", notFound: "SubnetNotFound", want: exp(404, 404, 404, 404, 204),
			do: del(subnetOf(network("ext", external), "ext")), check: check},
		{name: "delete port on the private network", project: "authz-own", notFound: "PortNotFound", want: exp(204, 403, 404, 404, 204),
			do: del(func(t *testing.T, f *azFixture) made {
				return made{"ports", mkPort(t, f.actors[azOwner], f.onet, nil)["id"].(string)}
			}), check: check},
		{name: "delete the owner's port on the shared network", project: "authz-own", notFound: "PortNotFound", want: exp(204, 403, 404, 204, 204),
			do: del(func(t *testing.T, f *azFixture) made {
				return made{"ports", mkPort(t, f.actors[azOwner], f.snet, nil)["id"].(string)}
			}), check: check},
	}
}

// revision is a resource's revision_number as the admin sees it.
func revision(t *testing.T, coll, id string) int64 {
	t.Helper()
	o := call(t, admin, "GET", "/v2.0/"+coll+"/"+id, nil).want(t, 200).obj(t, coll[:len(coll)-1])
	return int64(o["revision_number"].(float64))
}

// TestUnknownRoleGrantsNothing: only admin, member and reader mean
// anything; a caller with another role reads and writes nothing of its
// project (it still sees shared networks, as anyone does).
func TestUnknownRoleGrantsNothing(t *testing.T) {
	member, odd := caller{project: "authz-odd"}, caller{project: "authz-odd", roles: "observer"}
	t.Cleanup(func() { azCleanup(t, "authz-odd") })
	net := mkNetwork(t, member, map[string]any{"name": "odd"})["id"].(string)
	call(t, odd, "GET", "/v2.0/networks/"+net, nil).wantError(t, 404, "NetworkNotFound")
	call(t, odd, "PUT", "/v2.0/networks/"+net, map[string]any{"network": map[string]any{"name": "x"}}).wantError(t, 404, "NetworkNotFound")
	call(t, odd, "POST", "/v2.0/networks", map[string]any{"network": map[string]any{"name": "y"}}).wantError(t, 403, "PolicyNotAuthorized")
	for _, n := range call(t, odd, "GET", "/v2.0/networks", nil).want(t, 200).list(t, "networks") {
		if n["shared"] != true && n["router:external"] != true {
			t.Fatalf("a caller without a known role lists %v", n)
		}
	}
}

// TestPortUpdateNamingForeignSubnet: moving one's own port onto another
// project's subnet answers as a missing subnet, as on create.
func TestPortUpdateNamingForeignSubnet(t *testing.T) {
	a, b := caller{project: "authz-fa"}, caller{project: "authz-fb"}
	t.Cleanup(func() { azCleanup(t, "authz-fa", "authz-fb") })
	hidden := mkSubnet(t, a, mkNetwork(t, a, map[string]any{})["id"].(string), "10.74.0.0/24", nil)["id"].(string)
	shared := mkNetwork(t, admin, map[string]any{"shared": true, "project_id": "authz-fa"})["id"].(string)
	mkSubnet(t, a, shared, "10.75.0.0/24", nil)
	port := mkPort(t, b, shared, nil)["id"].(string)
	for _, subnet := range []string{hidden, uuid.NewString()} {
		r := call(t, b, "PUT", "/v2.0/ports/"+port, map[string]any{"port": map[string]any{"fixed_ips": []map[string]any{{"subnet_id": subnet}}}})
		r.wantError(t, 404, "SubnetNotFound")
	}
	// The owner of both sees the subnet: for it, it is on the wrong network.
	mine := mkPort(t, a, shared, nil)["id"].(string)
	call(t, a, "PUT", "/v2.0/ports/"+mine, map[string]any{"port": map[string]any{"fixed_ips": []map[string]any{{"subnet_id": hidden}}}}).
		wantError(t, 400, "InvalidInput")
}
