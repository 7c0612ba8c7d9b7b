package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vland/vland/internal/client"
)

// clientFlags are the connection and credential flags of the client
// commands, named as in the openstack client. They override the
// environment (VLAND_URL, OS_*), which overrides the config file
// ($VLAND_CONFIG or ~/.config/vland/config.yaml).
type clientFlags struct {
	cfg client.Config
}

// clientCmd bundles what every client command needs: how to connect and
// how to print.
type clientCmd struct {
	conn *clientFlags
	out  *outputFlags
}

// newClientCmd registers the client and output flags on cmd, as persistent
// flags when cmd is a group (network, subnet, port) so every verb has them.
func newClientCmd(cmd *cobra.Command, persistent bool) *clientCmd {
	fs := cmd.Flags()
	if persistent {
		fs = cmd.PersistentFlags()
	}
	return &clientCmd{conn: addClientFlags(fs), out: addOutputFlags(cmd, persistent)}
}

func addClientFlags(fs *pflag.FlagSet) *clientFlags {
	f := &clientFlags{}
	c := &f.cfg
	fs.StringVar(&c.URL, "os-url", "", "vland API root URL, e.g. http://127.0.0.1:9696 (env VLAND_URL)")
	fs.StringVar(&c.AuthURL, "os-auth-url", "", "Keystone v3 URL, e.g. http://127.0.0.1:9696/v3 (env OS_AUTH_URL)")
	fs.StringVar(&c.AuthType, "os-auth-type", "", "password, token or none (env OS_AUTH_TYPE)")
	fs.StringVar(&c.Username, "os-username", "", "user name (env OS_USERNAME)")
	fs.StringVar(&c.Password, "os-password", "", "password (env OS_PASSWORD)")
	fs.StringVar(&c.ProjectName, "os-project-name", "", "project to scope the token to (env OS_PROJECT_NAME)")
	fs.StringVar(&c.Token, "os-token", "", "a token to use as-is (env OS_TOKEN)")
	return f
}

// config layers file < environment < flags. Credentials given in a higher
// layer without an auth type reset the lower layer's auth type, so that
// --os-token alone means token auth even if the file says password.
func (f *clientFlags) config() (client.Config, error) {
	cfg, err := client.ReadConfig(client.DefaultConfigPath())
	if err != nil {
		return cfg, err
	}
	for _, layer := range []client.Config{client.ConfigFromEnv(), f.cfg} {
		if layer.AuthType == "" && (layer.Token != "" || layer.Username != "") {
			cfg.AuthType = ""
		}
		cfg = cfg.Merge(layer)
	}
	return cfg, nil
}

func (f *clientFlags) client() (*client.Client, error) {
	cfg, err := f.config()
	if err != nil {
		return nil, err
	}
	return client.New(cfg)
}

// run makes the client and calls fn with the command's context and stdout.
func (cc *clientCmd) run(cmd *cobra.Command, fn func(ctx context.Context, c *client.Client, w io.Writer) error) error {
	c, err := cc.conn.client()
	if err != nil {
		return err
	}
	return fn(cmd.Context(), c, cmd.OutOrStdout())
}

// triState reads a pair of opposite switches (--share/--no-share): nil if
// neither was given.
func triState(cmd *cobra.Command, on, off string) *bool {
	t, f := cmd.Flags().Changed(on), cmd.Flags().Changed(off)
	switch {
	case t:
		v := true
		return &v
	case f:
		v := false
		return &v
	}
	return nil
}

// parseKV parses "k1=v1,k2=v2" with only the allowed keys.
func parseKV(flag, s string, allowed ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || !contains(allowed, k) {
			return nil, fmt.Errorf("--%s %q: want %s", flag, s, strings.Join(allowed, "=...,")+"=...")
		}
		out[k] = v
	}
	return out, nil
}

func contains(xs []string, x string) bool {
	for _, e := range xs {
		if e == x {
			return true
		}
	}
	return false
}

// deleteEach deletes every reference in turn, going on after a failure as
// the openstack client does, and fails if any delete failed. With several
// references each failure is also reported on w (stderr).
func deleteEach(ctx context.Context, w io.Writer, kind string, refs []string,
	find func(context.Context, string) (string, error), del func(context.Context, string) error) error {
	var errs []error
	for _, ref := range refs {
		id, err := find(ctx, ref)
		if err == nil {
			err = del(ctx, id)
		}
		if err != nil && len(refs) > 1 {
			fmt.Fprintf(w, "Failed to delete %s with name or ID '%s': %v\n", kind, ref, err)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	if len(refs) == 1 {
		return errs[0]
	}
	return fmt.Errorf("%d of %d %ss failed to delete: %w", len(errs), len(refs), kind, errors.Join(errs...))
}

// addSwitchPair adds two opposite boolean switches; read them with triState.
func addSwitchPair(cmd *cobra.Command, on, off, onUsage, offUsage string) {
	cmd.Flags().Bool(on, false, onUsage)
	cmd.Flags().Bool(off, false, offUsage)
	cmd.MarkFlagsMutuallyExclusive(on, off)
}

// changedInt returns &v if the flag was given, else nil.
func changedInt(cmd *cobra.Command, flag string, v int) *int {
	if !cmd.Flags().Changed(flag) {
		return nil
	}
	return &v
}

// changedString returns &v if the flag was given, else nil.
func changedString(cmd *cobra.Command, flag, v string) *string {
	if !cmd.Flags().Changed(flag) {
		return nil
	}
	return &v
}

func setFilter(q url.Values, key, v string) {
	if v != "" {
		q.Set(key, v)
	}
}

func setBoolFilter(q url.Values, key string, v *bool) {
	if v != nil {
		q.Set(key, strconv.FormatBool(*v))
	}
}

// setProjectFilter adds project_id for a --project name or ID (never
// creating the project: listing must not have side effects).
func setProjectFilter(ctx context.Context, c *client.Client, q url.Values, project string) error {
	if project == "" {
		return nil
	}
	id, err := c.FindProjectID(ctx, project)
	if err != nil {
		return err
	}
	q.Set("project_id", id)
	return nil
}
