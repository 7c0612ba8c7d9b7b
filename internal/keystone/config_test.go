package keystone

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	t.Setenv(AdminPasswordEnv, "")
	p := writeFile(t, `
admin_password: secret
token_ttl: 2h
projects: [demo, projectA]
users:
  - {name: alice, password: pw, project: projectA, roles: [member]}
  - {name: bob, password: pw2, project: other}
`)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminPassword != "secret" || c.TokenTTL != 2*time.Hour || c.Region != DefaultRegion {
		t.Fatalf("config = %+v", c)
	}
	if got := c.Users[1].Roles; len(got) != 1 || got[0] != MemberRole {
		t.Fatalf("bob's default roles = %v, want [member]", got)
	}
	want := []string{"admin", "demo", "projectA", "other"}
	if got := c.projectNames(); len(got) != len(want) || got[3] != "other" || got[0] != "admin" {
		t.Fatalf("projectNames = %v, want %v", got, want)
	}
	t.Setenv(AdminPasswordEnv, "fromenv")
	if c, _ := LoadConfig(p); c.AdminPassword != "fromenv" {
		t.Fatalf("env did not override the file: %q", c.AdminPassword)
	}
}

func TestLoadConfigDefaultsAndErrors(t *testing.T) {
	t.Setenv(AdminPasswordEnv, "")
	c, err := LoadConfig("")
	if err != nil || c.AdminPassword != DefaultAdminPassword || c.TokenTTL != DefaultTokenTTL {
		t.Fatalf("LoadConfig(\"\") = %+v, %v", c, err)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	for name, text := range map[string]string{
		"dup":        "users: [{name: a, password: x, project: p}, {name: a, password: y, project: p}]",
		"admin":      "users: [{name: admin, password: x, project: p}]",
		"no pass":    "users: [{name: a, project: p}]",
		"bad yaml":   "users: {",
		"bad ttl":    "token_ttl: soon",
		"empty proj": "projects: ['']",
	} {
		if _, err := LoadConfig(writeFile(t, text)); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
}
