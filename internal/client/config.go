package client

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Auth types, as the openstack client names them.
const (
	AuthNone     = "none"
	AuthPassword = "password"
	AuthToken    = "token"
)

// DefaultURL is where a vland server listens unless told otherwise.
const DefaultURL = "http://127.0.0.1:9696"

// Config is how to reach and authenticate to vland. It is the content of
// the client config file (written by `vland lab up`) and can be overridden
// by OS_* environment variables and command-line flags.
//
// URL is the API root (e.g. http://127.0.0.1:9696, without /v2.0). AuthURL
// is Keystone v3 (e.g. http://127.0.0.1:9696/v3). AuthType is "none",
// "password" or "token"; empty means: password if Username is set, token if
// Token is set, none otherwise.
type Config struct {
	URL         string `yaml:"url,omitempty"`
	AuthURL     string `yaml:"auth_url,omitempty"`
	AuthType    string `yaml:"auth_type,omitempty"`
	Username    string `yaml:"username,omitempty"`
	Password    string `yaml:"password,omitempty"`
	ProjectName string `yaml:"project_name,omitempty"`
	Token       string `yaml:"token,omitempty"`
}

// DefaultConfigPath is $VLAND_CONFIG, or ~/.config/vland/config.yaml.
func DefaultConfigPath() string {
	if p := os.Getenv("VLAND_CONFIG"); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return filepath.Join(".config", "vland", "config.yaml")
	}
	return filepath.Join(dir, "vland", "config.yaml")
}

// ReadConfig reads one config file. A missing file is an empty Config, not
// an error.
func ReadConfig(path string) (Config, error) {
	var c Config
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read client config: %w", err)
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("parse client config %s: %w", path, err)
	}
	return c, nil
}

// LoadConfig returns the config file at DefaultConfigPath overlaid with the
// environment (VLAND_URL, OS_AUTH_URL, OS_AUTH_TYPE, OS_USERNAME,
// OS_PASSWORD, OS_PROJECT_NAME, OS_TOKEN) and the defaults. Flags, if any,
// are applied by the caller on top.
func LoadConfig() (Config, error) {
	c, err := ReadConfig(DefaultConfigPath())
	if err != nil {
		return c, err
	}
	c = c.Merge(ConfigFromEnv())
	return c.WithDefaults(), nil
}

// ConfigFromEnv reads the environment variables LoadConfig honours.
func ConfigFromEnv() Config {
	return Config{
		URL:         os.Getenv("VLAND_URL"),
		AuthURL:     os.Getenv("OS_AUTH_URL"),
		AuthType:    os.Getenv("OS_AUTH_TYPE"),
		Username:    os.Getenv("OS_USERNAME"),
		Password:    os.Getenv("OS_PASSWORD"),
		ProjectName: os.Getenv("OS_PROJECT_NAME"),
		Token:       os.Getenv("OS_TOKEN"),
	}
}

// Merge returns c with every non-empty field of o replacing c's.
func (c Config) Merge(o Config) Config {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.URL, o.URL)
	set(&c.AuthURL, o.AuthURL)
	set(&c.AuthType, o.AuthType)
	set(&c.Username, o.Username)
	set(&c.Password, o.Password)
	set(&c.ProjectName, o.ProjectName)
	set(&c.Token, o.Token)
	return c
}

// WithDefaults fills the auth type from the credentials present, and the
// URL with DefaultURL when there is no way to find it in a catalog.
func (c Config) WithDefaults() Config {
	if c.AuthType == "" {
		switch {
		case c.Username != "":
			c.AuthType = AuthPassword
		case c.Token != "":
			c.AuthType = AuthToken
		default:
			c.AuthType = AuthNone
		}
	}
	if c.URL == "" && (c.AuthURL == "" || c.AuthType == AuthNone) {
		c.URL = DefaultURL
	}
	// vland's server carries its own Keystone under /v3.
	if c.AuthURL == "" && c.AuthType != AuthNone && c.URL != "" {
		c.AuthURL = strings.TrimRight(c.URL, "/") + "/v3"
	}
	return c
}

// SaveConfig writes c to path with mode 0600 (it may hold a password),
// atomically: a reader sees the old file or the new one, never half.
func SaveConfig(path string, c Config) error {
	data, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode client config: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save client config: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.tmp")
	if err != nil {
		return fmt.Errorf("save client config: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save client config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save client config: %w", err)
	}
	// CreateTemp makes the file 0600 already; Chmod makes the intent explicit.
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("save client config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save client config: %w", err)
	}
	return nil
}
