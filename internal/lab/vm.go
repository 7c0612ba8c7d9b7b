package lab

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/link"
	"github.com/vland/vland/internal/netns"
)

// VMSpec asks for a VM.
type VMSpec struct {
	// Name of the VM, [a-z0-9][a-z0-9_-]{0,31}; its namespace is LAB-vm-NAME.
	Name string
	// Network name or ID the VM's port is on.
	Network string
	// Host the VM runs on ("hostN", "N"); "" picks the host with fewest VMs.
	Host string
	// IP asks for a fixed address; "" lets the server allocate one.
	IP string
	// DNSName is the port's dns_name (extension dns-integration): the
	// name the network's DNS answers for the VM; "" gives host-A-B-C-D.
	DNSName string
	// Project (name or ID) owning the port, created on first use; "" is admin's.
	Project string
	// DHCP configures the VM's NIC with a DHCP client instead of the
	// port's fixed IP; CreateVM returns once it has a lease. Without IP
	// (and NoDHCP) this is the default when a lab host holds the dhcp
	// role and the port's subnet has DHCP enabled, as a booting guest.
	DHCP bool
	// NoDHCP sets the port's fixed IP on the NIC directly even without IP.
	NoDHCP bool
	// AsMember creates the port as Project's member user (Project must be
	// one of Config.Members) instead of as admin, so the project's own
	// permissions apply (e.g. on another project's network shared with it
	// by an RBAC policy). The port is still bound to the host as admin.
	AsMember bool
	// UserData is the VM's user data, served by the metadata service at
	// 169.254.169.254 (/openstack/latest/user_data, /latest/user-data).
	UserData []byte
	// NoWait returns once the VM is plugged. By default CreateVM waits, as
	// Nova waits for network-vif-plugged, until the host's agent has wired
	// the port and reported it ACTIVE.
	NoWait bool
}

// activeTimeout bounds the wait for a plugged port to become ACTIVE.
const activeTimeout = 30 * time.Second

const (
	vmNIC         = "eth0"
	vmDeviceOwner = "compute:nova"
	defaultVMMTU  = 1450
	brInt         = "br-int"
	brIntWait     = 30 * time.Second
)

var vmNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// CreateVM creates a VM: a port bound to the host through the API (device
// owner compute:nova, device id the VM's UUID), a namespace LAB-vm-NAME
// whose eth0 has the port's MAC, the network's MTU and the port's fixed IPs
// (plus a default route via the subnet's gateway) or, with DHCP (the
// default without IP, see VMSpec.DHCP), a DHCP client, and the other end
// tapXXXXXXXXXXX in the host namespace, plugged into br-int with the
// external_ids Nova's os-vif sets (iface-id, attached-mac, iface-status,
// vm-uuid). On failure nothing is left behind.
func (l *Lab) CreateVM(ctx context.Context, spec VMSpec) (*VM, error) {
	if !vmNameRE.MatchString(spec.Name) {
		return nil, fmt.Errorf("%w: vm name %q must match %s", ErrBadConfig, spec.Name, vmNameRE)
	}
	if spec.DHCP && spec.NoDHCP {
		return nil, fmt.Errorf("%w: vm %s: DHCP and NoDHCP both set", ErrBadConfig, spec.Name)
	}
	unlock, err := lock(l.st.Dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Stat(vmPath(l.st.Dir, spec.Name)); err == nil || netns.Exists(vmNetNS(l.st.Name, spec.Name)) {
		return nil, fmt.Errorf("%w: vm %s", ErrExists, spec.Name)
	}
	hi, err := l.pickHost(spec.Host)
	if err != nil {
		return nil, err
	}
	vm, subnetDHCP, err := l.createPort(ctx, spec, hi)
	if err != nil {
		return nil, err
	}
	if spec.IP == "" && !spec.NoDHCP && subnetDHCP && l.hasDHCPHost() {
		spec.DHCP = true
	}
	if spec.DHCP {
		// The DHCP client sets address and MTU: the VM starts without an
		// address, at Ethernet's MTU, as a booting guest does.
		vm.IP, vm.Gateway, vm.MTU = netip.Prefix{}, netip.Addr{}, 1500
	}
	if err := l.plug(ctx, hi, vm); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return nil, errors.Join(err, l.unplug(cctx, vm))
	}
	if !spec.NoWait || spec.DHCP {
		wctx, cancel := context.WithTimeout(ctx, activeTimeout)
		defer cancel()
		if _, err := l.Client().WaitPortStatus(wctx, vm.PortID, api.StatusActive, 20*time.Millisecond); err != nil {
			return vm, fmt.Errorf("lab: vm %s plugged but port %s not ACTIVE (is the agent of %s running?): %w", vm.Name, vm.PortID, vm.Host, err)
		}
	}
	if spec.DHCP {
		if err := l.startDHCP(ctx, vm); err != nil {
			return vm, err
		}
	}
	return vm, nil
}

// pickHost resolves the requested host, or picks the one with fewest VMs.
func (l *Lab) pickHost(want string) (int, error) {
	if want != "" {
		return l.ParseHost(want)
	}
	vms, err := readVMs(l.st.Dir)
	if err != nil {
		return 0, err
	}
	count := map[string]int{}
	for _, vm := range vms {
		count[vm.Host]++
	}
	best := 1
	for i, h := range l.st.Hosts {
		if count[h.Name] < count[l.st.Hosts[best-1].Name] {
			best = i + 1
		}
	}
	return best, nil
}

// hasDHCPHost tells whether a lab host holds the dhcp role.
func (l *Lab) hasDHCPHost() bool {
	for _, h := range l.st.Hosts {
		if slices.Contains(h.Roles, "dhcp") {
			return true
		}
	}
	return false
}

// createPort creates the VM's port through the API and works out its
// addressing from the network and subnets; it also tells whether the
// port's subnet has DHCP enabled.
func (l *Lab) createPort(ctx context.Context, spec VMSpec, hi int) (*VM, bool, error) {
	c := l.Client()
	network, err := c.FindNetwork(ctx, spec.Network)
	if err != nil {
		return nil, false, fmt.Errorf("lab: network %q: %w", spec.Network, err)
	}
	vm := &VM{Name: spec.Name, Host: l.st.Hosts[hi-1].Name, NetNS: vmNetNS(l.st.Name, spec.Name),
		UUID: newUUID(), NetworkID: network.ID, MTU: network.MTU}
	if vm.MTU == 0 {
		vm.MTU = defaultVMMTU
	}
	if vm.ProjectID, err = c.ProjectID(ctx, spec.Project); err != nil {
		return nil, false, fmt.Errorf("lab: project %q: %w", spec.Project, err)
	}
	req := client.PortCreate{Name: spec.Name, ProjectID: vm.ProjectID, NetworkID: network.ID,
		DeviceID: vm.UUID, DeviceOwner: vmDeviceOwner, BindingHostID: vm.Host, DNSName: spec.DNSName}
	if spec.IP != "" {
		req.FixedIPs = []client.FixedIPRequest{{IPAddress: spec.IP}}
	}
	port, err := l.createVMPort(ctx, spec, req)
	if err != nil {
		return nil, false, fmt.Errorf("lab: port for vm %s: %w", spec.Name, err)
	}
	vm.PortID, vm.MAC, vm.Tap = port.ID, port.MACAddress, tapName(port.ID)
	// The lab stands in for Nova: it records the instance (what the
	// metadata service answers), whose id is the port's device_id, in the
	// port's project.
	vm.ProjectID = port.ProjectID
	if err := l.createInstance(ctx, spec, vm); err != nil {
		return nil, false, errors.Join(err, deletePort(ctx, c, port.ID))
	}
	dhcp, err := l.addressing(ctx, vm, port)
	if err != nil {
		return nil, false, errors.Join(err, deletePort(ctx, c, port.ID), deleteInstance(ctx, c, vm.UUID))
	}
	return vm, dhcp, nil
}

// createInstance records the VM as an instance (admin API), as Nova knows
// its servers: id the VM's UUID, name and hostname the VM's name (or its
// dns_name), the port's project, zone nova, the user data.
func (l *Lab) createInstance(ctx context.Context, spec VMSpec, vm *VM) error {
	hostname := spec.Name
	if spec.DNSName != "" {
		hostname = strings.ToLower(strings.TrimSuffix(spec.DNSName, "."))
	}
	hostname = strings.ReplaceAll(hostname, "_", "-")
	_, err := l.Client().CreateInstance(ctx, api.Instance{ID: vm.UUID, Name: spec.Name, Hostname: hostname,
		ProjectID: vm.ProjectID, UserData: spec.UserData})
	if err != nil {
		return fmt.Errorf("lab: instance record of vm %s: %w", spec.Name, err)
	}
	return nil
}

func deleteInstance(ctx context.Context, c *client.Client, id string) error {
	if err := c.DeleteInstance(ctx, id); err != nil && !errors.Is(err, client.ErrNotFound) {
		return fmt.Errorf("lab: delete instance %s: %w", id, err)
	}
	return nil
}

// addressing fills the VM's IP (with the subnet's prefix length) and gateway
// from the port's first fixed IP, and tells whether its subnet has DHCP.
func (l *Lab) addressing(ctx context.Context, vm *VM, port api.Port) (bool, error) {
	if len(port.FixedIPs) == 0 {
		return false, nil
	}
	fip := port.FixedIPs[0]
	sub, err := l.Client().GetSubnet(ctx, fip.SubnetID)
	if err != nil {
		return false, fmt.Errorf("lab: subnet of port %s: %w", port.ID, err)
	}
	cidr, err := netip.ParsePrefix(sub.CIDR)
	if err != nil {
		return false, fmt.Errorf("lab: subnet %s cidr: %w", sub.ID, err)
	}
	addr, err := netip.ParseAddr(fip.IPAddress)
	if err != nil {
		return false, fmt.Errorf("lab: port %s address: %w", port.ID, err)
	}
	vm.IP = netip.PrefixFrom(addr, cidr.Bits())
	if sub.GatewayIP != nil && *sub.GatewayIP != "" {
		if vm.Gateway, err = netip.ParseAddr(*sub.GatewayIP); err != nil {
			return false, fmt.Errorf("lab: subnet %s gateway: %w", sub.ID, err)
		}
	}
	return sub.EnableDHCP, nil
}

// plug builds the VM's namespace and NIC and plugs the tap into br-int.
// The VM file is written first, so a crash midway is still found by DeleteVM.
func (l *Lab) plug(ctx context.Context, hi int, vm *VM) error {
	if err := writeJSON(vmPath(l.st.Dir, vm.Name), vm); err != nil {
		return err
	}
	hostNS := l.st.Hosts[hi-1].NetNS
	mac, err := net.ParseMAC(vm.MAC)
	if err != nil {
		return fmt.Errorf("lab: port mac %q: %w", vm.MAC, err)
	}
	if err := netns.Create(vm.NetNS); err != nil {
		return err
	}
	if err := link.AddVeth(link.End{NS: vm.NetNS, Name: vmNIC, MAC: mac, MTU: vm.MTU},
		link.End{NS: hostNS, Name: vm.Tap, MTU: vm.MTU}); err != nil {
		return err
	}
	if err := configureVMNIC(ctx, vm); err != nil {
		return err
	}
	if err := upTap(ctx, hostNS, vm.Tap); err != nil {
		return err
	}
	return l.plugOVS(ctx, hi, vm)
}

// configureVMNIC does inside the VM what its OS would: offload off, link up,
// address, default route.
func configureVMNIC(ctx context.Context, vm *VM) error {
	if err := link.TxOffloadOff(ctx, vm.NetNS, vmNIC); err != nil {
		return err
	}
	h, err := link.Open(vm.NetNS)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.SetUp(vmNIC); err != nil {
		return err
	}
	if !vm.IP.IsValid() {
		return nil
	}
	if err := h.AddAddr(vmNIC, vm.IP); err != nil {
		return err
	}
	if vm.Gateway.IsValid() {
		return h.AddDefaultRoute(vmNIC, vm.Gateway)
	}
	return nil
}

func upTap(ctx context.Context, ns, tap string) error {
	if err := link.TxOffloadOff(ctx, ns, tap); err != nil {
		return err
	}
	h, err := link.Open(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	return h.SetUp(tap)
}

// plugOVS adds the tap to br-int as Nova's os-vif does. br-int belongs to
// the agent; the lab waits for it rather than creating it.
func (l *Lab) plugOVS(ctx context.Context, hi int, vm *VM) error {
	_, o, err := l.Host(hi)
	if err != nil {
		return err
	}
	err = waitFor(ctx, brIntWait, func() bool {
		_, err := o.Vsctl(ctx, "br-exists", brInt)
		return err == nil
	})
	if err != nil {
		return fmt.Errorf("lab: %s has no %s (is its agent running?): %w", vm.Host, brInt, err)
	}
	_, err = o.Vsctl(ctx, "--may-exist", "add-port", brInt, vm.Tap, "--", "set", "Interface", vm.Tap,
		"external_ids:iface-id="+vm.PortID,
		"external_ids:attached-mac="+vm.MAC,
		"external_ids:iface-status=active",
		"external_ids:vm-uuid="+vm.UUID)
	if err != nil {
		return fmt.Errorf("lab: plug %s into %s on %s: %w", vm.Tap, brInt, vm.Host, err)
	}
	return nil
}

// DeleteVM removes a VM: its OVS port, its namespace (and veth), its API
// port and its record. Parts already gone are skipped.
func (l *Lab) DeleteVM(ctx context.Context, name string) error {
	unlock, err := lock(l.st.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	vm, err := l.VM(name)
	if err != nil {
		return err
	}
	return l.unplug(ctx, &vm)
}

func (l *Lab) unplug(ctx context.Context, vm *VM) error {
	var errs []error
	errs = append(errs, l.stopDHCP(vm))
	if hi, err := l.ParseHost(vm.Host); err == nil && vm.Tap != "" {
		if _, o, err := l.Host(hi); err == nil {
			_, err = o.Vsctl(ctx, "--if-exists", "del-port", brInt, vm.Tap)
			errs = append(errs, err)
		}
	}
	errs = append(errs, netns.Delete(vm.NetNS))
	if vm.PortID != "" {
		errs = append(errs, deletePort(ctx, l.Client(), vm.PortID))
	}
	if vm.UUID != "" {
		errs = append(errs, deleteInstance(ctx, l.Client(), vm.UUID))
	}
	if err := os.Remove(vmPath(l.st.Dir, vm.Name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func deletePort(ctx context.Context, c *client.Client, id string) error {
	if err := c.DeletePort(ctx, id); err != nil && !errors.Is(err, client.ErrNotFound) {
		return fmt.Errorf("lab: delete port %s: %w", id, err)
	}
	return nil
}

// VM returns the recorded VM called name.
func (l *Lab) VM(name string) (VM, error) {
	var vm VM
	if !vmNameRE.MatchString(name) {
		return vm, fmt.Errorf("%w: %q", ErrNoSuchVM, name)
	}
	err := readJSON(vmPath(l.st.Dir, name), &vm)
	if errors.Is(err, fs.ErrNotExist) {
		return vm, fmt.Errorf("%w: %s", ErrNoSuchVM, name)
	}
	return vm, err
}

// VMs lists the lab's VMs, sorted by name.
func (l *Lab) VMs() ([]VM, error) { return readVMs(l.st.Dir) }

// tapName is Neutron's device name for a port: "tap" + 11 chars of its id.
func tapName(portID string) string {
	if len(portID) > 11 {
		portID = portID[:11]
	}
	return "tap" + portID
}

// newUUID returns a random (version 4) UUID for a VM.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// createVMPort creates a VM's port as admin, or (AsMember) as the
// project's member and then binds it to the host as admin (only admins
// set binding:host_id).
func (l *Lab) createVMPort(ctx context.Context, spec VMSpec, req client.PortCreate) (api.Port, error) {
	if !spec.AsMember {
		return l.Client().CreatePort(ctx, req)
	}
	mc, err := l.MemberClient(spec.Project)
	if err != nil {
		return api.Port{}, err
	}
	host := req.BindingHostID
	req.ProjectID, req.BindingHostID = "", ""
	port, err := mc.CreatePort(ctx, req)
	if err != nil {
		return port, err
	}
	bound, err := l.Client().UpdatePort(ctx, port.ID, client.PortUpdate{BindingHostID: &host})
	if err != nil {
		return port, errors.Join(err, deletePort(ctx, l.Client(), port.ID))
	}
	return bound, nil
}
