package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCLISubnetPools: subnet pool and address scope commands, a subnet
// from a pool by prefix length, and ip availability.
func TestCLISubnetPools(t *testing.T) {
	c := cli{t: t, url: startAPI(t)}

	var scope struct {
		ID        string `json:"id"`
		IPVersion int    `json:"ip_version"`
		Shared    bool   `json:"shared"`
	}
	c.json(&scope, "address", "scope", "create", "as1", "--share")
	assert.Equal(t, 4, scope.IPVersion)
	assert.True(t, scope.Shared)
	c.ok("address", "scope", "set", "as1", "--name", "as2")
	assert.Regexp(t, `(?m)^\| `+scope.ID+`\s+\| as2\s+\| 4\s+\| True`, c.ok("address", "scope", "list"))

	out := c.ok("subnet", "pool", "create", "pool1", "--pool-prefix", "10.50.0.0/24", "--pool-prefix", "10.50.1.0/24",
		"--default-prefix-length", "26", "--max-prefix-length", "28", "--address-scope", "as2", "--default", "--tag", "red")
	assert.Regexp(t, `(?m)^\| prefixes\s+\| 10.50.0.0/23\s+\|$`, out)
	assert.Regexp(t, `(?m)^\| is_default\s+\| True\s+\|$`, out)
	assert.Regexp(t, `(?m)^\| address_scope_id\s+\| `+scope.ID+`\s+\|$`, out)
	c.ok("subnet", "pool", "set", "pool1", "--pool-prefix", "10.50.4.0/24", "--min-prefix-length", "24", "--no-default")
	var pool struct {
		ID           string   `json:"id"`
		Prefixes     []string `json:"prefixes"`
		MinPrefixLen int      `json:"min_prefixlen"`
		IsDefault    bool     `json:"is_default"`
		Tags         []string `json:"tags"`
	}
	c.json(&pool, "subnet", "pool", "show", "pool1")
	assert.Equal(t, []string{"10.50.0.0/23", "10.50.4.0/24"}, pool.Prefixes)
	assert.Equal(t, 24, pool.MinPrefixLen)
	assert.False(t, pool.IsDefault)
	assert.Equal(t, []string{"red"}, pool.Tags)
	assert.Regexp(t, `(?m)^\| `+pool.ID+`\s+\| pool1\s+\| 10.50.0.0/23, 10.50.4.0/24\s+\|$`, c.ok("subnet", "pool", "list", "--tags", "red"))

	c.ok("subnet", "pool", "unset", "pool1", "--pool-prefix", "10.50.4.0/24")
	c.json(&pool, "subnet", "pool", "show", "pool1")
	assert.Equal(t, []string{"10.50.0.0/23"}, pool.Prefixes)

	c.ok("network", "create", "pn")
	var sub struct {
		CIDR         string `json:"cidr"`
		SubnetPoolID string `json:"subnetpool_id"`
	}
	c.json(&sub, "subnet", "create", "ps1", "--network", "pn", "--subnet-pool", "pool1", "--prefix-length", "27")
	assert.Equal(t, "10.50.0.0/27", sub.CIDR)
	assert.Equal(t, pool.ID, sub.SubnetPoolID)
	c.json(&sub, "subnet", "create", "ps2", "--network", "pn", "--subnet-pool", "pool1")
	assert.Equal(t, "10.50.0.64/26", sub.CIDR, "the default prefix length, from the smallest block that fits")
	_, stderr, err := c.run("subnet", "create", "ps3", "--network", "pn", "--subnet-pool", "pool1", "--prefix-length", "29")
	require.Error(t, err)
	assert.Contains(t, err.Error()+stderr, "maximum allowed prefix is 28")

	avail := c.ok("ip", "availability", "show", "pn")
	assert.Regexp(t, `(?m)^\| total_ips\s+\| 90\s+\|$`, avail, "29 + 61 addresses in the allocation pools")
	assert.Regexp(t, `(?m)^\| used_ips\s+\| 0\s+\|$`, avail)
	assert.Regexp(t, `(?m)^\| \S+\s+\| pn\s+\| 90\s+\| 0\s+\|$`, c.ok("ip", "availability", "list"))

	_, _, err = c.run("subnet", "pool", "delete", "pool1")
	require.Error(t, err, "a pool with subnets cannot be deleted")
	c.ok("network", "delete", "pn")
	c.ok("subnet", "pool", "delete", "pool1")
	c.ok("address", "scope", "delete", "as2")
	assert.NotContains(t, c.ok("address", "scope", "list"), "as2")
}
