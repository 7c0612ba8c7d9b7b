package lab_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/lab/labtest"
	"github.com/vland/vland/internal/netns"
)

// listenIn opens a TCP listener inside a named namespace (the socket stays
// there; the goroutines serving it need not). Each connection is handed to
// serve.
func listenIn(t *testing.T, ns, addr string, serve func(net.Conn)) {
	t.Helper()
	var ln net.Listener
	require.NoError(t, netns.Do(ns, func() (err error) {
		ln, err = net.Listen("tcp4", addr)
		return err
	}))
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
}

// dialIn connects from inside a named namespace.
func dialIn(ns, addr string, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	err := netns.Do(ns, func() (err error) {
		c, err = net.DialTimeout("tcp4", addr, timeout)
		return err
	})
	return c, err
}

// ask connects from ns to addr and returns what the server says.
func ask(ns, addr string, timeout time.Duration) (string, error) {
	c, err := dialIn(ns, addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	b, err := io.ReadAll(c)
	return string(b), err
}

// sayPeer answers every connection with the peer's address (no port).
func sayPeer(c net.Conn) {
	h, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	fmt.Fprint(c, h)
}

func say(s string) func(net.Conn) { return func(c net.Conn) { fmt.Fprint(c, s) } }

// TestL3Router is issue 9's router data plane on real OVS, in one lab
// (2 hosts, host1 the network node with the l3 role and br-ex): seed 002
// (one router, three networks, routed east-west and to the router's
// external address), SNAT to the gateway address, a floating IP (in, out,
// moved, disassociated), port forwarding, and an agent restart on the L3
// host during a TCP transfer through a floating IP.
func TestL3Router(t *testing.T) {
	l := labtest.Up(t, lab.Config{Name: "l3", Hosts: 2, External: true})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := l.Client()
	extNS := l.State().External.NetNS
	internet := lab.InternetIP.String()

	yes := true
	ext, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: "public", NetworkType: "flat", PhysicalNetwork: "public", External: &yes})
	require.NoError(t, err)
	gw, no := lab.ExternalGateway.String(), false
	_, err = c.CreateSubnet(ctx, client.SubnetCreate{NetworkID: ext.ID, IPVersion: 4, CIDR: lab.ExternalCIDR.String(), GatewayIP: &gw, EnableDHCP: &no})
	require.NoError(t, err)
	r, err := c.CreateRouter(ctx, client.RouterCreate{Name: "r1", Gateway: &client.GatewayInfo{NetworkID: ext.ID}})
	require.NoError(t, err)
	require.NotNil(t, r.ExternalGatewayInfo)
	require.Len(t, r.ExternalGatewayInfo.ExternalFixedIPs, 1)
	routerIP := r.ExternalGatewayInfo.ExternalFixedIPs[0].IPAddress

	var subs []api.Subnet
	var nets []api.Network
	for i := 1; i <= 3; i++ {
		n, s := makeNetwork(t, ctx, c, fmt.Sprintf("l3net%d", i), fmt.Sprintf("10.31.%d.0/24", i))
		_, err := c.RouterInterface(ctx, r.ID, true, s.ID, "")
		require.NoError(t, err)
		nets, subs = append(nets, n), append(subs, s)
	}

	// The scheduler binds the router to host1, the only L3 host, and its
	// agent builds the namespace.
	require.Eventually(t, func() bool {
		as, err := c.ListRouterL3Agents(ctx, r.ID)
		return err == nil && len(as) == 1 && as[0].Host == "host1"
	}, 20*time.Second, 100*time.Millisecond, "router bound to host1's L3 agent")
	qr := "qrouter-" + r.ID
	require.Eventually(t, func() bool {
		out, _ := l.HostExec(ctx, 1, "ip", "netns", "exec", qr, "ip", "-4", "-br", "addr")
		return strings.Contains(string(out), routerIP+"/24") && strings.Count(string(out), "qr-") == 3
	}, 20*time.Second, 100*time.Millisecond, "host1's %s has qg- and three qr- NICs", qr)
	out, err := l.HostExec(ctx, 2, "ip", "netns")
	require.NoError(t, err)
	require.NotContains(t, string(out), qr, "host2 realises no router")

	// VMs: vm1 and vm3 on host2, vm2 on host1. Their default group admits
	// only its members: let ICMP and TCP in, as an operator would.
	var vms []lab.VM
	for i, host := range []string{"host2", "host1", "host2"} {
		vm, err := l.CreateVM(ctx, lab.VMSpec{Name: fmt.Sprintf("l3vm%d", i+1), Network: nets[i].ID, Host: host, NoDHCP: true})
		require.NoError(t, err)
		vms = append(vms, *vm)
	}
	port, err := c.GetPort(ctx, vms[0].PortID)
	require.NoError(t, err)
	for _, proto := range []string{"icmp", "tcp"} {
		_, err = c.CreateSecurityGroupRule(ctx, client.SecurityGroupRuleCreate{SecurityGroupID: port.SecurityGroups[0],
			Direction: "ingress", Protocol: proto})
		require.NoError(t, err)
	}
	vmIP := func(i int) string { return vms[i].IP.Addr().String() }

	t.Run("seed002", func(t *testing.T) {
		for _, dst := range []string{*subs[0].GatewayIP, routerIP, vmIP(1), vmIP(2)} {
			require.Eventually(t, func() bool {
				_, err := l.Exec(ctx, vms[0].Name, "ping", "-c1", "-W1", dst)
				return err == nil
			}, 15*time.Second, 200*time.Millisecond, "vm1 reaches %s", dst)
		}
		out, err := l.HostExec(ctx, 1, "ip", "netns", "exec", qr, "ping", "-c1", "-W2", "-I", routerIP, vmIP(0))
		require.NoError(t, err, "the router namespace pings vm1 from its external address: %s", out)
		// The NAT table is there, with the metadata redirect.
		out, err = l.HostExec(ctx, 1, "ip", "netns", "exec", qr, "nft", "list", "table", "ip", "vland")
		require.NoError(t, err, "%s", out)
		require.Contains(t, string(out), "redirect to :9697")
	})

	t.Run("metadata", func(t *testing.T) {
		// Through the router: qr- redirect to the router namespace's proxy,
		// which knows the VM by (router, source address).
		var got string
		require.Eventually(t, func() bool {
			got, err = curl(ctx, l, vms[0].Name, "/latest/meta-data/local-ipv4")
			return err == nil
		}, 10*time.Second, 200*time.Millisecond, "vm1 reaches the metadata service through its router")
		require.Equal(t, vmIP(0), got)
		got, err = curl(ctx, l, vms[2].Name, "/openstack/latest/meta_data.json")
		require.NoError(t, err)
		require.Contains(t, got, `"name":"`+vms[2].Name+`"`)
		// The proxy is not reachable from the external side.
		_, err = l.ExternalExec(ctx, "curl", "-sS", "-m", "2", "http://"+routerIP+":9697/latest/meta-data/")
		require.Error(t, err, "the internet host must not reach the router's metadata proxy")
	})

	listenIn(t, extNS, internet+":7000", sayPeer)
	for i := range vms {
		listenIn(t, vms[i].NetNS, ":7001", say(vms[i].Name))
	}

	t.Run("snat", func(t *testing.T) {
		var peer string
		require.Eventually(t, func() bool {
			peer, err = ask(vms[0].NetNS, internet+":7000", time.Second)
			return err == nil
		}, 10*time.Second, 200*time.Millisecond, "vm1 reaches the internet host")
		require.Equal(t, routerIP, peer, "the internet host sees the router's gateway address")
	})

	var fip api.FloatingIP
	t.Run("floatingip", func(t *testing.T) {
		fip, err = c.CreateFloatingIP(ctx, client.FloatingIPCreate{FloatingNetworkID: ext.ID, PortID: vms[0].PortID})
		require.NoError(t, err)
		fa := fip.FloatingIPAddress
		require.Eventually(t, func() bool {
			_, err := l.ExternalExec(ctx, "ping", "-c1", "-W1", fa)
			return err == nil
		}, 10*time.Second, 100*time.Millisecond, "the internet host pings vm1 by its floating IP")
		got, err := ask(extNS, fa+":7001", 2*time.Second)
		require.NoError(t, err)
		require.Equal(t, vms[0].Name, got)
		peer, err := ask(vms[0].NetNS, internet+":7000", 2*time.Second)
		require.NoError(t, err)
		require.Equal(t, fa, peer, "vm1's outbound traffic leaves from its floating IP")
		peer, err = ask(vms[2].NetNS, internet+":7000", 2*time.Second)
		require.NoError(t, err)
		require.Equal(t, routerIP, peer, "vm3, without one, still leaves from the gateway address")

		// Move it to vm3: measure until the internet host reaches vm3.
		start := time.Now()
		_, err = c.UpdateFloatingIP(ctx, fip.ID, client.FloatingIPUpdate{PortID: &vms[2].PortID})
		require.NoError(t, err)
		var took time.Duration
		for took == 0 && time.Since(start) < 10*time.Second {
			if got, err := ask(extNS, fa+":7001", 200*time.Millisecond); err == nil && got == vms[2].Name {
				took = time.Since(start)
			} else {
				time.Sleep(10 * time.Millisecond)
			}
		}
		require.NotZero(t, took, "the internet host reaches vm3 by the moved floating IP")
		t.Logf("floating IP move: internet host reaches the new VM after %v", took.Round(time.Millisecond))
		require.Less(t, took, 2*time.Second)

		// What the internet host starts at vm3 (SYNs to :7001, echo
		// requests; not the answers to vm3's own connections), seen at vm3.
		capture := labtest.StartCapture(t, l, vms[2].Name,
			"(tcp dst port 7001 and tcp[tcpflags] == tcp-syn) or icmp[icmptype] == icmp-echo")
		_, err = ask(extNS, fa+":7001", 2*time.Second)
		require.NoError(t, err)
		_, err = l.ExternalExec(ctx, "ping", "-c2", "-i0.2", "-W1", fa)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return capture.Packets() >= 3 }, 2*time.Second, 20*time.Millisecond,
			"the capture at vm3 sees the internet host's SYN and pings to the floating IP (positive control): %s", capture)

		// Disassociate: the floating IP stops answering, and nothing sent
		// to it reaches vm3 any more.
		_, err = c.UpdateFloatingIP(ctx, fip.ID, client.FloatingIPUpdate{Disassociate: true})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			_, err := ask(extNS, fa+":7001", 200*time.Millisecond)
			return err != nil
		}, 5*time.Second, 50*time.Millisecond, "disassociated: unreachable")
		time.Sleep(300 * time.Millisecond) // tcpdump's lines trail the packets
		before := capture.Packets()
		_, err = ask(extNS, fa+":7001", time.Second)
		require.Error(t, err, "no TCP answer")
		_, err = l.ExternalExec(ctx, "ping", "-c2", "-i0.2", "-W1", fa)
		require.Error(t, err, "no answer to ping either")
		time.Sleep(300 * time.Millisecond)
		require.Equal(t, before, capture.Packets(), "after disassociation nothing sent to the floating IP reached vm3: %s", capture)
		t.Logf("capture at vm3: %d SYNs and echo requests to the floating IP arrived while associated, none after disassociation", before)
		peer, err = ask(vms[2].NetNS, internet+":7000", 2*time.Second)
		require.NoError(t, err)
		require.Equal(t, routerIP, peer, "vm3 is back behind SNAT")
	})

	t.Run("portforwarding", func(t *testing.T) {
		listenIn(t, vms[1].NetNS, ":80", say("web on vm2"))
		listenIn(t, vms[2].NetNS, ":22", say("ssh on vm3"))
		f, err := c.CreateFloatingIP(ctx, client.FloatingIPCreate{FloatingNetworkID: ext.ID})
		require.NoError(t, err)
		for _, pf := range []struct {
			vm       int
			ext, int int
		}{{1, 8080, 80}, {2, 2222, 22}} {
			_, err := c.CreatePortForwarding(ctx, f.ID, client.PortForwardingCreate{Protocol: "tcp", InternalPortID: vms[pf.vm].PortID,
				InternalIPAddress: vmIP(pf.vm), InternalPort: &pf.int, ExternalPort: &pf.ext})
			require.NoError(t, err)
		}
		for addr, want := range map[string]string{f.FloatingIPAddress + ":8080": "web on vm2", f.FloatingIPAddress + ":2222": "ssh on vm3"} {
			var got string
			require.Eventually(t, func() bool {
				got, _ = ask(extNS, addr, 300*time.Millisecond)
				return got == want
			}, 10*time.Second, 100*time.Millisecond, "%s reaches %q (last %q)", addr, want, got)
		}
		_, err = ask(extNS, f.FloatingIPAddress+":7001", 300*time.Millisecond)
		require.Error(t, err, "only the forwarded ports are open")
	})

	t.Run("restart", func(t *testing.T) {
		// vm2 counts what it receives; the internet host streams to it
		// through the floating IP while host1's agent restarts.
		_, err := c.UpdateFloatingIP(ctx, fip.ID, client.FloatingIPUpdate{PortID: &vms[1].PortID})
		require.NoError(t, err)
		listenIn(t, vms[1].NetNS, ":7002", func(conn net.Conn) {
			n, _ := io.Copy(io.Discard, conn)
			fmt.Fprint(conn, n)
		})
		var conn net.Conn
		require.Eventually(t, func() bool {
			conn, err = dialIn(extNS, fip.FloatingIPAddress+":7002", 300*time.Millisecond)
			return err == nil
		}, 10*time.Second, 100*time.Millisecond, "the internet host connects to vm2's floating IP")
		defer conn.Close()
		var sent atomic.Int64
		var werr error
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			buf := make([]byte, 16<<10)
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
				n, err := conn.Write(buf)
				sent.Add(int64(n))
				if err != nil {
					werr = err
					return
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
		time.Sleep(500 * time.Millisecond)
		before := sent.Load()
		require.NoError(t, l.RestartAgent(ctx, 1))
		require.NoError(t, l.WaitAgents(ctx))
		time.Sleep(2 * time.Second)
		mid := sent.Load()
		time.Sleep(time.Second)
		close(stop)
		wg.Wait()
		require.NoError(t, werr, "the transfer never stalled")
		require.Greater(t, sent.Load(), mid, "still flowing after the restart")
		require.NoError(t, conn.(*net.TCPConn).CloseWrite())
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(conn)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(sent.Load()), string(got), "vm2 received every byte")
		t.Logf("restart: %d bytes before, %d in total through the floating IP", before, sent.Load())
	})

	t.Run("tenants", func(t *testing.T) {
		// Two projects with the same subnet, each with a router and a
		// floating IP on its VM (same fixed address in both).
		type tenant struct {
			vm                    lab.VM
			fip                   string
			routerIP              string
			fipID, router, subnet string
		}
		var ts []tenant
		for _, name := range []string{"l3ta", "l3tb"} {
			pid, err := c.ProjectID(ctx, name)
			require.NoError(t, err)
			n, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: name, ProjectID: pid})
			require.NoError(t, err)
			sub, err := c.CreateSubnet(ctx, client.SubnetCreate{NetworkID: n.ID, ProjectID: pid, IPVersion: 4, CIDR: "10.50.0.0/24", EnableDHCP: &no})
			require.NoError(t, err)
			rt, err := c.CreateRouter(ctx, client.RouterCreate{Name: name, ProjectID: pid, Gateway: &client.GatewayInfo{NetworkID: ext.ID}})
			require.NoError(t, err)
			_, err = c.RouterInterface(ctx, rt.ID, true, sub.ID, "")
			require.NoError(t, err)
			vm, err := l.CreateVM(ctx, lab.VMSpec{Name: name, Network: n.ID, Host: "host2", IP: "10.50.0.5", Project: name})
			require.NoError(t, err)
			p, err := c.GetPort(ctx, vm.PortID)
			require.NoError(t, err)
			_, err = c.CreateSecurityGroupRule(ctx, client.SecurityGroupRuleCreate{SecurityGroupID: p.SecurityGroups[0],
				Direction: "ingress", Protocol: "icmp", ProjectID: pid})
			require.NoError(t, err)
			f, err := c.CreateFloatingIP(ctx, client.FloatingIPCreate{FloatingNetworkID: ext.ID, PortID: vm.PortID, ProjectID: pid})
			require.NoError(t, err)
			ts = append(ts, tenant{*vm, f.FloatingIPAddress, rt.ExternalGatewayInfo.ExternalFixedIPs[0].IPAddress, f.ID, rt.ID, sub.ID})
		}
		// B captures while A talks on its network and to the outside.
		a, b := ts[0], ts[1]
		capCtx, capCancel := context.WithTimeout(ctx, 20*time.Second)
		defer capCancel()
		capture, err := l.Command(capCtx, b.vm.Name, "tcpdump", "-i", "eth0", "-n", "-e", "-l", "-U", "icmp or arp or ether src "+a.vm.MAC)
		require.NoError(t, err)
		var capOut strings.Builder
		capture.Stdout = &capOut
		require.NoError(t, capture.Start())
		defer func() { _ = capture.Process.Kill(); _ = capture.Wait() }()
		time.Sleep(time.Second) // tcpdump attaches
		for _, tn := range ts {
			require.Eventually(t, func() bool {
				_, err := l.ExternalExec(ctx, "ping", "-c1", "-W1", tn.fip)
				return err == nil
			}, 15*time.Second, 100*time.Millisecond, "the internet host pings %s's floating IP %s", tn.vm.Name, tn.fip)
			peer, err := ask(tn.vm.NetNS, internet+":7000", 2*time.Second)
			require.NoError(t, err)
			require.Equal(t, tn.fip, peer, "%s reaches the internet host from its floating IP", tn.vm.Name)
		}
		_, _ = l.Exec(ctx, a.vm.Name, "ping", "-c2", "-i0.2", "-W1", "-b", "10.50.0.255")
		_, _ = l.Exec(ctx, a.vm.Name, "ping", "-c2", "-i0.2", "-W1", "10.50.0.7")
		time.Sleep(500 * time.Millisecond)
		_ = capture.Process.Signal(syscall.SIGINT)
		_ = capture.Wait()
		got := capOut.String()
		require.Contains(t, got, gw+" > 10.50.0.5: ICMP echo request", "the capture works: B got the outside's pings")
		require.NotContains(t, got, a.vm.MAC, "nothing of A's network reaches B's")
		require.NotContains(t, got, a.fip+" > ", "nothing from A's floating IP")
		for _, line := range strings.Split(got, "\n") {
			if strings.Contains(line, "ICMP echo request") {
				require.True(t, strings.Contains(line, gw+" > ") || strings.Contains(line, internet+" > "), "only outside pings reach B: %s", line)
			}
		}

		// B's router goes: its namespace and its OVS ports leave host1;
		// A's router carries on.
		ports, err := l.HostExec(ctx, 1, "ovs-vsctl", "--bare", "--columns=name", "find", "Interface", "external_ids:vland-router="+b.router)
		require.NoError(t, err)
		require.Len(t, strings.Fields(string(ports)), 2, "B's router has a qr- and a qg- tap on host1's br-int: %s", ports)
		require.NoError(t, c.DeleteFloatingIP(ctx, b.fipID))
		_, err = c.RouterInterface(ctx, b.router, false, b.subnet, "")
		require.NoError(t, err)
		require.NoError(t, c.DeleteRouter(ctx, b.router))
		require.Eventually(t, func() bool {
			nss, err1 := l.HostExec(ctx, 1, "ip", "netns")
			ports, err2 := l.HostExec(ctx, 1, "ovs-vsctl", "--columns=name", "find", "Interface", "external_ids:vland-router="+b.router)
			return err1 == nil && err2 == nil && !strings.Contains(string(nss), "qrouter-"+b.router) && strings.TrimSpace(string(ports)) == ""
		}, 15*time.Second, 100*time.Millisecond, "B's router namespace and ports are gone from host1")
		out, err := l.HostExec(ctx, 1, "ip", "netns")
		require.NoError(t, err)
		require.Contains(t, string(out), "qrouter-"+ts[0].router)
		peer, err := ask(a.vm.NetNS, internet+":7000", 2*time.Second)
		require.NoError(t, err)
		require.Equal(t, a.fip, peer, "A is unaffected")
	})
}

// TestL3Failover: with two network nodes, killing the agent of the L3
// host holding a router and cutting that host off (its data and external
// NICs down, as a dead machine) moves the router to the other L3 host
// after the heartbeat TTL and --agent-down-time; the internet host reaches
// the VM's floating IP again. The outage is logged.
func TestL3Failover(t *testing.T) {
	l := labtest.Up(t, lab.Config{Name: "l3f", Hosts: 3, NetworkNodes: 2, External: true,
		ServerArgs: []string{"--agent-down-time", "3s"}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := l.Client()
	yes, no := true, false
	ext, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: "public", NetworkType: "flat", PhysicalNetwork: "public", External: &yes})
	require.NoError(t, err)
	gw := lab.ExternalGateway.String()
	_, err = c.CreateSubnet(ctx, client.SubnetCreate{NetworkID: ext.ID, IPVersion: 4, CIDR: lab.ExternalCIDR.String(), GatewayIP: &gw, EnableDHCP: &no})
	require.NoError(t, err)
	r, err := c.CreateRouter(ctx, client.RouterCreate{Name: "rf", Gateway: &client.GatewayInfo{NetworkID: ext.ID}})
	require.NoError(t, err)
	n, s := makeNetwork(t, ctx, c, "fnet", "10.32.0.0/24")
	_, err = c.RouterInterface(ctx, r.ID, true, s.ID, "")
	require.NoError(t, err)
	vm, err := l.CreateVM(ctx, lab.VMSpec{Name: "fvm", Network: n.ID, Host: "host3", NoDHCP: true})
	require.NoError(t, err)
	p, err := c.GetPort(ctx, vm.PortID)
	require.NoError(t, err)
	_, err = c.CreateSecurityGroupRule(ctx, client.SecurityGroupRuleCreate{SecurityGroupID: p.SecurityGroups[0], Direction: "ingress", Protocol: "icmp"})
	require.NoError(t, err)
	f, err := c.CreateFloatingIP(ctx, client.FloatingIPCreate{FloatingNetworkID: ext.ID, PortID: vm.PortID})
	require.NoError(t, err)
	host := func() string {
		as, err := c.ListRouterL3Agents(ctx, r.ID)
		if err != nil || len(as) != 1 {
			return ""
		}
		return as[0].Host
	}
	require.Eventually(t, func() bool { return host() != "" }, 20*time.Second, 100*time.Millisecond, "router scheduled")
	first := host()
	require.Eventually(t, func() bool {
		_, err := l.ExternalExec(ctx, "ping", "-c1", "-W1", f.FloatingIPAddress)
		return err == nil
	}, 20*time.Second, 100*time.Millisecond, "the internet host pings the floating IP")

	i, err := l.ParseHost(first)
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, l.KillAgent(i))
	for _, nic := range []string{"eth1", "eth2"} {
		out, err := l.HostExec(ctx, i, "ip", "link", "set", nic, "down")
		require.NoError(t, err, "%s", out)
	}
	_, err = l.ExternalExec(ctx, "ping", "-c1", "-W1", f.FloatingIPAddress)
	require.Error(t, err, "the dead host no longer answers")
	require.Eventually(t, func() bool { h := host(); return h != "" && h != first }, 30*time.Second, 100*time.Millisecond,
		"the router moves off %s", first)
	moved := time.Since(start)
	require.Eventually(t, func() bool {
		_, err := l.ExternalExec(ctx, "ping", "-c1", "-W1", f.FloatingIPAddress)
		return err == nil
	}, 20*time.Second, 50*time.Millisecond, "the internet host reaches the VM again through %s", host())
	outage := time.Since(start)
	t.Logf("failover %s -> %s: router rebound after %v, floating IP answers again after %v (heartbeat TTL 4s + down time 3s)",
		first, host(), moved.Round(time.Millisecond), outage.Round(time.Millisecond))
}
