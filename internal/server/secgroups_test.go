package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func mkGroup(t *testing.T, who caller, name string) map[string]any {
	t.Helper()
	return call(t, who, "POST", "/v2.0/security-groups", map[string]any{"security_group": map[string]any{"name": name}}).want(t, 201).obj(t, "security_group")
}

func mkRule(who caller, t *testing.T, attrs map[string]any) reply {
	t.Helper()
	return call(t, who, "POST", "/v2.0/security-group-rules", map[string]any{"security_group_rule": attrs})
}

// defaultGroup lists the caller's groups (which creates the default one)
// and returns the default group.
func defaultGroup(t *testing.T, who caller) map[string]any {
	t.Helper()
	for _, g := range call(t, who, "GET", "/v2.0/security-groups", nil).want(t, 200).list(t, "security_groups") {
		if g["name"] == "default" && g["project_id"] == who.project {
			return g
		}
	}
	t.Fatalf("project %s has no default group", who.project)
	return nil
}

func ruleShapes(g map[string]any) []string {
	var out []string
	for _, r := range g["security_group_rules"].([]any) {
		m := r.(map[string]any)
		out = append(out, fmt.Sprintf("%v/%v/%v/%v", m["direction"], m["ethertype"], m["protocol"], m["remote_group_id"] != nil))
	}
	slices.Sort(out)
	return out
}

func TestSecGroupDefault(t *testing.T) {
	p := member("sg-default")
	g := defaultGroup(t, p)
	want := []string{"egress/IPv4/<nil>/false", "egress/IPv6/<nil>/false", "ingress/IPv4/<nil>/true", "ingress/IPv6/<nil>/true"}
	if got := ruleShapes(g); !slices.Equal(got, want) {
		t.Fatalf("default rules %v, want %v", got, want)
	}
	for _, r := range g["security_group_rules"].([]any) {
		if rg := r.(map[string]any)["remote_group_id"]; rg != nil && rg != g["id"] {
			t.Fatalf("default ingress rule names %v, not its own group %v", rg, g["id"])
		}
	}
	// Listing again does not create a second one.
	n := 0
	for _, g := range call(t, p, "GET", "/v2.0/security-groups", nil).want(t, 200).list(t, "security_groups") {
		if g["name"] == "default" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d default groups", n)
	}
	id := g["id"].(string)
	call(t, p, "PUT", "/v2.0/security-groups/"+id, map[string]any{"security_group": map[string]any{"name": "other"}}).wantError(t, 409, "SecurityGroupCannotUpdateDefault")
	call(t, p, "DELETE", "/v2.0/security-groups/"+id, nil).wantError(t, 409, "SecurityGroupCannotRemoveDefault")
	call(t, p, "POST", "/v2.0/security-groups", map[string]any{"security_group": map[string]any{"name": "default"}}).wantError(t, 409, "SecurityGroupDefaultAlreadyExists")
	other := mkGroup(t, p, "web")
	call(t, p, "PUT", "/v2.0/security-groups/"+other["id"].(string), map[string]any{"security_group": map[string]any{"name": "default"}}).wantError(t, 409, "SecurityGroupDefaultAlreadyExists")
	// A new group starts with the two egress rules.
	if got := ruleShapes(other); !slices.Equal(got, want[:2]) {
		t.Fatalf("new group rules %v, want %v", got, want[:2])
	}
	// The description can change on the default group.
	call(t, p, "PUT", "/v2.0/security-groups/"+id, map[string]any{"security_group": map[string]any{"description": "mine"}}).want(t, 200)
}

func TestSecGroupCRUD(t *testing.T) {
	p := member("sg-crud")
	g := mkGroup(t, p, "web")
	id := g["id"].(string)
	if g["stateful"] != true || g["revision_number"] != float64(1) || g["project_id"] != "sg-crud" {
		t.Fatalf("new group %v", g)
	}
	u := call(t, p, "PUT", "/v2.0/security-groups/"+id, map[string]any{"security_group": map[string]any{"name": "web2", "description": "d", "stateful": false}}).want(t, 200).obj(t, "security_group")
	if u["name"] != "web2" || u["description"] != "d" || u["stateful"] != false || u["revision_number"] != float64(2) {
		t.Fatalf("updated group %v", u)
	}
	r := mkRule(p, t, map[string]any{"security_group_id": id, "direction": "ingress", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80, "remote_ip_prefix": "10.1.2.3/16"}).want(t, 201).obj(t, "security_group_rule")
	if r["remote_ip_prefix"] != "10.1.0.0/16" || r["ethertype"] != "IPv4" || r["protocol"] != "tcp" || r["security_group_id"] != id {
		t.Fatalf("rule %v", r)
	}
	rid := r["id"].(string)
	got := call(t, p, "GET", "/v2.0/security-group-rules/"+rid, nil).want(t, 200).obj(t, "security_group_rule")
	if got["port_range_min"] != float64(80) {
		t.Fatalf("shown rule %v", got)
	}
	sg := call(t, p, "GET", "/v2.0/security-groups/"+id, nil).want(t, 200).obj(t, "security_group")
	if len(sg["security_group_rules"].([]any)) != 3 || sg["revision_number"] != float64(3) {
		t.Fatalf("group after rule create %v", sg)
	}
	// Protocol by number, and filters on the rule list.
	mkRule(p, t, map[string]any{"security_group_id": id, "direction": "egress", "protocol": 17, "ethertype": "IPv6"}).want(t, 201)
	l := call(t, p, "GET", "/v2.0/security-group-rules?security_group_id="+id+"&direction=ingress", nil).want(t, 200).list(t, "security_group_rules")
	if len(l) != 1 || l[0]["id"] != rid {
		t.Fatalf("filtered rules %v", l)
	}
	call(t, p, "PUT", "/v2.0/security-group-rules/"+rid, map[string]any{"security_group_rule": map[string]any{"direction": "egress"}}).wantError(t, 400, "")
	call(t, p, "DELETE", "/v2.0/security-group-rules/"+rid, nil).want(t, 204)
	call(t, p, "GET", "/v2.0/security-group-rules/"+rid, nil).wantError(t, 404, "SecurityGroupRuleNotFound")
	call(t, p, "DELETE", "/v2.0/security-groups/"+id, nil).want(t, 204)
	call(t, p, "GET", "/v2.0/security-groups/"+id, nil).wantError(t, 404, "SecurityGroupNotFound")
	call(t, p, "DELETE", "/v2.0/security-groups/"+id, nil).wantError(t, 404, "SecurityGroupNotFound")
	// Tags.
	g2 := mkGroup(t, p, "tagged")
	call(t, p, "PUT", "/v2.0/security-groups/"+g2["id"].(string)+"/tags/blue", nil).want(t, 201)
	tg := call(t, p, "GET", "/v2.0/security-groups?tags=blue", nil).want(t, 200).list(t, "security_groups")
	if len(tg) != 1 || tg[0]["id"] != g2["id"] {
		t.Fatalf("tag filter %v", tg)
	}
}

func TestSecGroupRuleErrors(t *testing.T) {
	p := member("sg-rule-errors")
	id := mkGroup(t, p, "g")["id"].(string)
	base := func(extra map[string]any) map[string]any {
		m := map[string]any{"security_group_id": id, "direction": "ingress"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		attrs  map[string]any
		status int
		typ    string
		msg    string
	}{
		{map[string]any{"protocol": "bad"}, 400, "SecurityGroupRuleInvalidProtocol", "not supported"},
		{map[string]any{"protocol": 256}, 400, "SecurityGroupRuleInvalidProtocol", ""},
		{map[string]any{"ethertype": "IPv5"}, 400, "SecurityGroupRuleInvalidEtherType", ""},
		{map[string]any{"direction": "sideways"}, 400, "HTTPBadRequest", ""},
		{map[string]any{"remote_ip_prefix": "10.0.0.0/33"}, 400, "HTTPBadRequest", "not a valid IP subnet"},
		{map[string]any{"remote_ip_prefix": "fd00::/64"}, 400, "SecurityGroupRuleParameterConflict", "Conflicting value ethertype"},
		{map[string]any{"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": id}, 400, "SecurityGroupRemoteGroupAndRemoteIpPrefix", ""},
		{map[string]any{"protocol": "tcp", "port_range_min": -16, "port_range_max": 80}, 400, "SecurityGroupInvalidPortValue", "Invalid value for port -16"},
		{map[string]any{"protocol": "tcp", "port_range_min": 80, "port_range_max": 79}, 400, "SecurityGroupInvalidPortRange", "port_range_min must be <= port_range_max"},
		{map[string]any{"protocol": "tcp", "port_range_min": 80, "port_range_max": 65536}, 400, "SecurityGroupInvalidPortValue", "Invalid value for port 65536"},
		{map[string]any{"protocol": "tcp", "port_range_min": nil, "port_range_max": 6}, 400, "SecurityGroupInvalidPortRange", "port_range_min must be <= port_range_max"},
		{map[string]any{"protocol": "icmp", "port_range_min": 1, "port_range_max": 256}, 400, "SecurityGroupInvalidIcmpValue", "Invalid value for ICMP code"},
		{map[string]any{"protocol": "icmp", "port_range_min": 300, "port_range_max": 1}, 400, "SecurityGroupInvalidIcmpValue", "Invalid value for ICMP type"},
		{map[string]any{"protocol": "icmp", "port_range_max": 6}, 400, "SecurityGroupMissingIcmpType", "ICMP type (port-range-min) is missing"},
		{map[string]any{"port_range_min": 1, "port_range_max": 2}, 400, "SecurityGroupProtocolRequiredWithPorts", ""},
		{map[string]any{"protocol": "ipv6-icmp"}, 400, "SecurityGroupEthertypeConflictWithProtocol", ""},
		{map[string]any{"remote_group_id": "00000000-0000-0000-0000-000000000001"}, 404, "SecurityGroupNotFound", ""},
		{map[string]any{"security_group_id": "00000000-0000-0000-0000-000000000001"}, 404, "SecurityGroupNotFound", ""},
	} {
		r := mkRule(p, t, base(tc.attrs))
		r.wantError(t, tc.status, tc.typ)
		if msg, _ := r.body["NeutronError"].(map[string]any)["message"].(string); !strings.Contains(msg, tc.msg) {
			t.Errorf("%v: message %s lacks %q", tc.attrs, r.raw, tc.msg)
		}
	}
	ok := base(map[string]any{"protocol": "tcp", "port_range_min": 66, "port_range_max": 67})
	first := mkRule(p, t, ok).want(t, 201).obj(t, "security_group_rule")
	dup := mkRule(p, t, ok)
	dup.wantError(t, 409, "SecurityGroupRuleExists")
	if !strings.Contains(string(dup.raw), first["id"].(string)) {
		t.Fatalf("duplicate error does not name the rule: %s", dup.raw)
	}
	// The same rule with the protocol as a number is a duplicate too.
	mkRule(p, t, base(map[string]any{"protocol": "6", "port_range_min": 66, "port_range_max": 67})).wantError(t, 409, "SecurityGroupRuleExists")
	// A bulk create with one bad rule creates none.
	before := len(call(t, p, "GET", "/v2.0/security-group-rules?security_group_id="+id, nil).want(t, 200).list(t, "security_group_rules"))
	call(t, p, "POST", "/v2.0/security-group-rules", map[string]any{"security_group_rules": []any{
		base(map[string]any{"protocol": "udp", "port_range_min": 53, "port_range_max": 53}), ok}}).wantError(t, 409, "SecurityGroupRuleExists")
	after := len(call(t, p, "GET", "/v2.0/security-group-rules?security_group_id="+id, nil).want(t, 200).list(t, "security_group_rules"))
	if before != after {
		t.Fatalf("failed bulk left rules: %d -> %d", before, after)
	}
}

func TestSecGroupProjects(t *testing.T) {
	a, b := member("sg-proj-a"), member("sg-proj-b")
	ga := mkGroup(t, a, "a")["id"].(string)
	gb := mkGroup(t, b, "b")["id"].(string)
	call(t, b, "GET", "/v2.0/security-groups/"+ga, nil).wantError(t, 404, "SecurityGroupNotFound")
	call(t, b, "PUT", "/v2.0/security-groups/"+ga, map[string]any{"security_group": map[string]any{"name": "x"}}).wantError(t, 404, "SecurityGroupNotFound")
	call(t, b, "DELETE", "/v2.0/security-groups/"+ga, nil).wantError(t, 404, "SecurityGroupNotFound")
	mkRule(b, t, map[string]any{"security_group_id": ga, "direction": "ingress"}).wantError(t, 404, "SecurityGroupNotFound")
	// A rule naming another project's group as remote: not found.
	mkRule(b, t, map[string]any{"security_group_id": gb, "direction": "ingress", "remote_group_id": ga}).wantError(t, 404, "SecurityGroupNotFound")
	for _, g := range call(t, b, "GET", "/v2.0/security-groups", nil).want(t, 200).list(t, "security_groups") {
		if g["project_id"] != "sg-proj-b" {
			t.Fatalf("b sees %v", g)
		}
	}
	for _, r := range call(t, b, "GET", "/v2.0/security-group-rules", nil).want(t, 200).list(t, "security_group_rules") {
		if r["project_id"] != "sg-proj-b" {
			t.Fatalf("b sees rule %v", r)
		}
	}
	// A reader reads but does not write.
	reader := caller{project: "sg-proj-a", roles: "reader"}
	call(t, reader, "GET", "/v2.0/security-groups/"+ga, nil).want(t, 200)
	call(t, reader, "DELETE", "/v2.0/security-groups/"+ga, nil).wantError(t, 403, "PolicyNotAuthorized")
	// Admins see every project's.
	call(t, admin, "GET", "/v2.0/security-groups/"+ga, nil).want(t, 200)
}

func TestSecGroupPorts(t *testing.T) {
	p := member("sg-ports")
	net := mkNetwork(t, p, map[string]any{"name": "n"})["id"].(string)
	mkSubnet(t, p, net, "10.77.0.0/24", nil)
	def := defaultGroup(t, p)["id"].(string)
	port := mkPort(t, p, net, nil)
	if sgs := port["security_groups"].([]any); len(sgs) != 1 || sgs[0] != def {
		t.Fatalf("new port groups %v, want [%s]", sgs, def)
	}
	web := mkGroup(t, p, "web")["id"].(string)
	explicit := mkPort(t, p, net, map[string]any{"security_groups": []string{web}})
	if sgs := explicit["security_groups"].([]any); len(sgs) != 1 || sgs[0] != web {
		t.Fatalf("port groups %v, want [%s]", sgs, web)
	}
	none := mkPort(t, p, net, map[string]any{"security_groups": []string{}})
	if sgs := none["security_groups"].([]any); len(sgs) != 0 {
		t.Fatalf("port groups %v, want none", sgs)
	}
	// Unknown and other projects' groups are not found.
	other := mkGroup(t, member("sg-ports-other"), "o")["id"].(string)
	for _, bad := range []string{"00000000-0000-0000-0000-000000000002", other} {
		call(t, p, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net, "security_groups": []string{bad}}}).wantError(t, 404, "SecurityGroupNotFound")
		call(t, p, "PUT", "/v2.0/ports/"+port["id"].(string), map[string]any{"port": map[string]any{"security_groups": []string{bad}}}).wantError(t, 404, "SecurityGroupNotFound")
	}
	// Port security off: no groups.
	call(t, p, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net, "port_security_enabled": false, "security_groups": []string{web}}}).wantError(t, 400, "PortSecurityAndIPRequiredForSecurityGroups")
	off := mkPort(t, p, net, map[string]any{"port_security_enabled": false})
	if sgs := off["security_groups"].([]any); len(sgs) != 0 {
		t.Fatalf("port without port security has groups %v", sgs)
	}
	call(t, p, "PUT", "/v2.0/ports/"+port["id"].(string), map[string]any{"port": map[string]any{"port_security_enabled": false}}).wantError(t, 409, "PortSecurityPortHasSecurityGroup")
	call(t, p, "PUT", "/v2.0/ports/"+port["id"].(string), map[string]any{"port": map[string]any{"port_security_enabled": false, "security_groups": []string{}}}).want(t, 200)
	// A group in use cannot be deleted; once the port leaves it, it can.
	call(t, p, "DELETE", "/v2.0/security-groups/"+web, nil).wantError(t, 409, "SecurityGroupInUse")
	call(t, p, "PUT", "/v2.0/security-groups/"+web, map[string]any{"security_group": map[string]any{"stateful": false}}).wantError(t, 409, "SecurityGroupInUse")
	u := call(t, p, "PUT", "/v2.0/ports/"+explicit["id"].(string), map[string]any{"port": map[string]any{"security_groups": []string{def, web}}}).want(t, 200).obj(t, "port")
	if len(u["security_groups"].([]any)) != 2 {
		t.Fatalf("updated groups %v", u["security_groups"])
	}
	call(t, p, "PUT", "/v2.0/ports/"+explicit["id"].(string), map[string]any{"port": map[string]any{"security_groups": []string{def}}}).want(t, 200)
	call(t, p, "DELETE", "/v2.0/security-groups/"+web, nil).want(t, 204)
	// Deleting the port frees the default group of its index key.
	call(t, p, "DELETE", "/v2.0/ports/"+explicit["id"].(string), nil).want(t, 204)
	for k := range snapshot(t) {
		if strings.Contains(k, "secgroup-ports/"+def+"/"+explicit["id"].(string)) {
			t.Fatalf("index key %s left after port delete", k)
		}
	}
}

func TestSecGroupQuota(t *testing.T) {
	p := member("sg-quota")
	call(t, admin, "PUT", "/v2.0/quotas/sg-quota", map[string]any{"quota": map[string]any{"security_group": 2, "security_group_rule": 7}}).want(t, 200)
	defaultGroup(t, p)                       // the default group and its 4 rules count
	g := mkGroup(t, p, "one")["id"].(string) // 2 groups, 6 rules
	call(t, p, "POST", "/v2.0/security-groups", map[string]any{"security_group": map[string]any{"name": "two"}}).wantError(t, 409, "OverQuota")
	mkRule(p, t, map[string]any{"security_group_id": g, "direction": "ingress", "protocol": "tcp"}).want(t, 201)
	mkRule(p, t, map[string]any{"security_group_id": g, "direction": "ingress", "protocol": "udp"}).wantError(t, 409, "OverQuota")
	d := call(t, p, "GET", "/v2.0/quotas/sg-quota/details", nil).want(t, 200).obj(t, "quota")
	sg := d["security_group"].(map[string]any)
	rules := d["security_group_rule"].(map[string]any)
	if sg["used"] != float64(2) || sg["limit"] != float64(2) || rules["used"] != float64(7) {
		t.Fatalf("quota details %v", d)
	}
}
