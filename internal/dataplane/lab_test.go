package dataplane

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/ovs/daemon"
	"github.com/vland/vland/internal/ovs/daemon/daemontest"
	"github.com/vland/vland/internal/testutil"
)

// labHost is one simulated host: a namespace with its own OVS, an underlay
// IP on br-phy, and a Dataplane.
type labHost struct {
	name string
	ovs  *daemon.OVS
	ip   netip.Addr
	dp   *Dataplane
}

// labVM is a VM: a namespace whose eth0 is a veth plugged into br-int.
type labVM struct {
	ns, hostIf string
	host       *labHost
	port       hoststate.Port
}

type lab struct {
	t      *testing.T
	prefix string
	hosts  []*labHost
	vms    []*labVM
	nets   map[string]hoststate.Network
	// mappings are the hosts' bridge_mappings (physnet -> bridge).
	mappings map[string]string
}

func run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func inNS(ns string, args ...string) []string {
	return append([]string{"ip", "netns", "exec", ns}, args...)
}

// newLab builds n hosts whose underlay NICs sit on one veth pair (n = 2).
func newLab(t *testing.T) *lab {
	testutil.RequireOVS(t)
	testutil.RequireBinary(t, "ethtool", "ping")
	l := &lab{t: t, prefix: testutil.Prefix(), nets: map[string]hoststate.Network{}}
	u1, u2 := l.prefix+"u1", l.prefix+"u2"
	run(t, "ip", "link", "add", u1, "type", "veth", "peer", "name", u2)
	t.Cleanup(func() { exec.Command("ip", "link", "del", u1).Run() }) // gone with the namespaces normally
	for i, nic := range []string{u1, u2} {
		h := &labHost{name: fmt.Sprintf("host%d", i+1), ovs: daemontest.Start(t), ip: netip.AddrFrom4([4]byte{10, 99, 0, byte(i + 1)})}
		l.setupUnderlay(h, nic)
		l.hosts = append(l.hosts, h)
	}
	return l
}

// setupUnderlay moves nic into the host, puts it on br-phy and the host's
// underlay IP on br-phy: userspace tunnels route through an OVS bridge.
func (l *lab) setupUnderlay(h *labHost, nic string) {
	t, ns, ctx := l.t, h.ovs.NetNS(), context.Background()
	run(t, "ip", "link", "set", nic, "netns", ns)
	run(t, inNS(ns, "ethtool", "-K", nic, "tx", "off")...)
	run(t, inNS(ns, "ip", "link", "set", nic, "up")...)
	run(t, inNS(ns, "ip", "link", "set", "lo", "up")...)
	if _, err := h.ovs.Vsctl(ctx, "add-br", "br-phy", "--", "set", "Bridge", "br-phy", "datapath_type=netdev",
		"--", "add-port", "br-phy", nic); err != nil {
		t.Fatal(err)
	}
	run(t, inNS(ns, "ip", "addr", "add", h.ip.String()+"/24", "dev", "br-phy")...)
	run(t, inNS(ns, "ip", "link", "set", "br-phy", "up")...)
}

// start creates and starts the host's Dataplane.
func (l *lab) start(h *labHost, types ...string) {
	h.dp = New(Config{
		Host: h.name, DatapathType: "netdev", OVSDB: h.ovs.DBSock(), RunDir: h.ovs.RunDir(), NetNS: h.ovs.NetNS(),
		LocalIP: h.ip, TunnelTypes: types, CanaryInterval: 200 * time.Millisecond,
		BridgeMappings: l.mappings,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.dp.Start(ctx); err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(h.dp.Close)
}

// addVM plugs a VM with the given MAC and IP into host h for network net.
func (l *lab) addVM(h *labHost, name, net, mac, cidr string) *labVM {
	t := l.t
	vm := &labVM{ns: l.prefix + name, hostIf: l.prefix + name + "h", host: h}
	pfx := netip.MustParsePrefix(cidr)
	vm.port = hoststate.Port{ID: "port-" + name, NetworkID: net, MAC: mac, IPs: []netip.Addr{pfx.Addr()},
		PortSecurity: true, AdminStateUp: true, DeviceOwner: "compute:nova"}
	daemontest.NetNS(t, vm.ns)
	guest := l.prefix + name + "g"
	run(t, "ip", "link", "add", vm.hostIf, "mtu", "1450", "type", "veth", "peer", "name", guest, "mtu", "1450")
	run(t, "ip", "link", "set", guest, "netns", vm.ns)
	run(t, inNS(vm.ns, "ip", "link", "set", guest, "name", "eth0")...)
	run(t, inNS(vm.ns, "ip", "link", "set", "eth0", "address", mac)...)
	run(t, inNS(vm.ns, "ethtool", "-K", "eth0", "tx", "off")...)
	run(t, inNS(vm.ns, "ip", "addr", "add", cidr, "dev", "eth0")...)
	run(t, inNS(vm.ns, "ip", "link", "set", "eth0", "up")...)
	run(t, "ip", "link", "set", vm.hostIf, "netns", h.ovs.NetNS())
	run(t, inNS(h.ovs.NetNS(), "ethtool", "-K", vm.hostIf, "tx", "off")...)
	run(t, inNS(h.ovs.NetNS(), "ip", "link", "set", vm.hostIf, "up")...)
	if _, err := h.ovs.Vsctl(context.Background(), "add-port", "br-int", vm.hostIf, "--", "set", "Interface", vm.hostIf,
		"external_ids:iface-id="+vm.port.ID, "external_ids:attached-mac="+mac); err != nil {
		t.Fatal(err)
	}
	l.vms = append(l.vms, vm)
	return vm
}

// state computes host h's State from the lab's VMs, as the agent would.
func (l *lab) state(h *labHost, types ...string) hoststate.State {
	s := hoststate.State{Host: h.name, LocalIP: h.ip, TunnelTypes: types, BridgeMappings: l.mappings,
		Networks: map[string]hoststate.Network{}, Ports: map[string]hoststate.Port{}}
	for _, vm := range l.vms {
		if vm.host == h {
			s.Ports[vm.port.ID] = vm.port
			s.Networks[vm.port.NetworkID] = l.nets[vm.port.NetworkID]
		}
	}
	for _, o := range l.hosts {
		if o == h {
			continue
		}
		peer := hoststate.Peer{Host: o.name, IP: o.ip}
		for _, vm := range l.vms {
			if _, mine := s.Networks[vm.port.NetworkID]; vm.host == o && mine && !containsStr(peer.Networks, vm.port.NetworkID) {
				peer.Networks = append(peer.Networks, vm.port.NetworkID)
			}
		}
		if len(peer.Networks) > 0 {
			s.Peers = append(s.Peers, peer)
		}
	}
	return s
}

func containsStr(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// applyAll applies every host's state and fails on error.
func (l *lab) applyAll(types ...string) map[string]hoststate.PortResult {
	l.t.Helper()
	res := map[string]hoststate.PortResult{}
	for _, h := range l.hosts {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		rs, err := h.dp.Apply(ctx, l.state(h, types...))
		cancel()
		if err != nil {
			l.t.Fatalf("apply %s: %v", h.name, err)
		}
		for _, r := range rs {
			res[r.PortID] = r
		}
	}
	return res
}

// ping reports whether vm reaches ip (a few tries: ARP and learning).
func (vm *labVM) ping(ip string) bool {
	err := exec.Command("ip", "netns", "exec", vm.ns, "ping", "-c", "1", "-W", "1", "-w", "3", ip).Run()
	return err == nil
}

// neighMAC returns the MAC vm resolved for ip.
func (vm *labVM) neighMAC(t testing.TB, ip string) string {
	out := run(t, inNS(vm.ns, "ip", "neigh", "show", ip)...)
	f := strings.Fields(out)
	for i := range f {
		if f[i] == "lladdr" && i+1 < len(f) {
			return f[i+1]
		}
	}
	return ""
}

func (h *labHost) dumpFlows(t testing.TB, bridge string, match ...string) string {
	args := append([]string{"dump-flows", bridge}, match...)
	out, err := h.ovs.Ofctl(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// connectProvider links bridge br of both hosts with a veth pair, as a
// physical provider network (a switch between the hosts' NICs).
func (l *lab) connectProvider(br string) {
	t := l.t
	e1, e2 := l.prefix+"e1", l.prefix+"e2"
	run(t, "ip", "link", "add", e1, "type", "veth", "peer", "name", e2)
	for i, nic := range []string{e1, e2} {
		h := l.hosts[i]
		run(t, "ip", "link", "set", nic, "netns", h.ovs.NetNS())
		run(t, inNS(h.ovs.NetNS(), "ethtool", "-K", nic, "tx", "off")...)
		run(t, inNS(h.ovs.NetNS(), "ip", "link", "set", nic, "up")...)
		if _, err := h.ovs.Vsctl(context.Background(), "add-port", br, nic); err != nil {
			t.Fatal(err)
		}
	}
}
