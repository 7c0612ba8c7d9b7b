package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"

	"github.com/vland/vland/internal/link"
	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/ovs/daemon"
)

// The simulated external network of a lab built with Config.External: a
// flat provider network (physnet "public") cabled from the network node's
// br-ex to a namespace LAB-ext that plays the upstream router and an
// "internet" host. Its addresses are documentation ranges, and live only in
// the lab's namespaces.
const (
	ExternalPhysnet = "public"
	externalBridge  = "br-ex"
	externalNIC     = "eth2"
	uplinkNIC       = "uplink"
	segmentBridge   = "seg"
)

var (
	// ExternalCIDR is the external subnet; ExternalGateway is LAB-ext's
	// address on it, the gateway routers use.
	ExternalCIDR    = netip.MustParsePrefix("203.0.113.0/24")
	ExternalGateway = netip.MustParseAddr("203.0.113.1")
	// InternetIP is a host "on the internet", beyond the gateway (on LAB-ext's lo).
	InternetIP = netip.MustParseAddr("198.51.100.10")
)

// ExternalState records a lab's external network.
type ExternalState struct {
	NetNS      string       `json:"netns"`
	Physnet    string       `json:"physnet"`
	Bridge     string       `json:"bridge"`
	CIDR       netip.Prefix `json:"cidr"`
	Gateway    netip.Addr   `json:"gateway"`
	InternetIP netip.Addr   `json:"internet_ip"`
}

func extNetNS(lab string) string { return lab + "-ext" }

func newExternalState(lab string) *ExternalState {
	return &ExternalState{NetNS: extNetNS(lab), Physnet: ExternalPhysnet, Bridge: externalBridge,
		CIDR: ExternalCIDR, Gateway: ExternalGateway, InternetIP: InternetIP}
}

// buildExternal cables every network node to the external namespace: eth2
// on an OVS netdev bridge br-ex in the host, its peer uplinkN on a Linux
// bridge in LAB-ext (the external segment) that holds the gateway
// address, and the internet host's address on LAB-ext's lo.
func buildExternal(ctx context.Context, st *State, ovs map[int]*daemon.OVS) error {
	ext := st.External
	if err := netns.Create(ext.NetNS); err != nil {
		return err
	}
	h, err := link.Open(ext.NetNS)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.AddBridge(segmentBridge); err != nil {
		return err
	}
	if err := h.AddAddr(segmentBridge, netip.PrefixFrom(ext.Gateway, ext.CIDR.Bits())); err != nil {
		return err
	}
	if err := h.AddAddr("lo", netip.PrefixFrom(ext.InternetIP, 32)); err != nil {
		return err
	}
	for i, hs := range st.Hosts {
		if !hs.NetworkNode {
			continue
		}
		host, up := hs.NetNS, fmt.Sprintf("%s%d", uplinkNIC, i+1)
		if err := link.AddVeth(link.End{NS: host, Name: externalNIC}, link.End{NS: ext.NetNS, Name: up}); err != nil {
			return err
		}
		if err := upWithOffloadOff(ctx, host, externalNIC); err != nil {
			return err
		}
		if err := h.SetMaster(up, segmentBridge); err != nil {
			return err
		}
		if err := upWithOffloadOff(ctx, ext.NetNS, up); err != nil {
			return err
		}
		_, err = ovs[i+1].Vsctl(ctx, "--may-exist", "add-br", ext.Bridge, "--", "set", "Bridge", ext.Bridge, "datapath_type=netdev",
			"--", "--may-exist", "add-port", ext.Bridge, externalNIC)
		if err != nil {
			return fmt.Errorf("lab: %s on %s: %w", ext.Bridge, host, err)
		}
	}
	return nil
}

func upWithOffloadOff(ctx context.Context, ns, name string) error {
	h, err := link.Open(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	return errors.Join(h.SetUp(name), link.TxOffloadOff(ctx, ns, name))
}

// ExternalCommand returns a command running argv in the external namespace
// (the upstream router / internet host). It fails unless the lab was built
// with Config.External.
func (l *Lab) ExternalCommand(ctx context.Context, argv ...string) (*exec.Cmd, error) {
	if l.st.External == nil {
		return nil, fmt.Errorf("%w: lab %s has no external network (build it with --external)", ErrBadConfig, l.st.Name)
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("%w: no command", ErrBadConfig)
	}
	return netns.Command(ctx, l.st.External.NetNS, argv...), nil
}

// ExternalExec runs argv in the external namespace and returns its output.
func (l *Lab) ExternalExec(ctx context.Context, argv ...string) ([]byte, error) {
	cmd, err := l.ExternalCommand(ctx, argv...)
	if err != nil {
		return nil, err
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("lab: external: %v: %w", argv, err)
	}
	return out, nil
}
