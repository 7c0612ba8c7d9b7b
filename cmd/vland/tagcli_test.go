package main

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tagsOf shows a resource and returns its tags, sorted.
func (c cli) tagsOf(kind, ref string) []string {
	c.t.Helper()
	var o struct {
		Tags []string `json:"tags"`
	}
	c.json(&o, kind, "show", ref)
	sort.Strings(o.Tags)
	return o.Tags
}

// listNames lists a kind with extra options and returns the names, sorted.
func (c cli) listNames(kind string, args ...string) []string {
	c.t.Helper()
	var items []struct {
		Name string `json:"name"`
	}
	c.json(&items, append([]string{kind, "list", "--long"}, args...)...)
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	sort.Strings(out)
	return out
}

// TestCLITags: --tag/--no-tag on create and set, unset --tag/--all-tag,
// and the four list filters, on networks, subnets and ports.
func TestCLITags(t *testing.T) {
	c := cli{t: t, url: startAPI(t)}

	c.ok("network", "create", "red", "--tag", "red")
	c.ok("network", "create", "rb", "--tag", "red", "--tag", "blue")
	c.ok("network", "create", "plain")
	assert.Equal(t, []string{"blue", "red"}, c.tagsOf("network", "rb"))
	_, _, err := c.run("network", "create", "x", "--tag", "a", "--no-tag")
	require.Error(t, err, "--tag and --no-tag exclude each other on create")

	// set adds; --no-tag clears first; unset removes.
	c.ok("network", "set", "plain", "--tag", "green")
	c.ok("network", "set", "plain", "--tag", "blue", "--name", "plain")
	assert.Equal(t, []string{"blue", "green"}, c.tagsOf("network", "plain"))
	c.ok("network", "set", "plain", "--no-tag", "--tag", "white")
	assert.Equal(t, []string{"white"}, c.tagsOf("network", "plain"))
	c.ok("network", "set", "plain", "--no-tag")
	assert.Empty(t, c.tagsOf("network", "plain"))
	c.ok("network", "set", "rb", "--tag", "x", "--tag", "y")
	c.ok("network", "unset", "rb", "--tag", "x", "--tag", "nope")
	assert.Equal(t, []string{"blue", "red", "y"}, c.tagsOf("network", "rb"))
	c.ok("network", "unset", "rb", "--tag", "y")

	assert.Equal(t, []string{"rb", "red"}, c.listNames("network", "--tags", "red"))
	assert.Equal(t, []string{"rb"}, c.listNames("network", "--tags", "red,blue"))
	assert.Equal(t, []string{"rb", "red"}, c.listNames("network", "--any-tags", "blue,red"))
	assert.Equal(t, []string{"plain", "red"}, c.listNames("network", "--not-tags", "red,blue"))
	assert.Equal(t, []string{"plain"}, c.listNames("network", "--not-any-tags", "red"))
	assert.Regexp(t, `\| Tags\s+\|`, c.ok("network", "list", "--long"), "long lists show tags")

	c.ok("subnet", "create", "s1", "--network", "rb", "--subnet-range", "10.9.0.0/24", "--tag", "st")
	c.ok("subnet", "set", "s1", "--tag", "su")
	assert.Equal(t, []string{"st", "su"}, c.tagsOf("subnet", "s1"))
	assert.Equal(t, []string{"s1"}, c.listNames("subnet", "--tags", "st,su"))
	c.ok("subnet", "unset", "s1", "--all-tag")
	assert.Empty(t, c.tagsOf("subnet", "s1"))

	c.ok("port", "create", "p1", "--network", "rb", "--tag", "pt")
	c.ok("port", "create", "p2", "--network", "rb")
	c.ok("port", "set", "p2", "--tag", "pu")
	assert.Equal(t, []string{"pu"}, c.tagsOf("port", "p2"))
	assert.Equal(t, []string{"p1", "p2"}, c.listNames("port", "--any-tags", "pt,pu"))
	assert.Equal(t, []string{"p1"}, c.listNames("port", "--not-tags", "pu"))
}
