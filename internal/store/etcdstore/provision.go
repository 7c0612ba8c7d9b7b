package etcdstore

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vland/vland/internal/store"
)

// The embedded node's credentials (package embedded), generated on first
// start into its data dir (mode 0600) and reused after: etcd's root user,
// and the server's user.
const (
	RootPasswordFile   = "etcd-root.password"
	ServerPasswordFile = "etcd-server.password"
)

// Provision applies vland's etcd grants (store/grants.go) through cli, a
// client logged in as root (or talking to a cluster whose auth is still
// off): the root user (created with rootPassword if missing), the server
// role and user (its password set to serverPassword), and the roles of the
// agents that already exist, brought up to date. It enables auth last. It is
// idempotent: running it again fixes whatever drifted.
func Provision(ctx context.Context, cli *clientv3.Client, rootPassword, serverPassword string) error {
	if err := ensureUser(ctx, cli, store.RootUser, rootPassword, false); err != nil {
		return err
	}
	if _, err := cli.UserGrantRole(ctx, store.RootUser, "root"); err != nil {
		return fmt.Errorf("etcdstore: grant root: %w", err)
	}
	if err := ensureRole(ctx, cli, store.ServerRole, store.ServerPerms()); err != nil {
		return err
	}
	if err := ensureUser(ctx, cli, store.ServerUser, serverPassword, true); err != nil {
		return err
	}
	if _, err := cli.UserGrantRole(ctx, store.ServerUser, store.ServerRole); err != nil {
		return fmt.Errorf("etcdstore: grant %s: %w", store.ServerRole, err)
	}
	// Agent roles made by an older version get today's permissions.
	users, err := cli.UserList(ctx)
	if err != nil {
		return fmt.Errorf("etcdstore: list users: %w", err)
	}
	for _, u := range users.Users {
		if host, ok := agentHost(u); ok {
			if err := ensureRole(ctx, cli, store.AgentRole(host), store.AgentPerms(host)); err != nil {
				return err
			}
		}
	}
	status, err := cli.AuthStatus(ctx)
	if err != nil {
		return fmt.Errorf("etcdstore: auth status: %w", err)
	}
	if !status.Enabled {
		if _, err := cli.AuthEnable(ctx); err != nil {
			return fmt.Errorf("etcdstore: enable auth: %w", err)
		}
	}
	return nil
}

// ProvisionAgent creates host's agent role and user, or rotates the user's
// password and refreshes the role's permissions, through cli (logged in as
// root). The agent's old password stops working at once; its open
// connection keeps its token until the token expires.
func ProvisionAgent(ctx context.Context, cli *clientv3.Client, host, password string) error {
	if err := store.ValidHost(host); err != nil {
		return fmt.Errorf("etcdstore: %w", err)
	}
	if err := ensureRole(ctx, cli, store.AgentRole(host), store.AgentPerms(host)); err != nil {
		return err
	}
	if err := ensureUser(ctx, cli, store.AgentUser(host), password, true); err != nil {
		return err
	}
	if _, err := cli.UserGrantRole(ctx, store.AgentUser(host), store.AgentRole(host)); err != nil {
		return fmt.Errorf("etcdstore: grant %s: %w", store.AgentRole(host), err)
	}
	return nil
}

// AdminClient connects as cfg says, for Provision and ProvisionAgent.
func AdminClient(cfg ClientConfig) (*clientv3.Client, error) { return newClient(cfg) }

// agentHost says whether user is an agent's user, and of which host.
func agentHost(user string) (string, bool) {
	prefix := store.AgentUser("")
	if len(user) <= len(prefix) || user[:len(prefix)] != prefix {
		return "", false
	}
	return user[len(prefix):], true
}

// ensureUser creates name with password; if it exists, it sets the
// password when reset is true and leaves it alone otherwise.
func ensureUser(ctx context.Context, cli *clientv3.Client, name, password string, reset bool) error {
	_, err := cli.UserAdd(ctx, name, password)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, rpctypes.ErrUserAlreadyExist):
		return fmt.Errorf("etcdstore: add user %s: %w", name, err)
	case reset:
		if _, err := cli.UserChangePassword(ctx, name, password); err != nil {
			return fmt.Errorf("etcdstore: set password of %s: %w", name, err)
		}
	}
	return nil
}

// ensureRole makes role hold exactly perms: it creates the role if needed,
// grants each missing or different permission and revokes any other. A
// role that is right already costs one read (a server start checks every
// agent's role).
func ensureRole(ctx context.Context, cli *clientv3.Client, role string, perms []store.Perm) error {
	type rng struct{ key, end string }
	have := map[rng]clientv3.PermissionType{}
	got, err := cli.RoleGet(ctx, role)
	switch {
	case errors.Is(err, rpctypes.ErrRoleNotFound):
		if _, err := cli.RoleAdd(ctx, role); err != nil && !errors.Is(err, rpctypes.ErrRoleAlreadyExist) {
			return fmt.Errorf("etcdstore: add role %s: %w", role, err)
		}
	case err != nil:
		return fmt.Errorf("etcdstore: read role %s: %w", role, err)
	default:
		for _, p := range got.Perm {
			have[rng{string(p.Key), string(p.RangeEnd)}] = clientv3.PermissionType(p.PermType)
		}
	}
	want := map[rng]bool{}
	for _, p := range perms {
		r := rng{key: p.Key}
		if p.Prefix {
			r.end = clientv3.GetPrefixRangeEnd(p.Key)
		}
		typ := clientv3.PermissionType(clientv3.PermRead)
		if p.Write {
			typ = clientv3.PermissionType(clientv3.PermReadWrite)
		}
		want[r] = true
		if cur, ok := have[r]; ok && cur == typ {
			continue
		}
		if _, err := cli.RoleGrantPermission(ctx, role, r.key, r.end, typ); err != nil {
			return fmt.Errorf("etcdstore: grant %s on %s: %w", role, p.Key, err)
		}
	}
	for r := range have {
		if want[r] {
			continue
		}
		if _, err := cli.RoleRevokePermission(ctx, role, r.key, r.end); err != nil {
			return fmt.Errorf("etcdstore: revoke %s on %s: %w", role, r.key, err)
		}
	}
	return nil
}
