package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
)

// portsResult is the outcome of measurePorts.
type portsResult struct {
	Ports, Networks int
	Create          time.Duration   // all ports created through the API
	Active          time.Duration   // plugging started -> every port ACTIVE
	PlugStart       time.Time       // wall clock, to match the agents' debug logs
	Plugged         []time.Duration // per host: plugging started -> its ovs-vsctl returned
	HostActive      []time.Duration // per host: plugging started -> its ports ACTIVE
	Polls           int             // port listings until all were ACTIVE
	PollMax         time.Duration   // the slowest listing: how late ACTIVE may be seen
	Flows           []bridgeFlows
	Agents          []agentMem // per host
	// AgentCPU per host: CPU time its agent used while the ports were
	// created, and from plugging to all ACTIVE.
	AgentCPUCreate, AgentCPUActive []time.Duration
}

// measurePorts creates n ports through the API on nets VXLAN networks,
// bound round-robin to the lab's hosts, plugs them all at once (one
// ovs-vsctl transaction per host adding internal interfaces with the
// port's iface-id, as a hypervisor would its taps) and times until the API
// shows every port ACTIVE. Then it counts every host's flows and reads its
// agent's RSS (issue 11's "3 hosts, 1,000 ports": OVN has ~11,500 flows
// per chassis, ovn-controller 36-42 MB, 10.5-17.5 s to ACTIVE).
func measurePorts(ctx context.Context, l *lab.Lab, n, nets int) (portsResult, error) {
	res := portsResult{Ports: n, Networks: nets}
	c := l.Client()
	networks := make([]api.Network, nets)
	for i := range nets {
		var err error
		if networks[i], _, err = makeVXLANNetwork(ctx, c, "scale"+strconv.Itoa(i), fmt.Sprintf("10.80.%d.0/24", i)); err != nil {
			return res, err
		}
	}
	unlimited := -1 // beyond Neutron's default of 500 ports
	if _, err := c.SetQuota(ctx, networks[0].ProjectID, client.QuotaUpdate{Port: &unlimited}); err != nil {
		return res, fmt.Errorf("bench: port quota: %w", err)
	}
	hosts := l.NumHosts()
	names := make([]string, hosts)
	for hi := range hosts {
		h, err := l.HostInfo(hi + 1)
		if err != nil {
			return res, err
		}
		names[hi] = h.Name
	}
	cpu := func() []time.Duration {
		out := make([]time.Duration, hosts)
		for hi := range out {
			out[hi] = pidCPU(l.AgentPid(hi + 1))
		}
		return out
	}
	cpu0 := cpu()
	ports := make([]api.Port, n)
	errs := make([]error, n)
	work := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for i := range work {
				ports[i], errs[i] = c.CreatePort(ctx, client.PortCreate{Name: "s" + strconv.Itoa(i), NetworkID: networks[i%nets].ID,
					DeviceID: "scale-" + strconv.Itoa(i), DeviceOwner: "compute:nova", BindingHostID: names[i%hosts]})
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	res.Create = time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("bench: create ports: %w", err)
	}

	cpu1 := cpu()
	start = time.Now()
	res.PlugStart = start
	res.Plugged, res.HostActive = make([]time.Duration, hosts), make([]time.Duration, hosts)
	perr := make([]error, hosts)
	for hi := range hosts {
		wg.Go(func() {
			defer func() { res.Plugged[hi] = time.Since(start) }()
			var args []string
			for i := hi; i < n; i += hosts {
				p := ports[i]
				tap := "tp" + p.ID[:11]
				args = append(args, "--", "--may-exist", "add-port", "br-int", tap, "--", "set", "Interface", tap, "type=internal",
					"external_ids:iface-id="+p.ID, "external_ids:attached-mac="+p.MACAddress, "external_ids:iface-status=active")
			}
			_, o, err := l.Host(hi + 1)
			if err == nil {
				_, err = o.Vsctl(ctx, args[1:]...)
			}
			perr[hi] = err
		})
	}
	wg.Wait()
	if err := errors.Join(perr...); err != nil {
		return res, fmt.Errorf("bench: plug: %w", err)
	}
	want := map[string]int{} // port id -> host index
	for i, p := range ports {
		want[p.ID] = i % hosts
	}
	for {
		polled := time.Now()
		// Only id and status: a full listing of 1,000 ports took up to
		// 0.3 s here, which was the measure's resolution.
		all, err := c.ListPorts(ctx, url.Values{"fields": {"id", "status"}})
		if err != nil {
			return res, err
		}
		res.Polls++
		res.PollMax = max(res.PollMax, time.Since(polled))
		active := 0
		perHost := make([]int, hosts)
		for _, p := range all {
			if hi, ok := want[p.ID]; ok && p.Status == api.StatusActive {
				active++
				perHost[hi]++
			}
		}
		for hi, got := range perHost {
			if res.HostActive[hi] == 0 && got == (n-hi+hosts-1)/hosts {
				res.HostActive[hi] = time.Since(start)
			}
		}
		if active == n {
			break
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("bench: %d of %d ports ACTIVE: %w", active, n, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	res.Active = time.Since(start)
	cpu2 := cpu()
	for hi := range hosts {
		res.AgentCPUCreate = append(res.AgentCPUCreate, cpu1[hi]-cpu0[hi])
		res.AgentCPUActive = append(res.AgentCPUActive, cpu2[hi]-cpu1[hi])
	}
	var err error
	if res.Flows, err = countFlows(ctx, l); err != nil {
		return res, err
	}
	res.Agents, err = agentMems(ctx, l)
	return res, err
}

func (r portsResult) print(w io.Writer) {
	fmt.Fprintf(w, "%d ports on %d VXLAN networks, %d hosts: created in %.1f s; plugged -> all ACTIVE in %.2f s\n",
		r.Ports, r.Networks, len(r.Flows), r.Create.Seconds(), r.Active.Seconds())
	fmt.Fprintf(w, "  plugging started %s; %d port listings, the slowest %.2f s\n",
		r.PlugStart.UTC().Format("15:04:05.000"), r.Polls, r.PollMax.Seconds())
	for hi := range r.Plugged {
		fmt.Fprintf(w, "  host%d: ovs-vsctl returned after %.2f s, its ports ACTIVE after %.2f s; agent CPU %.2f s while the ports were created, %.2f s from plugging to all ACTIVE\n",
			hi+1, r.Plugged[hi].Seconds(), r.HostActive[hi].Seconds(), r.AgentCPUCreate[hi].Seconds(), r.AgentCPUActive[hi].Seconds())
	}
	for _, f := range r.Flows {
		fmt.Fprintf(w, "  host%d flows: br-int %d, br-tun %d, total %d\n", f.Host, f.BrInt, f.BrTun, f.BrInt+f.BrTun)
	}
	for _, m := range r.Agents {
		m.print(w)
	}
}
