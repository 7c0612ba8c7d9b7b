package dataplane

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/vland/vland/internal/netns"
)

// Userspace tunnelling (datapath_type=netdev) encapsulates a packet only if
// ovs-vswitchd's own neighbour cache (`ovs-appctl tnl/neigh/show`) has the
// MAC of the underlay next hop; on a miss it sends an ARP request and drops
// the packet. The cache learns only by snooping ARP replies through the
// bridge that holds the underlay address (br-phy), so the first packets to
// a peer this host never talked to were lost. The primer fills the cache
// when a peer appears: it asks ovs-vswitchd its route to the peer (bridge
// and gateway) and, if the next hop is not in the cache, arpings it through
// that bridge; ovs-vswitchd snoops the reply. The kernel datapath resolves
// neighbours itself and needs none of this.

// neighRecheck is how often the primer checks that every peer's next hop
// is still in the cache (entries age out) and retries the ones that were
// not answered.
const neighRecheck = 10 * time.Second

// neighCmdWait bounds one ovs-appctl or arping run.
const neighCmdWait = 5 * time.Second

// neighCmds runs what the primer needs (tests use a fake).
type neighCmds interface {
	// appctl runs `ovs-appctl -t ovs-vswitchd ARGS...` and returns stdout.
	appctl(ctx context.Context, args ...string) (string, error)
	// arping sends one ARP request for ip out of dev and waits up to a
	// second for the reply; it reports whether one came.
	arping(ctx context.Context, dev string, ip netip.Addr) (bool, error)
}

// neighRoute is ovs-vswitchd's route to a peer: the bridge it leaves by and
// the next hop (the gateway, or the peer itself when on-link).
type neighRoute struct {
	bridge  string
	nextHop netip.Addr
}

// neighPrimer keeps ovs-vswitchd's tunnel neighbour cache filled with the
// next hops of the current tunnel peers. It works in the background: Apply
// only hands it the peers (update), so flow installation never waits for
// an ARP exchange.
type neighPrimer struct {
	cmds    neighCmds
	log     *slog.Logger
	recheck time.Duration
	kick    chan struct{}

	mu     sync.Mutex
	peers  []netip.Addr
	routes map[netip.Addr]neighRoute // peers whose route is known
	looked map[netip.Addr]time.Time  // last route lookup, failed ones too
}

func newNeighPrimer(cmds neighCmds, log *slog.Logger) *neighPrimer {
	return &neighPrimer{cmds: cmds, log: log, recheck: neighRecheck, kick: make(chan struct{}, 1),
		routes: map[netip.Addr]neighRoute{}, looked: map[netip.Addr]time.Time{}}
}

// update records the current tunnel peers, forgets the ones gone, and wakes
// the primer if one of them is new.
func (n *neighPrimer) update(peers []netip.Addr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.peers = peers
	now := map[netip.Addr]bool{}
	fresh := false
	for _, p := range peers {
		now[p] = true
		_, seen := n.looked[p]
		fresh = fresh || !seen
	}
	for p := range n.looked {
		if !now[p] {
			delete(n.looked, p)
			delete(n.routes, p)
		}
	}
	if fresh {
		n.wake()
	}
}

// wake asks for a pass now (also when ovs-vswitchd restarted with an empty
// cache).
func (n *neighPrimer) wake() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// run primes on every wake-up and every recheck until ctx ends.
func (n *neighPrimer) run(ctx context.Context) {
	t := time.NewTicker(n.recheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.kick:
		case <-t.C:
		}
		n.pass(ctx, time.Now())
	}
}

// pass arpings the next hop of every peer that ovs-vswitchd's cache lacks,
// each next hop once. A peer's route is looked up when first seen and
// again (at most once per recheck) while its next hop stays missing, so a
// peer without a route costs one lookup per recheck, not one per Apply.
func (n *neighPrimer) pass(ctx context.Context, now time.Time) {
	out, err := n.cmds.appctl(ctx, "tnl/neigh/show")
	if err != nil {
		n.log.Debug("tunnel neighbours: cannot read ovs-vswitchd's cache", "err", err)
		return
	}
	cache := parseTnlNeigh(out)
	n.mu.Lock()
	peers := n.peers
	n.mu.Unlock()
	missing := map[neighRoute][]netip.Addr{} // next hop -> peers behind it
	var order []neighRoute
	for _, peer := range peers {
		n.mu.Lock()
		r, known := n.routes[peer]
		last, looked := n.looked[peer]
		n.mu.Unlock()
		if known && cache[r] {
			continue
		}
		if !looked || now.Sub(last) >= n.recheck {
			r, known = n.lookup(ctx, peer, now)
		}
		if !known || cache[r] {
			continue
		}
		if !r.nextHop.Is4() {
			n.log.Debug("tunnel neighbours: not priming an IPv6 next hop", "peer", peer, "next_hop", r.nextHop)
			continue
		}
		if missing[r] == nil {
			order = append(order, r)
		}
		missing[r] = append(missing[r], peer)
	}
	for _, r := range order {
		answered, err := n.cmds.arping(ctx, r.bridge, r.nextHop)
		n.log.Debug("tunnel neighbour primed", "peers", missing[r], "bridge", r.bridge, "next_hop", r.nextHop,
			"answered", answered, "err", err)
	}
}

// lookup asks ovs-vswitchd its route to peer and remembers it.
func (n *neighPrimer) lookup(ctx context.Context, peer netip.Addr, now time.Time) (neighRoute, bool) {
	out, err := n.cmds.appctl(ctx, "ovs/route/lookup", peer.String())
	r, ok := parseRouteLookup(out, peer)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.looked[peer] = now
	if err != nil || !ok {
		delete(n.routes, peer)
		n.log.Debug("tunnel neighbours: no route to peer", "peer", peer, "out", strings.TrimSpace(out), "err", err)
		return r, false
	}
	n.routes[peer] = r
	return r, true
}

// parseRouteLookup reads `ovs-appctl ovs/route/lookup` ("src ...",
// "gateway ..." (:: when on-link), "dev BRIDGE").
func parseRouteLookup(out string, peer netip.Addr) (neighRoute, bool) {
	r := neighRoute{nextHop: peer}
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		v = strings.TrimSpace(v)
		switch k {
		case "gateway":
			if gw, err := netip.ParseAddr(v); err == nil && !gw.Unmap().IsUnspecified() {
				r.nextHop = gw.Unmap()
			}
		case "dev":
			r.bridge = v
		}
	}
	return r, r.bridge != ""
}

// parseTnlNeigh reads `ovs-appctl tnl/neigh/show`: a header, then one
// line per entry, "IP MAC BRIDGE" (newer versions add columns after).
func parseTnlNeigh(out string) map[neighRoute]bool {
	m := map[neighRoute]bool{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		ip, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		m[neighRoute{bridge: f[2], nextHop: ip.Unmap()}] = true
	}
	return m
}

// execNeighCmds runs ovs-appctl against the host's ovs-vswitchd and arping
// in the namespace that holds OVS's bridges.
type execNeighCmds struct {
	runDir string // OVS_RUNDIR ("" = the default)
	netNS  string // OVS's namespace ("" = ours)
}

func (e execNeighCmds) appctl(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, neighCmdWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ovs-appctl", append([]string{"--timeout=5", "-t", "ovs-vswitchd"}, args...)...)
	if e.runDir != "" {
		cmd.Env = append(os.Environ(), "OVS_RUNDIR="+e.runDir)
	}
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("ovs-appctl %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

func (e execNeighCmds) arping(ctx context.Context, dev string, ip netip.Addr) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, neighCmdWait)
	defer cancel()
	argv := []string{"arping", "-c", "1", "-w", "1", "-I", dev, ip.String()}
	var cmd *exec.Cmd
	if e.netNS != "" {
		cmd = netns.Command(ctx, e.netNS, argv...)
	} else {
		cmd = exec.CommandContext(ctx, argv[0], argv[1:]...)
	}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return false, nil // no reply within the second
	}
	if err != nil {
		return false, fmt.Errorf("arping: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return true, nil
}
