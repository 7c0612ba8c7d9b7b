package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/link"
	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/testutil"
)

// iperfResult is one TCP run: what the receiver got, and the sender's
// retransmissions.
type iperfResult struct {
	Mbps        float64
	Retransmits int
}

type throughputResult struct {
	Seconds  int
	MTU      int
	VXLAN    iperfResult // VM on host1 -> VM on host2
	SameHost iperfResult // VM -> VM on host1: br-int only, no tunnel
	Veth     iperfResult // namespace -> namespace over one veth pair
}

// measureThroughput runs the same iperf3 TCP test (1 stream, seconds long)
// VM to VM across two hosts over VXLAN, and between two namespaces joined
// by a plain veth pair with the VMs' NIC settings (same MTU, tx checksum
// offload off), so the ratio isolates what vland's data path costs. A
// third run between two VMs on the same host (through br-int only) splits
// that cost between the userspace datapath and the tunnel.
func measureThroughput(ctx context.Context, l *lab.Lab, seconds int) (throughputResult, error) {
	res := throughputResult{Seconds: seconds}
	network, _, err := makeVXLANNetwork(ctx, l.Client(), "tput", "10.78.0.0/24")
	if err != nil {
		return res, err
	}
	res.MTU = network.MTU
	var ips []string
	for i, hi := range []int{1, 2, 1} {
		vm, err := l.CreateVM(ctx, lab.VMSpec{Name: "tput" + strconv.Itoa(i+1), Network: network.ID, Host: strconv.Itoa(hi), NoDHCP: true})
		if err != nil {
			return res, fmt.Errorf("bench: %w", err)
		}
		ips = append(ips, vm.IP.Addr().String())
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		_, err = l.Client().WaitPortStatus(wctx, vm.PortID, api.StatusActive, 50*time.Millisecond)
		cancel()
		if err != nil {
			return res, fmt.Errorf("bench: %w", err)
		}
	}
	vmNS := func(i int) string { return l.Name() + "-vm-tput" + strconv.Itoa(i) }
	for _, to := range []int{2, 3} {
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = pingUntilReply(pctx, vmNS(1), ips[to-1])
		cancel()
		if err != nil {
			return res, fmt.Errorf("bench: tput1 -> tput%d: %w", to, err)
		}
	}
	if res.VXLAN, err = iperf(ctx, vmNS(2), vmNS(1), ips[1], seconds); err != nil {
		return res, fmt.Errorf("bench: iperf3 across VXLAN: %w", err)
	}
	if res.SameHost, err = iperf(ctx, vmNS(3), vmNS(1), ips[2], seconds); err != nil {
		return res, fmt.Errorf("bench: iperf3 on one host: %w", err)
	}
	res.Veth, err = vethThroughput(ctx, network.MTU, seconds)
	return res, err
}

// vethThroughput measures iperf3 between two fresh namespaces joined by a
// veth pair, and removes them.
func vethThroughput(ctx context.Context, mtu, seconds int) (iperfResult, error) {
	p := testutil.Prefix()
	a, b := p+"-a", p+"-b"
	defer func() {
		for _, ns := range []string{a, b} {
			// iperf3 is waited for; this only catches a stray one.
			if pids, _ := netns.Pids(ns); len(pids) > 0 {
				for _, pid := range pids {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			_ = netns.Delete(ns)
		}
	}()
	addrs := map[string]netip.Prefix{a: netip.MustParsePrefix("10.79.0.1/24"), b: netip.MustParsePrefix("10.79.0.2/24")}
	for _, ns := range []string{a, b} {
		if err := netns.Create(ns); err != nil {
			return iperfResult{}, err
		}
	}
	if err := link.AddVeth(link.End{NS: a, Name: "eth0", MTU: mtu}, link.End{NS: b, Name: "eth0", MTU: mtu}); err != nil {
		return iperfResult{}, err
	}
	for _, ns := range []string{a, b} {
		if err := link.TxOffloadOff(ctx, ns, "eth0"); err != nil {
			return iperfResult{}, err
		}
		h, err := link.Open(ns)
		if err != nil {
			return iperfResult{}, err
		}
		err = errors.Join(h.SetUp("eth0"), h.AddAddr("eth0", addrs[ns]))
		h.Close()
		if err != nil {
			return iperfResult{}, err
		}
	}
	r, err := iperf(ctx, b, a, addrs[b].Addr().String(), seconds)
	if err != nil {
		return r, fmt.Errorf("bench: iperf3 over veth: %w", err)
	}
	return r, nil
}

// iperf runs a one-shot iperf3 server in serverNS and a TCP client (one
// stream, seconds long) in clientNS, and returns what the receiver got.
func iperf(ctx context.Context, serverNS, clientNS, serverIP string, seconds int) (iperfResult, error) {
	srv := netns.Command(ctx, serverNS, "iperf3", "-s", "-1")
	srv.Stdout, srv.Stderr = io.Discard, io.Discard
	if err := srv.Start(); err != nil {
		return iperfResult{}, fmt.Errorf("iperf3 server: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	defer func() {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = srv.Process.Kill()
			<-done
		}
	}()
	var last error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		// iperf3 has no timeout of its own: a stalled connection would
		// hang the benchmark.
		cctx, cancel := context.WithTimeout(ctx, time.Duration(seconds+20)*time.Second)
		out, err := netns.Command(cctx, clientNS, "iperf3", "-c", serverIP, "-t", strconv.Itoa(seconds), "-P", "1", "-J").Output()
		cancel()
		r, perr := parseIperf(out)
		if err == nil && perr == nil {
			return r, nil
		}
		last = errors.Join(err, perr)
		if r.Mbps != 0 { // connected but failed: do not retry
			break
		}
	}
	return iperfResult{}, fmt.Errorf("iperf3 client to %s: %w", serverIP, last)
}

func parseIperf(out []byte) (iperfResult, error) {
	var j struct {
		Error string `json:"error"`
		End   struct {
			SumSent struct {
				Retransmits int `json:"retransmits"`
			} `json:"sum_sent"`
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(out, &j); err != nil {
		return iperfResult{}, fmt.Errorf("iperf3 output: %w", err)
	}
	r := iperfResult{Mbps: j.End.SumReceived.BitsPerSecond / 1e6, Retransmits: j.End.SumSent.Retransmits}
	if j.Error != "" {
		return r, fmt.Errorf("iperf3: %s", j.Error)
	}
	if r.Mbps <= 0 {
		return r, fmt.Errorf("iperf3: no throughput")
	}
	return r, nil
}

func (r throughputResult) print(w io.Writer) {
	fmt.Fprintf(w, "\nTCP throughput: iperf3 -t %d -P 1, MTU %d, tx checksum offload off on both ends.\n", r.Seconds, r.MTU)
	fmt.Fprintf(w, "FIGURE: throughput vxlan-vm-to-vm=%.0f Mbit/s (retransmits %d)  (VM host1 -> VM host2 through br-int/br-tun, netdev datapath)\n", r.VXLAN.Mbps, r.VXLAN.Retransmits)
	fmt.Fprintf(w, "FIGURE: throughput same-host-vm-to-vm=%.0f Mbit/s (retransmits %d)  (two VMs on host1 through br-int only)\n", r.SameHost.Mbps, r.SameHost.Retransmits)
	fmt.Fprintf(w, "FIGURE: throughput plain-veth=%.0f Mbit/s (retransmits %d)  (namespace -> namespace over one veth pair)\n", r.Veth.Mbps, r.Veth.Retransmits)
	fmt.Fprintf(w, "FIGURE: throughput ratio vxlan/veth=%.3f\n", r.VXLAN.Mbps/r.Veth.Mbps)
}
