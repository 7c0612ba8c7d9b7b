package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/vland/vland/internal/etcdflags"
	"github.com/vland/vland/internal/server"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
)

// `vland agent credentials HOST` against a server's embedded etcd (root
// password from --data-dir): the agent's flags then log in with the file it
// wrote, and that user cannot read the token secret. Running it again
// rotates the password.
func TestAgentCredentialsCmd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	srv, err := server.New(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: dir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	endpoints := strings.Join(srv.EtcdEndpoints(), ",")
	pwFile := filepath.Join(t.TempDir(), "agent.password")

	run := func(args ...string) string {
		cmd := newAgentCredentialsCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(io.Discard)
		cmd.SetArgs(args)
		require.NoError(t, cmd.ExecuteContext(context.Background()))
		return out.String()
	}
	out := run("compute1", "--data-dir", dir, "--etcd-endpoints", endpoints, "-o", pwFile)
	require.Contains(t, out, "vland-agent-compute1")

	// The agent's own flags: user defaults to vland-agent-<host>.
	af := etcdflags.Auth{PasswordFile: pwFile}
	cc, err := af.Config(srv.EtcdEndpoints(), store.AgentUser("compute1"))
	require.NoError(t, err)
	require.Equal(t, "vland-agent-compute1", cc.Username)
	st, err := etcdstore.Connect(cc)
	require.NoError(t, err)
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err = st.List(ctx, store.PortsPrefix)
	require.NoError(t, err)
	_, err = st.Get(ctx, store.TokenSecretKey)
	require.ErrorIs(t, err, rpctypes.ErrPermissionDenied)

	// Rotation, printing the password this time.
	pw := strings.TrimSpace(run("compute1", "--data-dir", dir, "--etcd-endpoints", endpoints))
	require.Len(t, pw, 32)
	_, err = etcdstore.Connect(cc)
	require.Error(t, err, "the old password after rotation")
	cc.Password = pw
	st2, err := etcdstore.Connect(cc)
	require.NoError(t, err)
	st2.Close()

	// Bad host names and a missing root password are refused.
	cmd := newAgentCredentialsCmd()
	cmd.SetArgs([]string{"a/b", "--data-dir", dir, "--etcd-endpoints", endpoints})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	require.Error(t, cmd.ExecuteContext(context.Background()))
	cmd = newAgentCredentialsCmd()
	cmd.SetArgs([]string{"compute2", "--data-dir", t.TempDir(), "--etcd-endpoints", endpoints})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	require.Error(t, cmd.ExecuteContext(context.Background()))

	// `vland etcd provision` on the provisioned node is a no-op that keeps
	// the agent's user and the server's password.
	prov := newEtcdCmd()
	var out2 bytes.Buffer
	prov.SetOut(&out2)
	prov.SetArgs([]string{"provision", "--data-dir", dir, "--etcd-endpoints", endpoints,
		"--server-password-file", filepath.Join(dir, etcdstore.ServerPasswordFile)})
	require.NoError(t, prov.ExecuteContext(context.Background()))
	require.Contains(t, out2.String(), "--etcd-username vland-server")
	st3, err := etcdstore.Connect(cc)
	require.NoError(t, err)
	st3.Close()
	_, err = srv.Store().Get(ctx, store.TokenSecretKey)
	require.NoError(t, err, "the server still reads its secret")
}

func TestEtcdAuthFlags(t *testing.T) {
	_, err := (&etcdflags.Auth{Username: "u"}).Config([]string{"http://x:2379"}, "d")
	require.Error(t, err, "a user without a password file")
	f := serverFlags{auth: "noauth", physnetMTU: 1500, tenantTypes: "vxlan", vniRanges: "1:2",
		etcd: etcdflags.Auth{PasswordFile: "/nonexistent"}}
	_, err = f.config()
	require.Error(t, err, "etcd credentials without --etcd-endpoints")
}
