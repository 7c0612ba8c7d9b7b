package bench

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/link"
	"github.com/vland/vland/internal/netns"
)

// benchVM is a VM the benchmark plugs itself. lab.CreateVM holds the lab's
// file lock across its API calls and plumbing, so concurrent CreateVMs run
// one at a time and a timer started before CreateVM would also count the
// wait for the lock. The benchmark therefore creates the port itself (t0 is
// just before POST /v2.0/ports) and then plumbs the VM the way CreateVM
// does (namespace LAB-vm-NAME, veth, tap in br-int with os-vif's
// external_ids), so lab.Down still removes it with the lab.
type benchVM struct {
	Name   string
	Host   int // 1-based
	NetNS  string
	Tap    string
	PortID string
	IP     netip.Addr
}

// createPort is the API half of a VM: a compute port bound to host hi.
func createPort(ctx context.Context, c *client.Client, l *lab.Lab, name string, hi int, network api.Network) (*benchVM, api.Port, error) {
	h, err := l.HostInfo(hi)
	if err != nil {
		return nil, api.Port{}, err
	}
	port, err := c.CreatePort(ctx, client.PortCreate{Name: name, NetworkID: network.ID,
		DeviceID: "bench-" + name, DeviceOwner: "compute:nova", BindingHostID: h.Name})
	if err != nil {
		return nil, port, fmt.Errorf("bench: port for %s: %w", name, err)
	}
	vm := &benchVM{Name: name, Host: hi, NetNS: l.Name() + "-vm-" + name, Tap: "tap" + port.ID[:11], PortID: port.ID}
	if len(port.FixedIPs) == 0 {
		return vm, port, fmt.Errorf("bench: port %s has no fixed IP", port.ID)
	}
	if vm.IP, err = netip.ParseAddr(port.FixedIPs[0].IPAddress); err != nil {
		return vm, port, fmt.Errorf("bench: port %s: %w", port.ID, err)
	}
	return vm, port, nil
}

// plug is the hypervisor half, as lab.CreateVM does it: namespace, veth
// with the port's MAC and the network's MTU, tx checksum offload off on
// both ends, address and default route, tap into br-int with iface-id.
// One difference, for measurement only: the VM's ARP retransmit time is
// 10 ms instead of Linux's 1 s, so a ping retry loop sees the data path
// come up within ~10 ms rather than at the next 1 s ARP retry.
func plug(ctx context.Context, l *lab.Lab, vm *benchVM, port api.Port, sub api.Subnet, mtu int) error {
	hostNS, o, err := l.Host(vm.Host)
	if err != nil {
		return err
	}
	mac, err := net.ParseMAC(port.MACAddress)
	if err != nil {
		return fmt.Errorf("bench: mac %q: %w", port.MACAddress, err)
	}
	if err := netns.Create(vm.NetNS); err != nil {
		return err
	}
	if err := link.AddVeth(link.End{NS: vm.NetNS, Name: "eth0", MAC: mac, MTU: mtu},
		link.End{NS: hostNS, Name: vm.Tap, MTU: mtu}); err != nil {
		return err
	}
	if err := configureVM(ctx, vm, sub); err != nil {
		return err
	}
	if err := link.TxOffloadOff(ctx, hostNS, vm.Tap); err != nil {
		return err
	}
	if err := setUp(hostNS, vm.Tap); err != nil {
		return err
	}
	_, err = o.Vsctl(ctx, "--may-exist", "add-port", "br-int", vm.Tap, "--", "set", "Interface", vm.Tap,
		"external_ids:iface-id="+port.ID,
		"external_ids:attached-mac="+port.MACAddress,
		"external_ids:iface-status=active",
		"external_ids:vm-uuid="+port.DeviceID)
	if err != nil {
		return fmt.Errorf("bench: plug %s into br-int on host%d: %w", vm.Tap, vm.Host, err)
	}
	return nil
}

func configureVM(ctx context.Context, vm *benchVM, sub api.Subnet) error {
	err := netns.Do(vm.NetNS, func() error {
		return os.WriteFile("/proc/sys/net/ipv4/neigh/eth0/retrans_time_ms", []byte("10"), 0o644)
	})
	if err != nil {
		return fmt.Errorf("bench: arp retransmit in %s: %w", vm.NetNS, err)
	}
	if err := link.TxOffloadOff(ctx, vm.NetNS, "eth0"); err != nil {
		return err
	}
	cidr, err := netip.ParsePrefix(sub.CIDR)
	if err != nil {
		return fmt.Errorf("bench: subnet cidr: %w", err)
	}
	h, err := link.Open(vm.NetNS)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.SetUp("eth0"); err != nil {
		return err
	}
	if err := h.AddAddr("eth0", netip.PrefixFrom(vm.IP, cidr.Bits())); err != nil {
		return err
	}
	if sub.GatewayIP != nil && *sub.GatewayIP != "" {
		gw, err := netip.ParseAddr(*sub.GatewayIP)
		if err != nil {
			return fmt.Errorf("bench: gateway: %w", err)
		}
		return h.AddDefaultRoute("eth0", gw)
	}
	return nil
}

func setUp(ns, name string) error {
	h, err := link.Open(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	return h.SetUp(name)
}
