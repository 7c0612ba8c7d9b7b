package clients_test

import (
	"slices"
	"strings"
	"testing"
)

// tagged is the part of a `show -f json` we check for tags.
type tagged struct {
	ID   string   `json:"id"`
	Tags []string `json:"tags"`
}

func sortedTags(v tagged) []string {
	out := slices.Clone(v.Tags)
	slices.Sort(out)
	return out
}

// TestCLITags drives the openstack client's tag options: --tag on create
// (in the POST body for ports, through tag-ports-during-bulk-creation),
// set --tag, unset --tag and the four list filters.
func TestCLITags(t *testing.T) {
	t.Parallel()
	env := sharedEnv(t)
	cli := noauthCLI(env.noauth.url)
	n1, n2 := prefix+"-tag1", prefix+"-tag2"

	var net tagged
	cli.json(t, &net, "network", "create", n1, "--tag", "red", "--tag", "blue")
	if got := sortedTags(net); !slices.Equal(got, []string{"blue", "red"}) {
		t.Fatalf("network create --tag: tags %v", got)
	}
	cli.ok(t, "network", "create", n2, "--tag", "red")
	cli.ok(t, "network", "set", n2, "--tag", "green")
	cli.ok(t, "network", "unset", n1, "--tag", "blue")

	mine := func(args ...string) []string {
		var items []cliListItem
		cli.json(t, &items, append([]string{"network", "list"}, args...)...)
		var out []string
		for _, n := range listNames(items) {
			if strings.HasPrefix(n, prefix+"-tag") {
				out = append(out, n)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--tags", "red,green"}, []string{n2}},
		{[]string{"--any-tags", "green,blue"}, []string{n2}},
		{[]string{"--not-tags", "red,green"}, []string{n1}},
		{[]string{"--not-any-tags", "red"}, nil},
	} {
		if got := mine(tc.args...); !slices.Equal(got, tc.want) {
			t.Errorf("network list %v: %v, want %v", tc.args, got, tc.want)
		}
	}

	var port tagged
	cli.json(t, &port, "port", "create", prefix+"-tagport", "--network", n1, "--tag", "pt")
	if got := sortedTags(port); !slices.Equal(got, []string{"pt"}) {
		t.Fatalf("port create --tag: tags %v", got)
	}
	var sub tagged
	cli.json(t, &sub, "subnet", "create", prefix+"-tagsub", "--network", n1, "--subnet-range", "10.66.0.0/24", "--tag", "st")
	if got := sortedTags(sub); !slices.Equal(got, []string{"st"}) {
		t.Fatalf("subnet create --tag: tags %v", got)
	}
}
