package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/statusmirror"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
	"github.com/vland/vland/internal/store/etcdstore/embedded"
)

// The scale simulation (issue 11): many agents in this process, each with
// a lean fake data plane, against one etcd in a child process (so its CPU
// is counted apart and it can be killed and restarted), and the server's
// status mirror in another (as in a server; its CPU counted apart too).
// Ports are written as the server writes them (store.PortOps: the port
// and its index keys). Each network has one port on each of 4 consecutive
// hosts. Small by default (a CI test
// with assertions); VLAND_SCALE=HOSTSxPORTS sets the size, e.g.
//
//	VLAND_SCALE=1000x20 go test -run TestScaleSim -v -timeout 60m ./internal/agent

func TestMain(m *testing.M) {
	if dir := os.Getenv("VLAND_SIM_ETCD_DIR"); dir != "" {
		etcdChild(dir, os.Getenv("VLAND_SIM_ETCD_URL"))
		return
	}
	if dir := os.Getenv("VLAND_SIM_MIRROR_DIR"); dir != "" {
		mirrorChild(dir, os.Getenv("VLAND_SIM_ETCD_URL"))
		return
	}
	os.Exit(m.Run())
}

// etcdChild runs the simulation's etcd until SIGTERM.
func etcdChild(dir, url string) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	e, err := embedded.Start(embedded.Config{DataDir: dir, ClientURL: url})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("ready")
	<-sig
	_ = e.Close()
	os.Exit(0)
}

// mirrorChild runs the status mirror on the etcd at url (its server
// password in dir) until SIGTERM.
func mirrorChild(dir, url string) {
	pw, err := etcdstore.ReadPasswordFile(dir + "/" + etcdstore.ServerPasswordFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	st, err := etcdstore.Connect(etcdstore.ClientConfig{Endpoints: []string{url}, Username: store.ServerUser, Password: pw})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	fmt.Println("ready")
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	_ = statusmirror.Run(ctx, st, log)
	_ = st.Close()
	os.Exit(0)
}

// simEtcd is the child etcd.
type simEtcd struct {
	dir, url string
	cmd      *exec.Cmd
}

func startSimEtcd(t testing.TB, dir, url string) *simEtcd {
	t.Helper()
	return &simEtcd{dir: dir, url: url, cmd: startChild(t, "VLAND_SIM_ETCD_DIR="+dir, "VLAND_SIM_ETCD_URL="+url)}
}

// startChild runs this test binary with env added, once it printed "ready".
func startChild(t testing.TB, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "child did not start")
	require.Equal(t, "ready\n", line)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return cmd
}

func (e *simEtcd) kill() {
	_ = e.cmd.Process.Kill()
	_ = e.cmd.Wait()
}

// cpu is the child's user+system CPU time.
func (e *simEtcd) cpu() time.Duration { return procCPU(e.cmd.Process.Pid) }

func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond // USER_HZ is 100
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func selfRSS() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// simDP is a lean fake data plane: plugged interfaces, the last applied
// state, and a hook that fires when an applied state first holds a port.
type simDP struct {
	mu      sync.Mutex
	ifaces  []hoststate.Interface
	last    hoststate.State
	applies int
	changes chan struct{}
	watch   string
	seen    chan time.Time
}

func (f *simDP) Start(context.Context) error { return nil }
func (f *simDP) Changes() <-chan struct{}    { return f.changes }
func (f *simDP) Close()                      {}

func (f *simDP) Interfaces(context.Context) ([]hoststate.Interface, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ifaces), nil
}

func (f *simDP) Apply(_ context.Context, s hoststate.State) ([]hoststate.PortResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = s
	f.applies++
	if f.watch != "" && stateHas(s, f.watch) {
		f.seen <- time.Now()
		f.watch = ""
	}
	out := make([]hoststate.PortResult, 0, len(s.Ports))
	for id, p := range s.Ports {
		out = append(out, hoststate.PortResult{PortID: id, LocalVLAN: 1, Bound: p.AdminStateUp})
	}
	return out, nil
}

func (f *simDP) plug(id string) {
	f.mu.Lock()
	f.ifaces = append(f.ifaces, iface(id))
	f.mu.Unlock()
	select {
	case f.changes <- struct{}{}:
	default:
	}
}

func (f *simDP) expect(id string, seen chan time.Time) {
	f.mu.Lock()
	f.watch, f.seen = id, seen
	f.mu.Unlock()
}

func (f *simDP) state() hoststate.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// stateHas reports whether a state holds port id, locally or at a peer.
func stateHas(s hoststate.State, id string) bool {
	if _, ok := s.Ports[id]; ok {
		return true
	}
	for _, p := range s.Peers {
		for _, pp := range p.Ports {
			if pp.ID == id {
				return true
			}
		}
	}
	return false
}

type simHost struct {
	name string
	a    *Agent
	dp   *simDP
	nets []string
}

func simHostName(h int) string { return fmt.Sprintf("h%04d", h) }

// simNet is the network of host h's i-th port: hosts 4k..4k+3 share
// portsPerHost networks.
func simNet(h, i, portsPerHost int) string { return fmt.Sprintf("n%05d", (h/4)*portsPerHost+i) }

func simSize() (hosts, ports int) {
	hosts, ports = 40, 5
	if v := os.Getenv("VLAND_SCALE"); v != "" {
		a, b, _ := strings.Cut(v, "x")
		hosts, _ = strconv.Atoi(a)
		ports, _ = strconv.Atoi(b)
	}
	return hosts, ports
}

func pctl(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func TestScaleSim(t *testing.T) {
	nHosts, perHost := simSize()
	require.Zero(t, nHosts%4, "hosts must be a multiple of 4")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	ln.Close()
	etcd := startSimEtcd(t, t.TempDir(), url)
	t.Cleanup(func() { etcd.kill() })
	pw, err := etcdstore.ReadPasswordFile(etcd.dir + "/" + etcdstore.ServerPasswordFile)
	require.NoError(t, err)
	cc := etcdstore.ClientConfig{Endpoints: []string{url}, Username: store.ServerUser, Password: pw}
	// Agents share a few connections (one login each); etcd still keeps
	// one watcher per agent and prefix, which is the fan-out measured.
	clients := make([]store.Store, 8)
	for i := range clients {
		clients[i], err = etcdstore.Connect(cc)
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		for _, c := range clients {
			c.Close()
		}
	})
	st := clients[0]
	mirror := startChild(t, "VLAND_SIM_MIRROR_DIR="+etcd.dir, "VLAND_SIM_ETCD_URL="+url)
	t.Cleanup(func() { _ = mirror.Process.Signal(syscall.SIGTERM); _ = mirror.Wait() })
	mirrorCPU := func() time.Duration { return procCPU(mirror.Process.Pid) }
	// The agents' listings, counted (what a cold start reads).
	listed := &listCounter{}
	agentClients := make([]store.Store, len(clients))
	for i, c := range clients {
		agentClients[i] = &countedLists{Store: c, n: listed}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()

	// Desired state: networks and ports (bound, as Nova binds them).
	start := time.Now()
	var ops []store.Op
	flush := func() {
		_, err := st.Txn(ctx, nil, ops)
		require.NoError(t, err)
		ops = ops[:0]
	}
	add := func(key string, v any) {
		b, _ := json.Marshal(v)
		ops = append(ops, store.Op{Key: key, Value: b})
		if len(ops) >= 500 {
			flush()
		}
	}
	addPort := func(p api.Port) {
		b, _ := json.Marshal(p)
		ops = append(ops, store.PortOps(nil, &p, b)...)
		if len(ops) >= 500 {
			flush()
		}
	}
	hosts := make([]*simHost, nHosts)
	for h := range nHosts {
		hosts[h] = &simHost{name: simHostName(h), dp: &simDP{changes: make(chan struct{}, 1)}}
		for i := range perHost {
			n := simNet(h, i, perHost)
			if h%4 == 0 {
				add(store.NetworkKey(n), vxlanNet(n, 1000+(h/4)*perHost+i))
			}
			id := fmt.Sprintf("p%04d-%02d", h, i)
			addPort(vmPort(id, n, simMAC(h, i), fmt.Sprintf("10.0.%d.%d", h%4, i+2), hosts[h].name))
			hosts[h].dp.ifaces = append(hosts[h].dp.ifaces, iface(id))
			hosts[h].nets = append(hosts[h].nets, n)
		}
	}
	flush()
	t.Logf("store written: %d networks, %d ports in %.1f s", nHosts/4*perHost, nHosts*perHost, time.Since(start).Seconds())
	obs := observeLayout(ctx, st, hosts)

	// Agents.
	start = time.Now()
	cpu0, mcpu0 := selfCPU(), mirrorCPU()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	errs := &errCounter{n: map[string]int{}}
	log = slog.New(errs)
	var wg sync.WaitGroup
	for h, sh := range hosts {
		cfg := Config{HostConfig: HostConfig{Host: sh.name, LocalIP: netip.AddrFrom4([4]byte{10, byte(h >> 16), byte(h >> 8), byte(h)}),
			TunnelTypes: []string{"vxlan"}, TunnelPorts: hoststate.TunnelPortsFlow}, DatapathType: "netdev", Log: log,
			// No periodic resync inside the measurements (its cost shows
			// in the idle figure of a real deployment, not per change).
			// Nor the agent record's heartbeat rewrite: agents started
			// together would rewrite theirs together every 30 s (real
			// agents are not in step); it wakes no agent either way.
			ResyncInterval: time.Hour, HeartbeatInterval: time.Hour}
		sh.a, err = New(cfg, agentClients[h%len(clients)], sh.dp)
		require.NoError(t, err)
		wg.Go(func() { _ = sh.a.Run(ctx) })
		// Start in waves of 100, each after the previous one's first
		// listing: a thousand listings of every port at once hold
		// gigabytes in etcd's buffers (a whole cloud cold-starting in
		// the same second is not what this measures).
		if h%100 == 99 {
			for _, o := range hosts[h-99 : h+1] {
				<-o.a.cache.ready
			}
		}
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	// Converged: every host has its ports and 3 peers, each with every port.
	converged := func(sh *simHost) bool {
		s := sh.dp.state()
		if len(s.Ports) != perHost || len(s.Peers) != 3 {
			return false
		}
		for _, p := range s.Peers {
			if len(p.Ports) != perHost {
				return false
			}
		}
		return true
	}
	require.Eventually(t, func() bool {
		for _, sh := range hosts {
			if !converged(sh) {
				return false
			}
		}
		return true
	}, 30*time.Minute, 100*time.Millisecond)
	t.Logf("cold start: all %d agents converged in %.1f s, agent CPU %.1f s, etcd CPU %.1f s so far",
		nHosts, time.Since(start).Seconds(), (selfCPU() - cpu0).Seconds(), etcd.cpu().Seconds())
	// Quiet: the agents have drained etcd's fan-out of the cold start
	// (every status write reaches every agent).
	allEvents := func() (n int64) {
		for _, o := range hosts {
			n += o.a.cache.stats.events.Load()
		}
		return n
	}
	allKept := func() (n int64) {
		for _, o := range hosts {
			n += o.a.cache.stats.kept.Load()
		}
		return n
	}
	for prev := allEvents(); ; {
		time.Sleep(2 * time.Second)
		cur := allEvents()
		if cur-prev < int64(nHosts) {
			break
		}
		prev = cur
	}
	t.Logf("fan-out of the cold start drained %.1f s after it began", time.Since(start).Seconds())
	t.Logf("  status mirror over the cold start: %d records copied, CPU %.2f s; record -> copy p50 %v, p99 %v",
		obs.copies.Load(), (mirrorCPU() - mcpu0).Seconds(), obs.latP(0.5), obs.latP(0.99))
	t.Logf("  cold start read: %d listings, %d keys, %d MiB listed; %d watch events delivered to the agents (%d kept)",
		listed.calls.Load(), listed.keys.Load(), listed.bytes.Load()>>20, allEvents(), allKept())

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapPerAgent := int64(ms.HeapInuse) / int64(nHosts)

	// Background CPU (heartbeats, keep-alives) over an idle second.
	c0, e0, m0 := selfCPU(), etcd.cpu(), mirrorCPU()
	time.Sleep(3 * time.Second)
	idleCPU, idleEtcd, idleMirror := (selfCPU()-c0)/3, (etcd.cpu()-e0)/3, (mirrorCPU()-m0)/3

	// Changes: a port created on a random host's network, plugged there.
	type sample struct {
		lat           time.Duration
		woken, reconc int
		events, kept  int64
		cpu, etcdCPU  time.Duration
		sharing       int
		// Expected from the key layout (see layoutObserver): watch
		// events etcd would deliver, to how many agents; the mirror's copies.
		newFan    int64 // of the network and host ranges
		newRecv   int
		global    int64 // events under globalPrefixes
		copies    int64
		mirrorCPU time.Duration
	}
	var samples []sample
	var changeLats []time.Duration // status record -> mirror copy, over the changes
	changes := 20
	if os.Getenv("VLAND_SCALE") != "" {
		changes = 50
	}
	for i := range changes {
		h := (i * 7919) % nHosts
		sh := hosts[h]
		n := sh.nets[i%perHost]
		id := fmt.Sprintf("x%05d", i)
		var affected []*simHost
		for _, o := range hosts[h/4*4 : h/4*4+4] {
			affected = append(affected, o)
		}
		seen := make(chan time.Time, len(affected))
		for _, o := range affected {
			o.dp.expect(id, seen)
		}
		before := make([]int64, nHosts)
		var ev0, kept0 int64
		for j, o := range hosts {
			before[j] = o.a.storeWakes.Load()
			ev0 += o.a.cache.stats.events.Load()
			kept0 += o.a.cache.stats.kept.Load()
		}
		c0, e0, m0 := selfCPU(), etcd.cpu(), mirrorCPU()
		recv0, copies0, global0 := obs.received(), obs.copies.Load(), obs.global.Load()
		lats0 := obs.lats()
		t0 := time.Now()
		sh.dp.plug(id)
		p := vmPort(id, n, simMAC(h, 90+i%9), fmt.Sprintf("10.9.%d.%d", i/250, i%250+2), sh.name)
		b, _ := json.Marshal(p)
		_, err := st.Txn(ctx, nil, store.PortOps(nil, &p, b))
		require.NoError(t, err)
		var last time.Time
		for range affected {
			select {
			case ts := <-seen:
				last = ts
			case <-time.After(30 * time.Second):
				t.Fatalf("change %d: not every affected agent applied port %s", i, id)
			}
		}
		lat := last.Sub(t0)
		time.Sleep(300 * time.Millisecond) // the status write and what it wakes
		w := float64(time.Since(t0)) / float64(time.Second)
		s := sample{lat: lat, sharing: len(affected), cpu: selfCPU() - c0 - time.Duration(float64(idleCPU)*w),
			etcdCPU: etcd.cpu() - e0 - time.Duration(float64(idleEtcd)*w), copies: obs.copies.Load() - copies0,
			mirrorCPU: mirrorCPU() - m0 - time.Duration(float64(idleMirror)*w), global: obs.global.Load() - global0}
		for j, r := range obs.received() {
			if d := r - recv0[j]; d > 0 {
				s.newFan += d
				s.newRecv++
			}
		}
		changeLats = append(changeLats, obs.lats()[len(lats0):]...)
		for j, o := range hosts {
			if d := int(o.a.storeWakes.Load() - before[j]); d > 0 {
				s.woken++
				s.reconc += d
			}
			s.events += o.a.cache.stats.events.Load()
			s.kept += o.a.cache.stats.kept.Load()
		}
		s.events -= ev0
		s.kept -= kept0
		samples = append(samples, s)
	}
	var lats []time.Duration
	var woken, reconc, events, kept int
	var cpu, ecpu, mcpu time.Duration
	var newFan, copies, global int64
	newRecv, maxWoken := 0, 0
	for _, s := range samples {
		lats = append(lats, s.lat)
		woken += s.woken
		maxWoken = max(maxWoken, s.woken)
		reconc += s.reconc
		events += int(s.events)
		kept += int(s.kept)
		cpu += s.cpu
		ecpu += s.etcdCPU
		mcpu += s.mirrorCPU
		newFan += s.newFan
		newRecv += s.newRecv
		copies += s.copies
		global += s.global
	}
	n := len(samples)
	t.Logf("scale %d hosts / %d ports, %d changes (a port created and plugged on a network of 4 hosts):", nHosts, nHosts*perHost, n)
	t.Logf("  create -> all affected agents computed: p50 %v, p99 %v", pctl(lats, 0.5).Round(100*time.Microsecond), pctl(lats, 0.99).Round(100*time.Microsecond))
	t.Logf("  agents woken per change: mean %.1f, max %d (hosts sharing the network: 4); store wake-ups per change %.1f", float64(woken)/float64(n), maxWoken, float64(reconc)/float64(n))
	t.Logf("  agent CPU per change (all agents, idle subtracted): %.1f ms; etcd CPU per change %.1f ms", float64(cpu.Microseconds())/1000/float64(n), float64(ecpu.Microseconds())/1000/float64(n))
	t.Logf("  etcd watch events delivered per change: %.0f (kept by agents: %.1f)", float64(events)/float64(n), float64(kept)/float64(n))
	t.Logf("  expected from the keys each change wrote and who follows them: etcd watch fan-out per change %.1f events of the network and host ranges, to %.1f agents (%.1f events per agent receiving any); plus %.2f events under the prefixes still followed whole (%s) x %d agents",
		float64(newFan)/float64(n), float64(newRecv)/float64(n), float64(newFan)/float64(max(newRecv, 1)),
		float64(global)/float64(n), strings.Join(globalPrefixes, " "), nHosts)
	t.Logf("  status mirror per change: %.1f copies written, CPU %.2f ms (idle subtracted; idle %.1f ms CPU/s); record -> copy p50 %v, p99 %v",
		float64(copies)/float64(n), float64(mcpu.Microseconds())/1000/float64(n), float64(idleMirror.Microseconds())/1000,
		pctlOr0(changeLats, 0.5), pctlOr0(changeLats, 0.99))
	t.Logf("  agent memory: heap in use %.0f KiB per agent; process RSS %d MiB for %d agents", float64(heapPerAgent)/1024, selfRSS()>>20, nHosts)
	t.Logf("  idle: agents %.0f ms CPU/s, etcd %.0f ms CPU/s", float64(idleCPU.Milliseconds()), float64(idleEtcd.Milliseconds()))
	require.LessOrEqual(t, maxWoken, 4, "only the hosts sharing the network wake")

	// etcd crash and restart: time until every agent follows the store
	// again (it sees a probe security group) and a probe port is computed
	// by its network's hosts.
	var rewatch0, listings0 int64
	for _, o := range hosts {
		rewatch0 += o.a.cache.stats.rewatches.Load()
		listings0 += o.a.cache.stats.listings.Load()
	}
	errs.reset()
	t0 := time.Now()
	etcd.kill()
	etcd = startSimEtcd(t, etcd.dir, url)
	up := time.Since(t0)
	probe := "y00000"
	seen := make(chan time.Time, 4)
	for _, o := range hosts[:4] {
		o.dp.expect(probe, seen)
	}
	hosts[0].dp.plug(probe)
	require.Eventually(t, func() bool {
		p := vmPort(probe, hosts[0].nets[0], simMAC(0, 99), "10.8.0.2", hosts[0].name)
		b, _ := json.Marshal(p)
		_, err := st.Txn(ctx, nil, append(store.PortOps(nil, &p, b),
			store.Op{Key: store.SecurityGroupKey("probe"), Value: []byte(`{"id":"probe"}`)}))
		return err == nil
	}, time.Minute, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		for _, o := range hosts {
			o.a.cache.mu.Lock()
			_, ok := o.a.cache.snap.SecurityGroups["probe"]
			o.a.cache.mu.Unlock()
			if !ok {
				return false
			}
		}
		return true
	}, 5*time.Minute, 20*time.Millisecond)
	all := time.Since(t0)
	for range 4 {
		select {
		case <-seen:
		case <-time.After(time.Minute):
			t.Fatal("probe port not computed after the etcd restart")
		}
	}
	var relists, rewatches, listings int64
	for _, o := range hosts {
		relists += o.a.cache.stats.relists.Load()
		rewatches += o.a.cache.stats.rewatches.Load()
		listings += o.a.cache.stats.listings.Load()
	}
	t.Logf("  etcd killed and restarted: serving again after %.2f s; every agent following the store %.2f s after the kill; probe port computed by its 4 hosts %.2f s after", up.Seconds(), all.Seconds(), time.Since(t0).Seconds())
	t.Logf("  after the restart: %d watches started again (all agents; %d static ranges each, plus 3 per network of the host), %d prefixes listed again; why they broke: %s",
		rewatches-rewatch0, len(hosts[0].a.cache.prefixes), listings-listings0, errs.top(3))

	// Every agent's watches broken at once, as by a lost connection or a
	// refused login (the etcd client resumes its watches by itself after
	// a plain restart, so the restart above may break none): time until
	// every agent follows the store again, and what it read to get there.
	rewatch0, listings0 = rewatches, listings
	calls0, bytes0 := listed.calls.Load(), listed.bytes.Load()
	errs.reset()
	t0 = time.Now()
	listed.breakAll()
	_, err = st.Txn(ctx, nil, []store.Op{{Key: store.SecurityGroupKey("probe2"), Value: []byte(`{"id":"probe2"}`)}})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		for _, o := range hosts {
			o.a.cache.mu.Lock()
			_, ok := o.a.cache.snap.SecurityGroups["probe2"]
			o.a.cache.mu.Unlock()
			if !ok {
				return false
			}
		}
		return true
	}, 10*time.Minute, 20*time.Millisecond)
	all = time.Since(t0)
	rewatches, listings = 0, 0
	for _, o := range hosts {
		rewatches += o.a.cache.stats.rewatches.Load()
		listings += o.a.cache.stats.listings.Load()
	}
	t.Logf("  every watch of every agent broken at once: every agent following the store again %.2f s after; %d watches started again, %d prefixes listed again (%d listings, %d MiB); why: %s",
		all.Seconds(), rewatches-rewatch0, listings-listings0, listed.calls.Load()-calls0, (listed.bytes.Load()-bytes0)>>20, errs.top(2))
	t.Logf("  ranges opened (hosts joining networks, remote groups, routers) over the run: %d", relists)
}

// layoutObserver follows the whole store as one more watcher, for what
// the agents' own counters cannot show: the status mirror's latency (a
// status record's arrival to its copy's, on the same watch) and the watch
// fan-out the key layout should give the same writes, to compare with
// what the agents counted. An agent follows network-ports/ and
// network-status/ of its networks, and host-ports/ and port-status/ of its
// own host; the prefixes every agent follows whole (globalPrefixes) are
// counted apart, as delivered to every agent.
type layoutObserver struct {
	netHosts map[string][]int // network → the hosts (indexes) with ports on it
	hostIdx  map[string]int
	recv     []atomic.Int64 // per host: events of the network and host ranges it would receive
	global   atomic.Int64   // events under globalPrefixes (each to every agent)
	copies   atomic.Int64   // network-status puts

	mu       sync.Mutex
	statusAt map[string]time.Time // host/port → arrival of its latest record
	lat      []time.Duration      // record → copy
}

var globalPrefixes = []string{store.AgentsPrefix, store.AgentAlivePrefix, store.SecurityGroupsPrefix}

func observeLayout(ctx context.Context, st store.Store, hosts []*simHost) *layoutObserver {
	o := &layoutObserver{netHosts: map[string][]int{}, hostIdx: map[string]int{}, recv: make([]atomic.Int64, len(hosts)),
		statusAt: map[string]time.Time{}}
	for i, h := range hosts {
		o.hostIdx[h.name] = i
		for _, n := range h.nets {
			o.netHosts[n] = append(o.netHosts[n], i)
		}
	}
	ch := st.Watch(ctx, strings.TrimSuffix(store.NetworksPrefix, "networks/"), 0)
	go func() {
		for ev := range ch {
			if ev.Err == nil {
				o.see(ev)
			}
		}
	}()
	return o
}

func (o *layoutObserver) see(ev store.Event) {
	key, now := ev.KV.Key, time.Now()
	if host, port, ok := store.ParsePortStatusKey(key); ok {
		o.deliver(o.host(host))
		if ev.Type == store.EventPut {
			o.mu.Lock()
			o.statusAt[host+"/"+port] = now
			o.mu.Unlock()
		}
		return
	}
	if net, host, port, ok := store.ParseNetworkStatusKey(key); ok {
		o.deliver(o.netHosts[net])
		if ev.Type == store.EventPut {
			o.copies.Add(1)
			o.mu.Lock()
			if t0, ok := o.statusAt[host+"/"+port]; ok {
				o.lat = append(o.lat, now.Sub(t0))
				delete(o.statusAt, host+"/"+port)
			}
			o.mu.Unlock()
		}
		return
	}
	if rest, ok := strings.CutPrefix(key, store.NetworkPortsPrefix); ok {
		net, _, _ := strings.Cut(rest, "/")
		o.deliver(o.netHosts[net])
	} else if rest, ok := strings.CutPrefix(key, store.HostPortsPrefix); ok {
		host, _, _ := strings.Cut(rest, "/")
		o.deliver(o.host(host))
	} else if slices.ContainsFunc(globalPrefixes, func(p string) bool { return strings.HasPrefix(key, p) }) {
		o.global.Add(1)
	}
}

func (o *layoutObserver) host(name string) []int {
	if i, ok := o.hostIdx[name]; ok {
		return []int{i}
	}
	return nil
}

func (o *layoutObserver) deliver(hosts []int) {
	for _, i := range hosts {
		o.recv[i].Add(1)
	}
}

// received is how many events each host would have received so far.
func (o *layoutObserver) received() []int64 {
	out := make([]int64, len(o.recv))
	for i := range o.recv {
		out[i] = o.recv[i].Load()
	}
	return out
}

// lats are the record → copy latencies measured so far, in order.
func (o *layoutObserver) lats() []time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.lat)
}

// latP is a percentile of every latency measured so far.
func (o *layoutObserver) latP(p float64) time.Duration { return pctlOr0(o.lats(), p) }

// pctlOr0 is pctl, 0 for no samples, rounded for printing.
func pctlOr0(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return pctl(d, p).Round(10 * time.Microsecond)
}

// listCounter counts the listings the agents make, their keys and bytes;
// breakAll ends every watch running with an error.
type listCounter struct {
	calls, keys, bytes atomic.Int64

	mu  sync.Mutex
	brk chan struct{}
}

func (l *listCounter) breaker() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.brk == nil {
		l.brk = make(chan struct{})
	}
	return l.brk
}

func (l *listCounter) breakAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.brk != nil {
		close(l.brk)
	}
	l.brk = make(chan struct{})
}

func (c *countedLists) Watch(ctx context.Context, prefix string, rev int64) <-chan store.Event {
	brk := c.n.breaker()
	wctx, cancel := context.WithCancel(ctx)
	in := c.Store.Watch(wctx, prefix, rev)
	out := make(chan store.Event, 16)
	go func() {
		defer close(out)
		defer cancel()
		for {
			select {
			case ev, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case <-brk:
				select {
				case out <- store.Event{Err: errors.New("injected: connection lost")}:
				case <-ctx.Done():
				}
				return
			}
		}
	}()
	return out
}

type countedLists struct {
	store.Store
	n *listCounter
}

func (c *countedLists) List(ctx context.Context, prefix string) ([]store.KV, int64, error) {
	kvs, rev, err := c.Store.List(ctx, prefix)
	c.n.calls.Add(1)
	c.n.keys.Add(int64(len(kvs)))
	for _, kv := range kvs {
		c.n.bytes.Add(int64(len(kv.Key) + len(kv.Value)))
	}
	return kvs, rev, err
}

// errCounter is a log handler counting the agents' warnings and errors by
// message and error (the simulation's agents would log thousands of lines).
type errCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (e *errCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (e *errCounter) WithAttrs([]slog.Attr) slog.Handler           { return e }
func (e *errCounter) WithGroup(string) slog.Handler                { return e }
func (e *errCounter) Handle(_ context.Context, r slog.Record) error {
	k := r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			k += ": " + a.Value.String()
		}
		return true
	})
	e.mu.Lock()
	e.n[k]++
	e.mu.Unlock()
	return nil
}

func (e *errCounter) reset() {
	e.mu.Lock()
	clear(e.n)
	e.mu.Unlock()
}

// top lists the n most frequent messages with their counts.
func (e *errCounter) top(n int) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	keys := slices.SortedFunc(maps.Keys(e.n), func(a, b string) int { return e.n[b] - e.n[a] })
	var out []string
	for _, k := range keys[:min(n, len(keys))] {
		out = append(out, fmt.Sprintf("%dx %q", e.n[k], k))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

func simMAC(h, i int) string {
	return fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", h>>8, h&0xff, i)
}

var _ = api.StatusActive
