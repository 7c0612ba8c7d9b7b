package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCLIInstance: instance create (user data from a file, properties),
// list, show and delete.
func TestCLIInstance(t *testing.T) {
	c := cli{t: t, url: startAPI(t)}
	ud := filepath.Join(t.TempDir(), "ud")
	require.NoError(t, os.WriteFile(ud, []byte("#cloud-config\n"), 0o600))
	var in map[string]any
	c.json(&in, "instance", "create", "web1", "--id", "6f1c1a8e-1d1b-4c63-a3f8-2f6c3b2a9e10",
		"--project", "p1", "--availability-zone", "az1", "--user-data", ud, "--property", "role=web")
	assert.Equal(t, "6f1c1a8e-1d1b-4c63-a3f8-2f6c3b2a9e10", in["id"])
	assert.Equal(t, "web1", in["hostname"])
	assert.Equal(t, "az1", in["availability_zone"])
	assert.Equal(t, base64.StdEncoding.EncodeToString([]byte("#cloud-config\n")), in["user_data"])
	assert.Equal(t, map[string]any{"role": "web"}, in["meta"])
	table := c.ok("instance", "list")
	assert.Regexp(t, `\| ID\s+\| Name\s+\| Hostname\s+\| Project\s+\| Availability Zone\s+\|`, table)
	assert.Contains(t, table, "web1")
	c.json(&in, "instance", "show", "6f1c1a8e-1d1b-4c63-a3f8-2f6c3b2a9e10")
	assert.Equal(t, "p1", in["project_id"])
	_, _, err := c.run("instance", "create", "web1", "--id", "6f1c1a8e-1d1b-4c63-a3f8-2f6c3b2a9e10")
	assert.ErrorContains(t, err, "already exists")
	_, _, err = c.run("instance", "create", "x", "--user-data", filepath.Join(t.TempDir(), "missing"))
	assert.ErrorContains(t, err, "--user-data")
	c.ok("instance", "delete", "6f1c1a8e-1d1b-4c63-a3f8-2f6c3b2a9e10")
	_, _, err = c.run("instance", "show", "6f1c1a8e-1d1b-4c63-a3f8-2f6c3b2a9e10")
	assert.ErrorContains(t, err, "could not be found")
}
