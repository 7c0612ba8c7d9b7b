package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/netns"
)

// bringUpConfig says how many VMs to bring up and how.
type bringUpConfig struct {
	VMs         int           // spread round-robin over the lab's hosts
	Concurrency int           // VMs being created at once
	Poll        time.Duration // port status poll interval
	Timeout     time.Duration // per VM, for ACTIVE and for the first ping
	IdleSample  time.Duration // how long to sample the lab's CPU at rest afterwards
}

// vmTiming is one VM's bring-up, every duration measured from t0, the
// moment just before its POST /v2.0/ports.
type vmTiming struct {
	Name    string
	Host    int
	Created time.Duration // POST /v2.0/ports answered
	Plugged time.Duration // tap in br-int (the "hypervisor" part is done)
	Active  time.Duration // first GET showing status ACTIVE
	Ping    time.Duration // first echo reply from the anchor on another host
}

// bridgeFlows is the number of OpenFlow flows on one host's bridges.
type bridgeFlows struct {
	Host         int
	BrInt, BrTun int
}

type bringUpResult struct {
	Config  bringUpConfig
	Hosts   int
	MTU     int
	Timings []vmTiming
	Wall    time.Duration // first port create to last VM pinging
	Flows   []bridgeFlows
	IdleCPU map[string]float64 // % of one core per process kind, lab at rest
}

// measureBringUp creates a VXLAN network with one anchor VM per host (made
// with lab.CreateVM and waited for), then cfg.VMs more VMs, cfg.Concurrency
// at a time, VM i on host i%N+1. For each it times port create -> ACTIVE
// (polling GET /v2.0/ports/ID every cfg.Poll) and port create -> first
// successful ping from the VM to the anchor on the next host (so every
// probe crosses a VXLAN tunnel). At the end it counts the flows of every
// host's br-int and br-tun, and samples the CPU the lab uses at rest.
func measureBringUp(ctx context.Context, l *lab.Lab, cfg bringUpConfig) (bringUpResult, error) {
	res := bringUpResult{Config: cfg, Hosts: l.NumHosts()}
	c := l.Client()
	network, sub, err := makeVXLANNetwork(ctx, c, "bench", "10.77.0.0/24")
	if err != nil {
		return res, err
	}
	res.MTU = network.MTU
	anchors, err := makeAnchors(ctx, l, network)
	if err != nil {
		return res, err
	}
	timings := make([]vmTiming, cfg.VMs)
	errs := make([]error, cfg.VMs)
	work := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.Concurrency {
		wg.Go(func() {
			for i := range work {
				hi := i%res.Hosts + 1
				anchor := anchors[hi%res.Hosts]
				timings[i], errs[i] = bringUpOne(ctx, l, cfg, "b"+strconv.Itoa(i), hi, network, sub, anchor)
			}
		})
	}
	for i := range cfg.VMs {
		work <- i
	}
	close(work)
	wg.Wait()
	res.Wall = time.Since(start)
	res.Timings = timings
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	if res.Flows, err = countFlows(ctx, l); err != nil {
		return res, err
	}
	res.IdleCPU = labCPU(l.Dir(), cfg.IdleSample)
	return res, nil
}

func makeVXLANNetwork(ctx context.Context, c *client.Client, name, cidr string) (api.Network, api.Subnet, error) {
	net, err := c.CreateNetwork(ctx, client.NetworkCreate{Name: name, NetworkType: api.NetworkTypeVXLAN})
	if err != nil {
		return net, api.Subnet{}, fmt.Errorf("bench: network: %w", err)
	}
	sub, err := c.CreateSubnet(ctx, client.SubnetCreate{Name: name + "-sub", NetworkID: net.ID, IPVersion: 4, CIDR: cidr})
	if err != nil {
		return net, sub, fmt.Errorf("bench: subnet: %w", err)
	}
	net, err = c.GetNetwork(ctx, net.ID)
	if err != nil {
		return net, sub, fmt.Errorf("bench: network: %w", err)
	}
	if net.NetworkType != api.NetworkTypeVXLAN {
		return net, sub, fmt.Errorf("bench: network type %q, want vxlan", net.NetworkType)
	}
	return net, sub, nil
}

// makeAnchors creates one VM per host with lab.CreateVM and waits until
// each is ACTIVE; anchors[i] is on host i+1.
func makeAnchors(ctx context.Context, l *lab.Lab, network api.Network) ([]string, error) {
	var ips []string
	for hi := 1; hi <= l.NumHosts(); hi++ {
		vm, err := l.CreateVM(ctx, lab.VMSpec{Name: "anchor" + strconv.Itoa(hi), Network: network.ID, Host: strconv.Itoa(hi), NoDHCP: true})
		if err != nil {
			return nil, fmt.Errorf("bench: anchor on host%d: %w", hi, err)
		}
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		_, err = l.Client().WaitPortStatus(wctx, vm.PortID, api.StatusActive, 50*time.Millisecond)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("bench: anchor on host%d: %w", hi, err)
		}
		ips = append(ips, vm.IP.Addr().String())
	}
	return ips, nil
}

// bringUpOne creates, plugs and times one VM. The status poller runs from
// t0, the ping loop once the VM is plugged; both must finish.
func bringUpOne(ctx context.Context, l *lab.Lab, cfg bringUpConfig, name string, hi int,
	network api.Network, sub api.Subnet, anchor string) (vmTiming, error) {
	tm := vmTiming{Name: name, Host: hi}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	t0 := time.Now()
	vm, port, err := createPort(ctx, l.Client(), l, name, hi, network)
	if err != nil {
		return tm, err
	}
	tm.Created = time.Since(t0)
	type result struct {
		at  time.Duration
		err error
	}
	active := make(chan result, 1)
	go func() {
		err := pollActive(ctx, l.Client(), port.ID, cfg.Poll)
		active <- result{time.Since(t0), err}
	}()
	if err := plug(ctx, l, vm, port, sub, network.MTU); err != nil {
		cancel()
		return tm, errors.Join(err, (<-active).err)
	}
	tm.Plugged = time.Since(t0)
	pingErr := pingUntilReply(ctx, vm.NetNS, anchor)
	tm.Ping = time.Since(t0)
	a := <-active
	tm.Active = a.at
	if err := errors.Join(pingErr, a.err); err != nil {
		return tm, fmt.Errorf("bench: vm %s on host%d (port %s, %s): %w", name, hi, port.ID, vm.IP, err)
	}
	return tm, nil
}

// pollActive GETs the port every interval until its status is ACTIVE.
func pollActive(ctx context.Context, c *client.Client, id string, every time.Duration) error {
	_, err := c.WaitPortStatus(ctx, id, api.StatusActive, every)
	return err
}

// pingUntilReply pings addr from inside ns until one echo reply comes back.
// ping -i 0.01 -w N keeps probing every 10 ms until a reply; it gives up
// early when the kernel reports an error (ARP failed), so it is rerun.
func pingUntilReply(ctx context.Context, ns, addr string) error {
	var last []byte
	for ctx.Err() == nil {
		out, err := netns.Command(ctx, ns, "ping", "-n", "-q", "-c1", "-i0.01", "-w5", addr).CombinedOutput()
		if err == nil {
			return nil
		}
		last = out
	}
	return fmt.Errorf("no reply from %s: %w: %s", addr, ctx.Err(), strings.TrimSpace(string(last)))
}

// countFlows counts the flows of br-int and br-tun on every host.
func countFlows(ctx context.Context, l *lab.Lab) ([]bridgeFlows, error) {
	var out []bridgeFlows
	for hi := 1; hi <= l.NumHosts(); hi++ {
		f := bridgeFlows{Host: hi}
		for br, n := range map[string]*int{"br-int": &f.BrInt, "br-tun": &f.BrTun} {
			dump, err := l.HostExec(ctx, hi, "ovs-ofctl", "dump-flows", br)
			if err != nil {
				return out, fmt.Errorf("bench: %w: %s", err, dump)
			}
			*n = strings.Count(string(dump), "actions=")
		}
		out = append(out, f)
	}
	return out, nil
}
