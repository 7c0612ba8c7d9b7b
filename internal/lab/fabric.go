package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"time"

	"github.com/vland/vland/internal/link"
	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/ovs/daemon"
)

// Link names inside the lab's own namespaces; namespaces keep them apart, so
// they need no prefix.
const (
	fabricBridge = "br-fab" // the underlay switch, in LAB-fab
	dataNIC      = "eth1"   // a host's data NIC, in LAB-hN
	phyBridge    = "br-phy" // the OVS bridge carrying the underlay IP
)

// buildFabric creates the fabric namespace and its Linux bridge: the
// physical switch every host's data NIC is cabled to.
func buildFabric(lab string) error {
	ns := fabricNetNS(lab)
	if err := netns.Create(ns); err != nil {
		return err
	}
	h, err := link.Open(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	return h.AddBridge(fabricBridge)
}

// cableHost creates host i's data NIC: eth1 in the host namespace, its peer
// hI on the fabric bridge. Checksum offload goes off on both ends: eth1
// feeds OVS, whose userspace datapath never completes partial checksums.
func cableHost(ctx context.Context, lab string, i int) error {
	hostNS, fabNS := hostNetNS(lab, i), fabricNetNS(lab)
	peer := fmt.Sprintf("h%d", i)
	if err := link.AddVeth(link.End{NS: hostNS, Name: dataNIC}, link.End{NS: fabNS, Name: peer}); err != nil {
		return err
	}
	fab, err := link.Open(fabNS)
	if err != nil {
		return err
	}
	defer fab.Close()
	if err := fab.SetMaster(peer, fabricBridge); err != nil {
		return err
	}
	if err := fab.SetUp(peer); err != nil {
		return err
	}
	host, err := link.Open(hostNS)
	if err != nil {
		return err
	}
	defer host.Close()
	if err := host.SetUp(dataNIC); err != nil {
		return err
	}
	return errors.Join(
		link.TxOffloadOff(ctx, hostNS, dataNIC),
		link.TxOffloadOff(ctx, fabNS, peer),
	)
}

// setupPhyBridge does what OVS userspace tunnelling needs: an OVS netdev
// bridge br-phy holding the data NIC, with the underlay IP on br-phy's own
// (tap) device, so ovs-vswitchd routes and ARPs tunnel traffic through it.
func setupPhyBridge(ctx context.Context, o *daemon.OVS, ns string, ip netip.Prefix) error {
	_, err := o.Vsctl(ctx,
		"--may-exist", "add-br", phyBridge, "--", "set", "Bridge", phyBridge, "datapath_type=netdev",
		"--", "--may-exist", "add-port", phyBridge, dataNIC)
	if err != nil {
		return fmt.Errorf("lab: %s on %s: %w", phyBridge, ns, err)
	}
	h, err := link.Open(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	// ovs-vswitchd creates the tap asynchronously after the transaction.
	if err := waitFor(ctx, 10*time.Second, func() bool { return h.Exists(phyBridge) }); err != nil {
		return fmt.Errorf("lab: %s tap in %s: %w", phyBridge, ns, err)
	}
	if err := h.AddAddr(phyBridge, ip); err != nil {
		return err
	}
	if err := h.SetUp(phyBridge); err != nil {
		return err
	}
	return link.TxOffloadOff(ctx, ns, phyBridge)
}

// waitFor polls cond until it holds, d passes or ctx ends.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// FabricCommand returns a command running argv in the fabric namespace,
// where host i's data NIC is cabled as hI on the underlay bridge: e.g.
// tcpdump -i h3 sees everything the underlay delivers to host 3.
func (l *Lab) FabricCommand(ctx context.Context, argv ...string) *exec.Cmd {
	return netns.Command(ctx, fabricNetNS(l.st.Name), argv...)
}
