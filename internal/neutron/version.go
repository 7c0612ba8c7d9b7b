package neutron

import (
	"net/http"
	"sort"
)

// handleVersions is GET /: the version document clients read before
// anything else (they need status and the self link).
func handleVersions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"versions": []any{map[string]any{
		"id": "v2.0", "status": "CURRENT",
		"links": []link{{Rel: "self", Href: baseURL(r) + "/v2.0/"}},
	}}})
}

// handleV2 is GET /v2.0: the core resources.
func handleV2(w http.ResponseWriter, r *http.Request) {
	var res []any
	for _, c := range [][2]string{{"network", "networks"}, {"subnet", "subnets"}, {"port", "ports"}} {
		res = append(res, map[string]any{"name": c[0], "collection": c[1],
			"links": []link{{Rel: "self", Href: baseURL(r) + "/v2.0/" + c[1]}}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"resources": res})
}

// extension is one entry of /v2.0/extensions.
type extension struct {
	Alias       string `json:"alias"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Updated     string `json:"updated"`
	Links       []link `json:"links"`
}

// extensions lists exactly what vland implements: clients skip features
// whose alias is absent, so nothing is listed that does not work.
var extensions = func() map[string]extension {
	list := []extension{
		{"address-scope", "Address scope", "Address scopes extension.", "2015-07-26T10:00:00-00:00", nil},
		{"agent", "agent", "The agent management extension.", "2013-02-03T10:00:00-00:00", nil},
		{"allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs", "2013-07-23T10:00:00-00:00", nil},
		{"binding", "Port Binding", "Expose port bindings of a virtual port to external application", "2014-02-03T10:00:00-00:00", nil},
		{"default-subnetpools", "Default Subnetpools", "Provides ability to mark and use a subnetpool as the default.", "2016-02-18T18:00:00-00:00", nil},
		{"dhcp_agent_scheduler", "DHCP Agent Scheduler", "Schedule networks among dhcp agents", "2013-02-07T10:00:00-00:00", nil},
		{"l3_agent_scheduler", "L3 Agent Scheduler", "Schedule routers among l3 agents", "2013-02-07T10:00:00-00:00", nil},
		{"dns-integration", "DNS Integration", "Provides integration with DNS.", "2015-08-15T18:00:00-00:00", nil},
		{"extra_dhcp_opt", "Neutron Extra DHCP options", "Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)", "2013-03-17T12:00:00-08:00", nil},
		{"external-net", "Neutron external network", "Adds external network attribute to network resource.", "2013-01-14T10:00:00-00:00", nil},
		{"filter-validation", "Filter parameters validation", "Provides validation on filter parameters.", "2018-03-21T10:00:00-00:00", nil},
		{"net-mtu", "Network MTU", "Provides MTU attribute for a network resource.", "2015-03-25T10:00:00-00:00", nil},
		{"net-mtu-writable", "Network MTU (writable)", "Provides a writable MTU attribute for a network resource.", "2017-07-12T00:00:00-00:00", nil},
		{"network-ip-availability", "Network IP Availability", "Provides IP availability data for each network and subnet.", "2015-09-24T00:00:00-00:00", nil},
		{"pagination", "Pagination support", "Extension that indicates that pagination is enabled.", "2016-06-12T00:00:00-00:00", nil},
		{"port-security", "Port Security", "Provides port security", "2012-07-23T10:00:00-00:00", nil},
		{"project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled.", "2016-09-09T09:09:09-09:09", nil},
		{"provider", "Provider Network", "Expose mapping of virtual networks to physical networks", "2012-09-07T10:00:00-00:00", nil},
		{"rbac-policies", "RBAC Policies", "Allows creation and modification of policies that control tenant access to resources.", "2015-06-17T12:15:12-00:00", nil},
		{"quotas", "Quota management support", "Expose functions for quotas management per project", "2012-07-29T10:00:00-00:00", nil},
		{"quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project", "2017-02-10T10:00:00-00:00", nil},
		{"revision-if-match", "If-Match constraints based on revision_number", "Extension indicating that If-Match based on revision_number is supported.", "2016-12-11T00:00:00-00:00", nil},
		{"security-group", "security-group", "The security groups extension.", "2012-10-05T10:00:00-00:00", nil},
		{"stateful-security-group", "Stateful security group", "Indicates if the security group is stateful or not", "2019-11-26T09:00:00-00:00", nil},
		{"sorting", "Sorting support", "Extension that indicates that sorting is enabled.", "2016-06-12T00:00:00-00:00", nil},
		{"standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes", "2016-02-10T10:00:00-00:00", nil},
		{"standard-attr-revisions", "Resource revision numbers", "This extension will display the revision number of neutron resources.", "2016-04-11T10:00:00-00:00", nil},
		{"standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.", "2016-09-12T10:00:00-00:00", nil},
		{"subnet_allocation", "Subnet Allocation", "Enables allocation of subnets from a subnet pool", "2015-03-30T10:00:00-00:00", nil},
		{"subnetpool-prefix-ops", "Subnet Pool Prefix Operations", "Provides support for adjusting the prefix list of subnet pools", "2019-09-11T18:00:00-00:00", nil},
		// Tags on networks, subnets and ports. "tag" is the old networks-only
		// alias; "tag-ext" (subnets, ports, routers, subnetpools) is listed
		// with the L3 API (l3.go), which makes routers taggable.
		{"standard-attr-tag", "Tag support for resources with standard attribute: network, subnet, port", "Enables to set tag on resources with standard attribute.", "2017-01-01T00:00:00-00:00", nil},
		{"tag", "Tag support", "Enables to set tag on resources.", "2016-01-01T00:00:00-00:00", nil},
		{"tag-creation", "Tag creation extension", "Allow to set tags on resource creation.", "2024-01-31T18:00:00-00:00", nil},
		{"tag-ports-during-bulk-creation", "Tag Ports During Bulk Creation", "Allow to tag ports during bulk creation", "2019-12-29T19:00:00-00:00", nil},
	}
	m := map[string]extension{}
	for _, e := range list {
		e.Links = []link{}
		m[e.Alias] = e
	}
	return m
}()

func handleExtensions(w http.ResponseWriter, r *http.Request) {
	out := make([]extension, 0, len(extensions))
	for _, e := range extensions {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Alias < out[j].Alias })
	writeJSON(w, http.StatusOK, map[string]any{"extensions": out})
}

func handleExtension(w http.ResponseWriter, r *http.Request) {
	alias := r.PathValue("alias")
	e, ok := extensions[alias]
	if !ok {
		writeError(w, r, transportErr(errExtensionNotFound, "Extension with alias "+alias+" does not exist"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"extension": e})
}
