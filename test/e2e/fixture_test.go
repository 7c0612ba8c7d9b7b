package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/probe"
)

// testCtx is a context for one test, cancelled at its end.
func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// netSpec is a tenant network with one IPv4 subnet, created by admin on
// behalf of a project.
type netSpec struct {
	Name    string
	Project string // name; created on first use
	Type    string // provider:network_type, "" for the server's default
	Segment int    // provider:segmentation_id, 0 to allocate
	CIDR    string
	Pool    *api.AllocationPool
	// DNSDomain is the network's dns_domain; "" for the default.
	DNSDomain string
}

// makeNetwork creates the network and its subnet, and deletes both when
// the test ends (after its VMs, which are cleaned up later-registered-first).
func makeNetwork(t *testing.T, ctx context.Context, s netSpec) (api.Network, api.Subnet) {
	t.Helper()
	c := adminClient(t)
	project, err := c.ProjectID(ctx, s.Project)
	require.NoError(t, err)
	req := client.NetworkCreate{Name: s.Name, ProjectID: project, NetworkType: s.Type, DNSDomain: s.DNSDomain}
	if s.Segment != 0 {
		req.SegmentationID = &s.Segment
	}
	n, err := c.CreateNetwork(ctx, req)
	require.NoError(t, err, "create network %s", s.Name)
	t.Cleanup(func() { deleteQuietly(t, "network "+n.ID, c.DeleteNetwork(context.Background(), n.ID)) })
	sreq := client.SubnetCreate{Name: s.Name + "-sub", ProjectID: project, NetworkID: n.ID, IPVersion: 4, CIDR: s.CIDR}
	if s.Pool != nil {
		sreq.AllocationPools = []api.AllocationPool{*s.Pool}
	}
	sub, err := c.CreateSubnet(ctx, sreq)
	require.NoError(t, err, "create subnet of %s", s.Name)
	t.Cleanup(func() { deleteQuietly(t, "subnet "+sub.ID, c.DeleteSubnet(context.Background(), sub.ID)) })
	n, err = c.GetNetwork(ctx, n.ID)
	require.NoError(t, err)
	if s.Type != "" {
		require.Equal(t, s.Type, n.NetworkType, "network %s type", s.Name)
	}
	return n, sub
}

func deleteQuietly(t *testing.T, what string, err error) {
	if err != nil && !errors.Is(err, client.ErrNotFound) {
		t.Logf("cleanup: delete %s: %v", what, err)
	}
}

// vmSpec asks for a VM; Host is a host number.
type vmSpec struct {
	Name    string
	Network api.Network
	Host    int
	IP      string // "" to let the server allocate
	Project string
	// AsMember creates the port as Project's member (lab.VMSpec.AsMember).
	AsMember bool
	// DNSName is the port's dns_name; "" for host-A-B-C-D.
	DNSName string
}

// createVMs creates the VMs one by one, deletes them at the end of the
// test, and waits until every port is ACTIVE (its host wired it).
func createVMs(t *testing.T, ctx context.Context, specs ...vmSpec) []*lab.VM {
	t.Helper()
	l := sharedLab(t)
	var vms []*lab.VM
	// Registered first, so it runs after the VMs' deletion.
	t.Cleanup(func() { requireUnplugged(t, l, vms) })
	for _, s := range specs {
		vm, err := l.CreateVM(ctx, lab.VMSpec{Name: s.Name, Network: s.Network.ID,
			Host: fmt.Sprintf("host%d", s.Host), IP: s.IP, Project: s.Project, AsMember: s.AsMember,
			// Data-plane tests set addresses directly (faster; some move them by hand).
			NoDHCP: true})
		require.NoError(t, err, "create vm %s", s.Name)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := l.DeleteVM(ctx, vm.Name); err != nil && !errors.Is(err, lab.ErrNoSuchVM) {
				t.Errorf("delete vm %s: %v", vm.Name, err)
			}
		})
		vms = append(vms, vm)
	}
	for _, vm := range vms {
		waitActive(t, ctx, vm.PortID)
	}
	return vms
}

// requireUnplugged checks that deleted VMs stay unplugged: nothing (an
// agent reconciling at that very moment) puts their ports back on br-int.
// A resurrected port shows up within one reconcile, hence the short pause.
func requireUnplugged(t *testing.T, l *lab.Lab, vms []*lab.VM) {
	if len(vms) == 0 {
		return
	}
	time.Sleep(500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, vm := range vms {
		hi, err := l.ParseHost(vm.Host)
		require.NoError(t, err)
		out, err := l.HostExec(ctx, hi, "ovs-vsctl", "list-ports", "br-int")
		require.NoError(t, err, "%s", out)
		if slices.Contains(strings.Fields(string(out)), vm.Tap) {
			t.Errorf("%s: port %s of deleted VM %s is (again) on br-int", vm.Host, vm.Tap, vm.Name)
		}
	}
}

// waitActive waits until the port's status is ACTIVE.
func waitActive(t *testing.T, ctx context.Context, portID string) api.Port {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	p, err := adminClient(t).WaitPortStatus(wctx, portID, api.StatusActive, 100*time.Millisecond)
	require.NoError(t, err)
	return p
}

// endpoints describes VMs for probe.Matrix; VMs of one network form a group.
func endpoints(vms []*lab.VM) []probe.Endpoint {
	var eps []probe.Endpoint
	for _, vm := range vms {
		eps = append(eps, probe.Endpoint{Name: vm.Name, Project: vm.NetworkID, IP: vm.IP.Addr().String(), MAC: vm.MAC, NetNS: vm.NetNS})
	}
	return eps
}

// pingOnce reports whether one short ping from vm to ip is answered.
func pingOnce(ctx context.Context, l *lab.Lab, vm, ip string, extra ...string) bool {
	argv := append([]string{"ping", "-c", "1", "-W", "1", "-q"}, extra...)
	_, err := l.Exec(ctx, vm, append(argv, ip)...)
	return err == nil
}

// waitPing waits until vm reaches ip (the data plane converged) and returns
// how long it took.
func waitPing(t *testing.T, ctx context.Context, vm, ip string, within time.Duration, extra ...string) time.Duration {
	t.Helper()
	l := sharedLab(t)
	start := time.Now()
	for !pingOnce(ctx, l, vm, ip, extra...) {
		if time.Since(start) > within || ctx.Err() != nil {
			t.Fatalf("%s cannot reach %s within %v", vm, ip, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}

// pingLoss pings count times from vm and returns the percentage lost.
func pingLoss(t *testing.T, ctx context.Context, vm, ip string, count int, extra ...string) int {
	t.Helper()
	argv := append([]string{"ping", "-c", fmt.Sprint(count), "-i", "0.2", "-W", "1", "-q"}, extra...)
	out, _ := sharedLab(t).Exec(ctx, vm, append(argv, ip)...)
	st, err := parsePingStats(string(out))
	require.NoError(t, err, "ping output:\n%s", out)
	require.Equal(t, count, st.Transmitted, "ping output:\n%s", out)
	return 100 * (st.Transmitted - st.Received) / st.Transmitted
}

// vmExec runs a command in a VM and fails the test if it fails.
func vmExec(t *testing.T, ctx context.Context, vm string, argv ...string) string {
	t.Helper()
	out, err := sharedLab(t).Exec(ctx, vm, argv...)
	require.NoError(t, err, "%s: %s", strings.Join(argv, " "), out)
	return string(out)
}
