package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vland/vland/internal/etcdflags"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
)

// adminFlags reach etcd as its root user, by default the embedded node of
// a server whose data dir is on this machine.
type adminFlags struct {
	endpoints []string
	dataDir   string
	auth      etcdflags.Auth
}

func (f *adminFlags) register(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.endpoints, "etcd-endpoints", []string{"http://127.0.0.1:2379"}, "etcd client URLs")
	fs.StringVar(&f.dataDir, "data-dir", "/var/lib/vland", "the server's data dir (its embedded etcd's root password is there)")
	f.auth.Register(fs, "etcd user with the root role (default root)",
		"file holding that user's password (default: DATA-DIR/"+etcdstore.RootPasswordFile+")")
}

func (f *adminFlags) config() (etcdstore.ClientConfig, error) {
	a := f.auth
	if a.PasswordFile == "" {
		a.PasswordFile = filepath.Join(f.dataDir, etcdstore.RootPasswordFile)
	}
	return a.Config(f.endpoints, store.RootUser)
}

// newAgentCredentialsCmd builds `vland agent credentials HOST`.
func newAgentCredentialsCmd() *cobra.Command {
	var f adminFlags
	var output string
	cmd := &cobra.Command{
		Use:   "credentials HOST",
		Short: "Create or rotate the etcd user of HOST's agent and print (or write) its password",
		Long: "Creates the etcd role and user vland-agent-HOST (or gives the user a new password), with the\n" +
			"permissions of docs/deployment.md: read networks, subnets, ports and agents, write only HOST's\n" +
			"own keys. Run it where the etcd root password is; start the agent with\n" +
			"--etcd-password-file FILE (the user name defaults to vland-agent-HOST).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			host := args[0]
			if err := store.ValidHost(host); err != nil {
				return err
			}
			cc, err := f.config()
			if err != nil {
				return err
			}
			password := etcdstore.RandomPassword()
			if err := withAdmin(cmd.Context(), cc, func(ctx context.Context, cli adminClient) error {
				return etcdstore.ProvisionAgent(ctx, cli, host, password)
			}); err != nil {
				return err
			}
			if output == "" {
				fmt.Fprintln(cmd.OutOrStdout(), password)
				return nil
			}
			if err := etcdstore.WritePasswordFile(output, password); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "etcd user %s: password written to %s\n", store.AgentUser(host), output)
			return nil
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the password to this file (mode 0600) instead of printing it")
	return cmd
}

// newEtcdCmd builds `vland etcd provision`, for an external etcd cluster.
func newEtcdCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "etcd", Short: "Administer vland's etcd users and roles"}
	var f adminFlags
	var serverPW string
	prov := &cobra.Command{
		Use:   "provision",
		Short: "Create vland's etcd roles and server user, and turn etcd auth on",
		Long: "Applies vland's etcd grants (docs/deployment.md) to an external cluster, idempotently: the root\n" +
			"user (created with the password of --etcd-password-file if auth is still off), the vland-server\n" +
			"role and user (password from --server-password-file, generated there if missing), the agent\n" +
			"roles brought up to date; then enables auth. The embedded etcd does this by itself.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cc, err := f.config()
			if err != nil {
				return err
			}
			pw, err := etcdstore.ReadPasswordFile(serverPW)
			if errors.Is(err, fs.ErrNotExist) {
				pw = etcdstore.RandomPassword()
				err = etcdstore.WritePasswordFile(serverPW, pw)
			}
			if err != nil {
				return err
			}
			if err := withAdmin(cmd.Context(), cc, func(ctx context.Context, cli adminClient) error {
				return etcdstore.Provision(ctx, cli, cc.Password, pw)
			}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "etcd auth on; start servers with --etcd-username %s --etcd-password-file %s\n",
				store.ServerUser, serverPW)
			return nil
		},
	}
	f.register(prov.Flags())
	prov.Flags().StringVar(&serverPW, "server-password-file", "etcd-server.password",
		"the vland-server user's password file (generated if missing)")
	cmd.AddCommand(prov)
	return cmd
}

func init() { rootCmd.AddCommand(newEtcdCmd()) }

// adminClient is an etcd client logged in with the root role.
type adminClient = *clientv3.Client

// withAdmin connects as cc says and runs fn with a bounded context.
func withAdmin(ctx context.Context, cc etcdstore.ClientConfig, fn func(context.Context, adminClient) error) error {
	cli, err := etcdstore.AdminClient(cc)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return fn(ctx, cli)
}
