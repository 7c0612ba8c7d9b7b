package e2e_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
)

// The member projects of the shared lab that TestRBACNetworkSharing acts
// as (lab.Config.Members): the network's owner, the project it grants
// access to, and one it does not.
const (
	rbacOwner   = "rbac-owner"
	rbacGranted = "rbac-granted"
	rbacOther   = "rbac-other"
)

var rbacMembers = []string{rbacOwner, rbacGranted, rbacOther}

// requireAPIError fails unless err is an API error with the status and
// Neutron error type.
func requireAPIError(t *testing.T, err error, status int, typ, what string) {
	t.Helper()
	var apiErr *client.APIError
	require.True(t, errors.As(err, &apiErr), "%s: want HTTP %d %s, got %v", what, status, typ, err)
	require.Equal(t, status, apiErr.Status, "%s: %v", what, err)
	require.Equal(t, typ, apiErr.Type, "%s: %v", what, err)
}

// TestRBACNetworkSharing is seed 003's permission control on real OVS,
// every step as the projects' own members: project rbac-owner's network
// is invisible to the others until it grants rbac-granted access
// (access_as_shared); rbac-granted then plugs a VM into it on another
// host and reaches the owner's VM, while rbac-other still can neither see
// the network nor create a port on it. Revoking the grant is refused
// while rbac-granted's VM is plugged; once it is gone the revoke goes
// through and rbac-granted can no longer attach anything.
func TestRBACNetworkSharing(t *testing.T) {
	ctx := testCtx(t, 3*time.Minute)
	l := sharedLab(t)
	member := func(p string) *client.Client {
		c, err := l.MemberClient(p)
		require.NoError(t, err)
		return c
	}
	owner, granted, other := member(rbacOwner), member(rbacGranted), member(rbacOther)
	grantedID, err := adminClient(t).ProjectID(ctx, rbacGranted)
	require.NoError(t, err)

	n, err := owner.CreateNetwork(ctx, client.NetworkCreate{Name: "rbac-net"})
	require.NoError(t, err)
	t.Cleanup(func() { deleteQuietly(t, "network "+n.ID, adminClient(t).DeleteNetwork(context.Background(), n.ID)) })
	_, err = owner.CreateSubnet(ctx, client.SubnetCreate{Name: "rbac-sub", NetworkID: n.ID, IPVersion: 4, CIDR: "10.31.0.0/24"})
	require.NoError(t, err)
	vms := createVMs(t, ctx, vmSpec{Name: "rbac-own1", Network: n, Host: 1, IP: "10.31.0.11", Project: rbacOwner})
	ownVM := vms[0]
	// Each project's default security group admits only its own members:
	// both let pings in from the network, as users of a shared network do.
	admitPings(t, ctx, owner, "10.31.0.0/24")
	admitPings(t, ctx, granted, "10.31.0.0/24")

	// Before any grant: the network does not exist for the others.
	for name, c := range map[string]*client.Client{rbacGranted: granted, rbacOther: other} {
		_, err := c.GetNetwork(ctx, n.ID)
		requireAPIError(t, err, 404, "NetworkNotFound", name+" shows the network before the grant")
		_, err = c.CreatePort(ctx, client.PortCreate{NetworkID: n.ID})
		requireAPIError(t, err, 404, "NetworkNotFound", name+" creates a port before the grant")
	}
	_, err = l.CreateVM(ctx, lab.VMSpec{Name: "rbac-early", Network: n.ID, Host: "host2", Project: rbacGranted, AsMember: true})
	require.Error(t, err, "a VM of rbac-granted plugged into the network before the grant")

	pol, err := owner.CreateRBACPolicy(ctx, client.RBACCreate{ObjectType: "network", ObjectID: n.ID,
		Action: api.RBACAccessShared, TargetTenant: grantedID})
	require.NoError(t, err)
	t.Cleanup(func() {
		deleteQuietly(t, "rbac policy "+pol.ID, adminClient(t).DeleteRBACPolicy(context.Background(), pol.ID))
	})

	// Granted: rbac-granted sees it as shared and plugs a VM in on host2,
	// which reaches the owner's VM on host1 and back.
	seen, err := granted.GetNetwork(ctx, n.ID)
	require.NoError(t, err)
	require.True(t, seen.Shared, "the granted project sees shared=true")
	start := time.Now()
	gvms := createVMs(t, ctx, vmSpec{Name: "rbac-granted1", Network: n, Host: 2, Project: rbacGranted, AsMember: true})
	gvm := gvms[0]
	took := waitPing(t, ctx, gvm.Name, ownVM.IP.Addr().String(), 20*time.Second)
	waitPing(t, ctx, ownVM.Name, gvm.IP.Addr().String(), 5*time.Second)
	require.Zero(t, pingLoss(t, ctx, gvm.Name, ownVM.IP.Addr().String(), 10), "pings from the granted VM to the owner's")
	t.Logf("FIGURE: RBAC grant: granted project's VM plugged and reaching the owner's VM across hosts %v after the port create (%v of it waiting for the first ping)",
		time.Since(start).Round(time.Millisecond), took.Round(time.Millisecond))

	// Not granted: rbac-other still finds nothing.
	_, err = other.GetNetwork(ctx, n.ID)
	requireAPIError(t, err, 404, "NetworkNotFound", "rbac-other shows the network")
	_, err = other.CreatePort(ctx, client.PortCreate{NetworkID: n.ID})
	requireAPIError(t, err, 404, "NetworkNotFound", "rbac-other creates a port")
	nets, err := other.ListNetworks(ctx, nil)
	require.NoError(t, err)
	for _, x := range nets {
		require.NotEqual(t, n.ID, x.ID, "rbac-other lists the network")
	}

	// Revoking while the granted VM is plugged is refused.
	err = owner.DeleteRBACPolicy(ctx, pol.ID)
	requireAPIError(t, err, 409, "RbacPolicyInUse", "revoke while the granted project's VM is plugged")
	require.Zero(t, pingLoss(t, ctx, gvm.Name, ownVM.IP.Addr().String(), 5), "the refused revoke must not disturb traffic")

	// Once the VM is gone the revoke goes through, and nothing of
	// rbac-granted attaches any more.
	require.NoError(t, l.DeleteVM(ctx, gvm.Name))
	require.NoError(t, owner.DeleteRBACPolicy(ctx, pol.ID))
	_, err = granted.GetNetwork(ctx, n.ID)
	requireAPIError(t, err, 404, "NetworkNotFound", "rbac-granted shows the network after the revoke")
	_, err = granted.CreatePort(ctx, client.PortCreate{NetworkID: n.ID})
	requireAPIError(t, err, 404, "NetworkNotFound", "rbac-granted creates a port after the revoke")
	_, err = l.CreateVM(ctx, lab.VMSpec{Name: "rbac-late", Network: n.ID, Host: "host2", Project: rbacGranted, AsMember: true})
	require.Error(t, err, "a VM of rbac-granted plugged into the network after the revoke")
	ports, err := adminClient(t).ListPorts(ctx, map[string][]string{"network_id": {n.ID}})
	require.NoError(t, err)
	for _, p := range ports {
		require.Equal(t, ownVM.ProjectID, p.ProjectID, "a port of another project is on the network after the revoke: %+v", p)
	}
}
