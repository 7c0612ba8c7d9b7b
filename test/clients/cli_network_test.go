package clients_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// cliNetwork is the part of `openstack network show -f json` we check.
type cliNetwork struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	ProjectID      string   `json:"project_id"`
	Status         string   `json:"status"`
	MTU            int      `json:"mtu"`
	Subnets        []string `json:"subnets"`
	NetworkType    string   `json:"provider:network_type"`
	SegmentationID *int     `json:"provider:segmentation_id"`
}

type cliSubnet struct {
	ID        string `json:"id"`
	NetworkID string `json:"network_id"`
	CIDR      string `json:"cidr"`
	GatewayIP string `json:"gateway_ip"`
	IPVersion int    `json:"ip_version"`
	ProjectID string `json:"project_id"`
}

type cliPort struct {
	ID         string `json:"id"`
	NetworkID  string `json:"network_id"`
	MACAddress string `json:"mac_address"`
	FixedIPs   []struct {
		SubnetID  string `json:"subnet_id"`
		IPAddress string `json:"ip_address"`
	} `json:"fixed_ips"`
}

// cliListItem is one row of `openstack network/subnet/port list -f json`.
type cliListItem struct {
	ID   string `json:"ID"`
	Name string `json:"Name"`
}

func listNames(items []cliListItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

// TestCLIPasswordLifecycle drives network, subnet and port create, list,
// show and delete as the admin with password auth, checking what the server
// really allocated.
func TestCLIPasswordLifecycle(t *testing.T) {
	t.Parallel()
	env := sharedEnv(t)
	cli := passwordCLI(env.keystone.url, "admin", adminPassword, "admin")
	name := prefix + "-net"

	var net cliNetwork
	cli.json(t, &net, "network", "create", name)
	if net.ID == "" || net.Name != name || net.ProjectID != env.keystone.adminProjectID {
		t.Fatalf("network create = %+v, want name %s in project %s", net, name, env.keystone.adminProjectID)
	}

	var sub cliSubnet
	cli.json(t, &sub, "subnet", "create", prefix+"-sub", "--network", name, "--subnet-range", "10.1.0.0/24")
	if sub.NetworkID != net.ID || sub.CIDR != "10.1.0.0/24" || sub.GatewayIP != "10.1.0.1" || sub.IPVersion != 4 {
		t.Fatalf("subnet create = %+v", sub)
	}

	var port cliPort
	cli.json(t, &port, "port", "create", prefix+"-port", "--network", name)
	if port.NetworkID != net.ID || !strings.HasPrefix(port.MACAddress, "fa:16:3e:") || len(port.FixedIPs) != 1 {
		t.Fatalf("port create = %+v, want one fixed IP and a fa:16:3e MAC", port)
	}
	ip, err := netip.ParseAddr(port.FixedIPs[0].IPAddress)
	if err != nil || !netip.MustParsePrefix("10.1.0.0/24").Contains(ip) || ip == netip.MustParseAddr("10.1.0.1") ||
		port.FixedIPs[0].SubnetID != sub.ID {
		t.Fatalf("port fixed IP %+v not a free address of subnet %s", port.FixedIPs, sub.ID)
	}

	var shown cliNetwork
	cli.json(t, &shown, "network", "show", name) // by name: GET /networks/NAME 404, then ?name=
	if shown.ID != net.ID || !slices.Contains(shown.Subnets, sub.ID) {
		t.Fatalf("network show = %+v, want id %s with subnet %s", shown, net.ID, sub.ID)
	}
	var nets []cliListItem
	cli.json(t, &nets, "network", "list")
	if !slices.Contains(listNames(nets), name) {
		t.Fatalf("network list %v lacks %s", listNames(nets), name)
	}

	cli.ok(t, "port", "delete", port.ID)
	cli.ok(t, "subnet", "delete", sub.ID)
	cli.ok(t, "network", "delete", name)
	if msg := cli.fails(t, "network", "show", net.ID); !strings.Contains(strings.ToLower(msg), "no network found") &&
		!strings.Contains(strings.ToLower(msg), "not found") {
		t.Fatalf("network show after delete: %s", msg)
	}
}

// TestCLIProviderAndProjects: the seed 001 command with a provider segment
// (admin only), and an admin creating a network for another project by name.
func TestCLIProviderAndProjects(t *testing.T) {
	t.Parallel()
	env := sharedEnv(t)
	cli := passwordCLI(env.keystone.url, "admin", adminPassword, "admin")

	var vx cliNetwork
	cli.json(t, &vx, "network", "create", prefix+"-vxlan", "--provider-network-type", "vxlan", "--provider-segment", "111")
	if vx.NetworkType != "vxlan" || vx.SegmentationID == nil || *vx.SegmentationID != 111 {
		t.Fatalf("vxlan network = %+v, want vxlan segment 111", vx)
	}

	var other cliNetwork
	cli.json(t, &other, "network", "create", prefix+"-demo", "--project", demoProject)
	if other.ProjectID != env.keystone.projectIDs[demoProject] {
		t.Fatalf("network for project %s has project_id %s, want %s", demoProject, other.ProjectID, env.keystone.projectIDs[demoProject])
	}
}

// TestCLIMemberIsolation: a member sees only its own project's networks and
// cannot read another project's network.
func TestCLIMemberIsolation(t *testing.T) {
	t.Parallel()
	env := sharedEnv(t)
	admin := passwordCLI(env.keystone.url, "admin", adminPassword, "admin")
	member := passwordCLI(env.keystone.url, memberUser, memberPassword, memberProject)

	var adminNet, own cliNetwork
	admin.json(t, &adminNet, "network", "create", prefix+"-adminonly")
	member.json(t, &own, "network", "create", prefix+"-mine")
	if own.ProjectID != env.keystone.projectIDs[memberProject] {
		t.Fatalf("member's network project_id = %s, want %s", own.ProjectID, env.keystone.projectIDs[memberProject])
	}
	var nets []cliListItem
	member.json(t, &nets, "network", "list")
	if got := listNames(nets); !slices.Contains(got, own.Name) || slices.Contains(got, adminNet.Name) {
		t.Fatalf("member lists %v: want its %s and not admin's %s", got, own.Name, adminNet.Name)
	}
	member.fails(t, "network", "show", adminNet.ID)
	// A wrong password is refused by the identity API.
	if msg := passwordCLI(env.keystone.url, memberUser, "wrong", memberProject).fails(t, "network", "list"); !strings.Contains(msg, "401") {
		t.Fatalf("wrong password: %s", msg)
	}
}

// TestCLINoAuth: `--os-auth-type none` against a noauth server acts as the
// admin project (no project header is sent).
func TestCLINoAuth(t *testing.T) {
	t.Parallel()
	env := sharedEnv(t)
	cli := noauthCLI(env.noauth.url)
	var net cliNetwork
	cli.json(t, &net, "network", "create", prefix+"-noauth")
	if net.ID == "" || net.ProjectID != env.noauth.adminProjectID {
		t.Fatalf("noauth network = %+v, want project %s", net, env.noauth.adminProjectID)
	}
	var nets []cliListItem
	cli.json(t, &nets, "network", "list")
	if !slices.Contains(listNames(nets), net.Name) {
		t.Fatalf("noauth list %v lacks %s", listNames(nets), net.Name)
	}
	// The keystone-mode server refuses the same call without a token.
	if msg := noauthCLI(env.keystone.url).fails(t, "network", "list"); !strings.Contains(msg, "401") &&
		!strings.Contains(strings.ToLower(msg), "authentication") {
		t.Fatalf("keystone server without token: %s", msg)
	}
}

// TestCLITokenRescope: `token issue` with a password, then the token alone
// (auth type token) re-scoped to another project by id.
func TestCLITokenRescope(t *testing.T) {
	t.Parallel()
	env := sharedEnv(t)
	var tok struct {
		ID        string `json:"id"`
		ProjectID string `json:"project_id"`
	}
	passwordCLI(env.keystone.url, "admin", adminPassword, "admin").json(t, &tok, "token", "issue")
	if tok.ID == "" || tok.ProjectID != env.keystone.adminProjectID {
		t.Fatalf("token issue = %+v", tok)
	}
	demoID := env.keystone.projectIDs[demoProject]
	cli := osc{global: []string{"--os-auth-type", "token", "--os-auth-url", env.keystone.url + "/v3",
		"--os-identity-api-version", "3", "--os-token", tok.ID, "--os-project-id", demoID}}
	var net cliNetwork
	cli.json(t, &net, "network", "create", prefix+"-rescoped")
	if net.ProjectID != demoID {
		t.Fatalf("network made with a re-scoped token has project %s, want %s", net.ProjectID, demoID)
	}
}
