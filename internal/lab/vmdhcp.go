package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vland/vland/internal/netns"
)

// A DHCP VM runs Debian's ISC dhclient inside its namespace, as a guest
// does, with a script that applies the lease there: address, MTU, default
// route or classless routes (option 121), and a resolv.conf for this VM
// only (/etc/netns/NS/resolv.conf, which `ip netns exec` puts on
// /etc/resolv.conf for the VM's commands). dhclient stays running and
// renews the lease; its files live next to the VM's record.

// etcNetns is where `ip netns exec NS` finds NS's own /etc files.
const etcNetns = "/etc/netns"

// dhcpTimeout bounds the wait for the first lease.
const dhcpTimeout = 30 * time.Second

const dhclientConf = `option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
send host-name = gethostname();
request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers,
	domain-search, host-name, interface-mtu, rfc3442-classless-static-routes;
timeout 30;
retry 2;
initial-interval 1;
backoff-cutoff 2;
`

const dhclientScript = `#!/bin/sh
# vland lab: applies a DHCP lease inside the VM's namespace.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
echo "$(date +%s.%N) $reason ip=$new_ip_address mask=$new_subnet_mask routers=$new_routers mtu=$new_interface_mtu dns=$new_domain_name_servers domain=$new_domain_name lease=$new_dhcp_lease_time" >> "$VLAND_LOG"
routes() {
	if [ -n "$new_rfc3442_classless_static_routes" ]; then
		set -- $new_rfc3442_classless_static_routes
		while [ $# -ge 5 ]; do
			w=$1; shift; n=$(( (w + 7) / 8 )); d=""
			for i in 1 2 3 4; do
				if [ $i -le $n ]; then d="$d${d:+.}$1"; shift; else d="$d${d:+.}0"; fi
			done
			gw="$1.$2.$3.$4"; shift 4
			if [ "$gw" = 0.0.0.0 ]; then ip route replace "$d/$w" dev "$interface"
			else ip route replace "$d/$w" via "$gw" dev "$interface"; fi
		done
	elif [ -n "$new_routers" ]; then
		set -- $new_routers
		ip route replace default via "$1" dev "$interface"
	fi
}
case "$reason" in
PREINIT)
	ip link set dev "$interface" up ;;
BOUND|RENEW|REBIND|REBOOT)
	if [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
		ip -4 addr flush dev "$interface"
	fi
	if [ -n "$new_interface_mtu" ]; then ip link set dev "$interface" mtu "$new_interface_mtu"; fi
	ip -4 addr replace "$new_ip_address/$new_subnet_mask" dev "$interface"
	routes
	{
		if [ -n "$new_domain_name" ]; then echo "search $new_domain_name"; fi
		for ns in $new_domain_name_servers; do echo "nameserver $ns"; done
	} > "$VLAND_RESOLV" ;;
EXPIRE|FAIL|RELEASE|STOP)
	ip -4 addr flush dev "$interface" ;;
esac
exit 0
`

func dhclientFiles(dir, vm string) (conf, script, pid, leases, log string) {
	d := vmDir(dir)
	return filepath.Join(dir, "dhclient.conf"), filepath.Join(dir, "dhclient-script"),
		filepath.Join(d, vm+".dhclient.pid"), filepath.Join(d, vm+".dhclient.leases"), filepath.Join(d, vm+".dhclient.log")
}

// startDHCP runs dhclient in the VM and waits for its first lease, then
// records the VM's address and gateway.
func (l *Lab) startDHCP(ctx context.Context, vm *VM) error {
	conf, script, pid, leases, logf := dhclientFiles(l.st.Dir, vm.Name)
	if err := os.WriteFile(conf, []byte(dhclientConf), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := os.WriteFile(script, []byte(dhclientScript), 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	etc := filepath.Join(etcNetns, vm.NetNS)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	resolv := filepath.Join(etc, "resolv.conf")
	if err := os.WriteFile(resolv, nil, 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	// -1: fail if no lease comes within the timeout; once bound dhclient
	// goes to the background and renews.
	cctx, cancel := context.WithTimeout(ctx, dhcpTimeout+5*time.Second)
	defer cancel()
	out, err := netns.Run(cctx, vm.NetNS, "dhclient", "-4", "-1", "-v", "-cf", conf, "-sf", script,
		"-pf", pid, "-lf", leases, "-e", "VLAND_RESOLV="+resolv, "-e", "VLAND_LOG="+logf, vmNIC)
	if err != nil {
		return fmt.Errorf("lab: vm %s: no DHCP lease: %w: %s", vm.Name, err, out)
	}
	vm.DHCP = true
	return l.readLease(vm)
}

// readLease records the address the VM's NIC has now and its default route.
func (l *Lab) readLease(vm *VM) error {
	out, err := netns.Run(context.Background(), vm.NetNS, "ip", "-4", "-o", "addr", "show", "dev", vmNIC)
	if err != nil {
		return err
	}
	for _, f := range strings.Fields(string(out)) {
		if p, err := netip.ParsePrefix(f); err == nil {
			vm.IP = p
			break
		}
	}
	out, _ = netns.Run(context.Background(), vm.NetNS, "ip", "-o", "link", "show", "dev", vmNIC)
	if f := strings.Fields(string(out)); len(f) > 4 {
		for i := range f[:len(f)-1] {
			if f[i] == "mtu" {
				fmt.Sscan(f[i+1], &vm.MTU)
			}
		}
	}
	out, _ = netns.Run(context.Background(), vm.NetNS, "ip", "-4", "route", "show", "default")
	if f := strings.Fields(string(out)); len(f) >= 3 && f[1] == "via" {
		vm.Gateway, _ = netip.ParseAddr(f[2])
	}
	return writeJSON(vmPath(l.st.Dir, vm.Name), vm)
}

// stopDHCP stops the VM's dhclient (without a release, as a VM that is
// switched off) and removes its /etc/netns entry.
func (l *Lab) stopDHCP(vm *VM) error {
	_, _, pid, leases, logf := dhclientFiles(l.st.Dir, vm.Name)
	if p := readPid(pid); alive(p) && mentions(cmdline(p), l.st.Dir) {
		_ = syscall.Kill(p, syscall.SIGKILL)
		waitAllGone([]int{p}, 5*time.Second)
	}
	for _, f := range []string{pid, leases, logf} {
		_ = os.Remove(f)
	}
	return os.RemoveAll(filepath.Join(etcNetns, vm.NetNS))
}

// DHCPLog returns the lines the VM's DHCP client script logged, one per
// lease event ("<unix time> BOUND ip=... mtu=..."), for tests.
func (l *Lab) DHCPLog(vm string) (string, error) {
	_, _, _, _, logf := dhclientFiles(l.st.Dir, vm)
	b, err := os.ReadFile(logf)
	return string(b), err
}
