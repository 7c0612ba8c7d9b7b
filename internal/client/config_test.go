package client_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vland/vland/internal/client"
)

func TestSaveAndLoadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config.yaml")
	want := client.Config{URL: "http://127.0.0.1:1", AuthURL: "http://127.0.0.1:1/v3", AuthType: "password",
		Username: "admin", Password: "pw", ProjectName: "admin"}
	require.NoError(t, client.SaveConfig(path, want))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	for _, k := range []string{"VLAND_URL", "OS_AUTH_URL", "OS_AUTH_TYPE", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("VLAND_CONFIG", path)
	got, err := client.LoadConfig()
	require.NoError(t, err)
	assert.Equal(t, want, got)

	t.Setenv("OS_PROJECT_NAME", "demo")
	got, err = client.LoadConfig()
	require.NoError(t, err)
	assert.Equal(t, "demo", got.ProjectName, "the environment wins over the file")
}

func TestLoadConfigDefaults(t *testing.T) {
	for _, k := range []string{"VLAND_URL", "OS_AUTH_URL", "OS_AUTH_TYPE", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("VLAND_CONFIG", filepath.Join(t.TempDir(), "missing.yaml"))
	got, err := client.LoadConfig()
	require.NoError(t, err)
	assert.Equal(t, client.Config{URL: client.DefaultURL, AuthType: client.AuthNone}, got)

	t.Setenv("OS_TOKEN", "tok")
	got, err = client.LoadConfig()
	require.NoError(t, err)
	assert.Equal(t, client.AuthToken, got.AuthType)
	assert.Equal(t, client.DefaultURL+"/v3", got.AuthURL)
}
