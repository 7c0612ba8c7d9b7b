package keystone

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults used when no users file is given or a field is left out.
const (
	DefaultAdminPassword = "admin"
	DefaultTokenTTL      = 24 * time.Hour
	DefaultRegion        = "RegionOne"

	// AdminUser and AdminProject are the bootstrap identity: user "admin"
	// with role "admin" on project "admin", as keystone-manage bootstrap
	// makes it.
	AdminUser    = "admin"
	AdminProject = "admin"
	AdminRole    = "admin"
	MemberRole   = "member"
	ReaderRole   = "reader"

	// AdminPasswordEnv overrides the admin password of the file (a server
	// flag, applied by the caller after LoadConfig, overrides both).
	AdminPasswordEnv = "VLAND_ADMIN_PASSWORD"
)

// Config is the identity configuration of a vland server: the bootstrap
// admin password, the token lifetime, projects to create at start and the
// users that may log in. Users live only in the configuration (every server
// reads the same file); projects live in the store.
//
// The YAML form:
//
//	admin_password: secret
//	token_ttl: 24h
//	public_url: http://controller:9696   # optional, else taken from each request's Host
//	region: RegionOne
//	projects: [demo, projectA]
//	users:
//	  - {name: alice, password: pw, project: projectA, roles: [member]}
type Config struct {
	AdminPassword string        `yaml:"admin_password"`
	TokenTTL      time.Duration `yaml:"token_ttl"`
	// PublicURL is the unversioned root URL put in the token's catalog; empty
	// means "scheme://Host of the request that asked for the token".
	PublicURL string   `yaml:"public_url"`
	Region    string   `yaml:"region"`
	Projects  []string `yaml:"projects"`
	Users     []User   `yaml:"users"`
	// Logger receives the service's logs; nil means slog.Default().
	Logger *slog.Logger `yaml:"-"`
}

// User is one user of the users file. A user may scope tokens to Project
// with Roles (default [member]); a user with the admin role may scope to any
// project.
type User struct {
	Name     string   `yaml:"name"`
	Password string   `yaml:"password"`
	Project  string   `yaml:"project"`
	Roles    []string `yaml:"roles"`
}

// ErrConfig reports an invalid identity configuration.
var ErrConfig = errors.New("keystone: invalid config")

// DefaultConfig is the configuration without a users file: only the admin
// user, password "admin" (or $VLAND_ADMIN_PASSWORD), tokens valid 24h.
func DefaultConfig() Config {
	c := Config{AdminPassword: DefaultAdminPassword, TokenTTL: DefaultTokenTTL, Region: DefaultRegion}
	if pw := os.Getenv(AdminPasswordEnv); pw != "" {
		c.AdminPassword = pw
	}
	return c
}

// LoadConfig reads the YAML users file at path over DefaultConfig. An empty
// path returns DefaultConfig. $VLAND_ADMIN_PASSWORD, when set, wins over the
// file's admin_password.
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("keystone: read config: %w", err)
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("%w: %s: %w", ErrConfig, path, err)
	}
	if pw := os.Getenv(AdminPasswordEnv); pw != "" {
		c.AdminPassword = pw
	}
	return c, c.Validate()
}

// Validate fills defaults and checks that names are set and unique.
func (c *Config) Validate() error {
	if c.AdminPassword == "" {
		c.AdminPassword = DefaultAdminPassword
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	seen := map[string]bool{AdminUser: true}
	for i := range c.Users {
		u := &c.Users[i]
		if u.Name == "" || u.Password == "" || u.Project == "" {
			return fmt.Errorf("%w: user %d needs name, password and project", ErrConfig, i+1)
		}
		if seen[u.Name] {
			return fmt.Errorf("%w: user %q defined twice (admin is built in)", ErrConfig, u.Name)
		}
		seen[u.Name] = true
		if len(u.Roles) == 0 {
			u.Roles = []string{MemberRole}
		}
	}
	for _, p := range c.Projects {
		if p == "" {
			return fmt.Errorf("%w: empty project name", ErrConfig)
		}
	}
	return nil
}

// allUsers is the configured users plus the bootstrap admin.
func (c *Config) allUsers() []User {
	admin := User{Name: AdminUser, Password: c.AdminPassword, Project: AdminProject, Roles: []string{AdminRole, MemberRole, ReaderRole}}
	return append([]User{admin}, c.Users...)
}

// projectNames lists every project the configuration needs: admin, the
// listed ones and each user's project, without duplicates.
func (c *Config) projectNames() []string {
	names := []string{AdminProject}
	seen := map[string]bool{AdminProject: true}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, p := range c.Projects {
		add(p)
	}
	for _, u := range c.Users {
		add(u.Project)
	}
	return names
}
