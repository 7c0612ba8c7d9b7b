package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/lab/labtest"
	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/testutil"
)

// BenchmarkL3 measures the router data plane on a 2-host lab with the
// external network (router on host1, VMs on host2): floating IP associate
// -> first ping from the internet host (VLAND_BENCH_FIPS rounds, default
// 20), north-south TCP (internet host -> floating IP -> VM) beside
// east-west TCP through the same router (VM -> VM on another network),
// and the time until 100 floating IPs associated at once are all in the
// router's namespace.
func BenchmarkL3(b *testing.B) {
	testutil.RequireBinary(b, "iperf3")
	l := labtest.Up(b, lab.Config{Name: "l3b", Hosts: 2, External: true, ServerArgs: []string{"--quota-floatingip", "-1"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b.ResetTimer()
	res, err := measureL3(ctx, l, envInt(b, "VLAND_BENCH_FIPS", 20), 5, 100)
	b.StopTimer()
	require.NoError(b, err)
	res.print(os.Stdout)
	b.ReportMetric(ms(res.Associate.P50), "fip-ping-p50-ms")
	b.ReportMetric(ms(res.Associate.P99), "fip-ping-p99-ms")
	b.ReportMetric(res.NorthSouth.Mbps, "north-south-Mbit/s")
	b.ReportMetric(res.EastWest.Mbps, "east-west-Mbit/s")
	b.ReportMetric(ms(res.Converge), "100-fips-ms")
}

type l3Result struct {
	Associate            dist
	NorthSouth, EastWest iperfResult
	Seconds, FIPs        int
	Converge             time.Duration
}

func measureL3(ctx context.Context, l *lab.Lab, rounds, seconds, fips int) (l3Result, error) {
	res := l3Result{Seconds: seconds, FIPs: fips}
	c := l.Client()
	yes, no := true, false
	ext, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: "public", NetworkType: "flat", PhysicalNetwork: "public", External: &yes})
	if err != nil {
		return res, err
	}
	gw := lab.ExternalGateway.String()
	if _, err := c.CreateSubnet(ctx, client.SubnetCreate{NetworkID: ext.ID, IPVersion: 4, CIDR: lab.ExternalCIDR.String(), GatewayIP: &gw, EnableDHCP: &no}); err != nil {
		return res, err
	}
	r, err := c.CreateRouter(ctx, client.RouterCreate{Name: "rb", Gateway: &client.GatewayInfo{NetworkID: ext.ID}})
	if err != nil {
		return res, err
	}
	var vms []*lab.VM
	var subs []api.Subnet
	for i := 1; i <= 2; i++ {
		n, s, err := makeVXLANNetwork(ctx, c, fmt.Sprintf("l3b%d", i), fmt.Sprintf("10.34.%d.0/24", i))
		if err != nil {
			return res, err
		}
		if _, err := c.RouterInterface(ctx, r.ID, true, s.ID, ""); err != nil {
			return res, err
		}
		vm, err := l.CreateVM(ctx, lab.VMSpec{Name: fmt.Sprintf("l3b%d", i), Network: n.ID, Host: "host2", NoDHCP: true})
		if err != nil {
			return res, err
		}
		vms, subs = append(vms, vm), append(subs, s)
	}
	p, err := c.GetPort(ctx, vms[0].PortID)
	if err != nil {
		return res, err
	}
	for _, proto := range []string{"icmp", "tcp"} {
		if _, err := c.CreateSecurityGroupRule(ctx, client.SecurityGroupRuleCreate{SecurityGroupID: p.SecurityGroups[0],
			Direction: "ingress", Protocol: proto}); err != nil {
			return res, err
		}
	}
	extNS := l.State().External.NetNS
	qr := "qrouter-" + r.ID
	if err := waitFor(ctx, 30*time.Second, func() bool {
		out, _ := l.HostExec(ctx, 1, "ip", "netns", "exec", qr, "ip", "-4", "-br", "addr")
		return strings.Count(string(out), "qr-") == 2
	}); err != nil {
		return res, fmt.Errorf("bench: router namespace: %w", err)
	}

	// Associate -> first ping, then disassociate and wait for silence.
	f, err := c.CreateFloatingIP(ctx, client.FloatingIPCreate{FloatingNetworkID: ext.ID})
	if err != nil {
		return res, err
	}
	var took []time.Duration
	for range rounds {
		start := time.Now()
		if _, err := c.UpdateFloatingIP(ctx, f.ID, client.FloatingIPUpdate{PortID: &vms[0].PortID}); err != nil {
			return res, err
		}
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := pingUntilReply(pctx, extNS, f.FloatingIPAddress)
		cancel()
		if err != nil {
			return res, fmt.Errorf("bench: floating IP: %w", err)
		}
		took = append(took, time.Since(start))
		if _, err := c.UpdateFloatingIP(ctx, f.ID, client.FloatingIPUpdate{Disassociate: true}); err != nil {
			return res, err
		}
		if err := waitFor(ctx, 10*time.Second, func() bool {
			return netns.Command(ctx, extNS, "ping", "-n", "-q", "-c1", "-W0.2", f.FloatingIPAddress).Run() != nil
		}); err != nil {
			return res, fmt.Errorf("bench: disassociated floating IP still answers")
		}
	}
	res.Associate = summarize(took)

	// Throughput through the router: north-south to the floating IP,
	// east-west between the two networks.
	if _, err := c.UpdateFloatingIP(ctx, f.ID, client.FloatingIPUpdate{PortID: &vms[0].PortID}); err != nil {
		return res, err
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = pingUntilReply(pctx, extNS, f.FloatingIPAddress)
	cancel()
	if err != nil {
		return res, err
	}
	if res.NorthSouth, err = iperf(ctx, vms[0].NetNS, extNS, f.FloatingIPAddress, seconds); err != nil {
		return res, fmt.Errorf("bench: north-south: %w", err)
	}
	if res.EastWest, err = iperf(ctx, vms[0].NetNS, vms[1].NetNS, vms[0].IP.Addr().String(), seconds); err != nil {
		return res, fmt.Errorf("bench: east-west: %w", err)
	}

	// 100 floating IPs on ports of network 1 (no VMs needed: the router's
	// NAT and qg- addresses are what converge), associated at once.
	ports := make([]string, fips)
	for i := range ports {
		pt, err := c.CreatePort(ctx, client.PortCreate{NetworkID: subs[0].NetworkID, Name: fmt.Sprintf("fipport%d", i)})
		if err != nil {
			return res, err
		}
		ports[i] = pt.ID
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, fips)
	sem := make(chan struct{}, 8)
	for _, id := range ports {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := c.CreateFloatingIP(ctx, client.FloatingIPCreate{FloatingNetworkID: ext.ID, PortID: id}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return res, err
	}
	want := fips + 1 // and the benchmark's own floating IP
	if err := waitFor(ctx, 2*time.Minute, func() bool {
		out, _ := l.HostExec(ctx, 1, "ip", "netns", "exec", qr, "nft", "list", "chain", "ip", "vland", "prerouting")
		return strings.Count(string(out), " dnat to ") >= want
	}); err != nil {
		return res, fmt.Errorf("bench: %d floating IPs never converged", fips)
	}
	res.Converge = time.Since(start)
	return res, nil
}

func waitFor(ctx context.Context, d time.Duration, ok func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for !ok() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

func (r l3Result) print(w io.Writer) {
	fmt.Fprintf(w, "\nRouter on host1 (network node), VMs on host2, internet host beyond host1's br-ex.\n")
	fmt.Fprintf(w, "FIGURE: l3 fip-associate-to-first-ping p50=%.0f ms p99=%.0f ms max=%.0f ms (n=%d; API call to first echo reply at the internet host)\n",
		ms(r.Associate.P50), ms(r.Associate.P99), ms(r.Associate.Max), r.Associate.N)
	fmt.Fprintf(w, "FIGURE: l3 throughput north-south=%.0f Mbit/s (retransmits %d)  (internet host -> floating IP -> VM, iperf3 -t %d)\n",
		r.NorthSouth.Mbps, r.NorthSouth.Retransmits, r.Seconds)
	fmt.Fprintf(w, "FIGURE: l3 throughput east-west=%.0f Mbit/s (retransmits %d)  (VM net2 -> router -> VM net1, both on host2)\n",
		r.EastWest.Mbps, r.EastWest.Retransmits)
	fmt.Fprintf(w, "FIGURE: l3 converge %d floating IPs on one router=%.0f ms (creates with port, 8 at a time, until every DNAT is in the router's table)\n",
		r.FIPs, ms(r.Converge))
}
