package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

// fakeNet answers pings the way a correctly isolated network does, unless
// leak is set; it keeps one ARP table per VM.
type fakeNet struct {
	mu    sync.Mutex
	eps   []Endpoint
	neigh map[string]map[string]string // vm -> ip -> mac
	leak  bool
	blind bool
	caps  map[string]*fakeCapture
}

func (f *fakeNet) run(_ context.Context, vm string, argv ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.neigh[vm] == nil {
		f.neigh[vm] = map[string]string{}
	}
	src := f.find(vm)
	cmd := strings.Join(argv, " ")
	switch {
	case strings.HasPrefix(cmd, "ip neigh replace"):
		f.neigh[vm][argv[3]] = argv[5]
	case strings.HasPrefix(cmd, "ip neigh del"): // ip neigh del IP dev eth0
		delete(f.neigh[vm], argv[3])
	case strings.HasPrefix(cmd, "ip neigh flush"): // ip neigh flush to IP
		delete(f.neigh[vm], argv[4])
	case strings.HasPrefix(cmd, "ping"):
		ip := argv[len(argv)-1]
		mac, forced := f.neigh[vm][ip]
		for _, d := range f.eps {
			if d.IP != ip || d.Name == vm {
				continue
			}
			same := d.Project == src.Project
			if forced && !strings.EqualFold(mac, d.MAC) {
				continue
			}
			if same || f.leak {
				f.neigh[vm][ip] = d.MAC
				return nil, nil
			}
		}
		return nil, errors.New("100% packet loss")
	case strings.HasPrefix(cmd, "ip -j neigh show"):
		return []byte(fmt.Sprintf(`[{"dst":%q,"lladdr":%q}]`, argv[5], f.neigh[vm][argv[5]])), nil
	}
	return nil, nil
}

// Listen and Send make fakeNet a Wire: frames go to the endpoints of the
// sender's project (to every endpoint if leak is set) after the
// anti-spoofing checks of br-int; a blind network's captures see nothing.
func (f *fakeNet) Listen(ep Endpoint) (Capture, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.caps == nil {
		f.caps = map[string]*fakeCapture{}
	}
	c := &fakeCapture{}
	f.caps[ep.Name] = c
	return c, nil
}

func (f *fakeNet) Send(_ context.Context, ep Endpoint, frames [][]byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fr := range frames {
		dst, src := net.HardwareAddr(fr[0:6]).String(), net.HardwareAddr(fr[6:12]).String()
		if src != ep.MAC {
			continue // table 25
		}
		if binary.BigEndian.Uint16(fr[12:]) == etherTypeARP && netip.AddrFrom4([4]byte(fr[28:32])).String() != ep.IP {
			continue // table 24
		}
		for _, d := range f.eps {
			if d.Name == ep.Name || (d.Project != ep.Project && !f.leak) || f.blind {
				continue
			}
			if dst == d.MAC || dst == "ff:ff:ff:ff:ff:ff" {
				f.caps[d.Name].frames = append(f.caps[d.Name].frames, fr)
			}
		}
	}
	return nil
}

type fakeCapture struct{ frames [][]byte }

func (c *fakeCapture) Received() int  { return len(c.frames) }
func (c *fakeCapture) Stop() [][]byte { return c.frames }

func (f *fakeNet) find(vm string) Endpoint {
	for _, e := range f.eps {
		if e.Name == vm {
			return e
		}
	}
	return Endpoint{}
}

func seed000() []Endpoint {
	var eps []Endpoint
	for _, p := range []string{"a", "b"} {
		for i := 1; i <= 4; i++ {
			eps = append(eps, Endpoint{Name: fmt.Sprintf("%s%d", p, i), Project: p,
				IP: fmt.Sprintf("10.1.0.1%d", i), MAC: fmt.Sprintf("fa:16:3e:00:0%s:0%d", map[string]string{"a": "a", "b": "b"}[p], i)})
		}
	}
	return eps
}

func newFakeNet(leak, blind bool) (*fakeNet, []Endpoint) {
	eps := seed000()
	return &fakeNet{eps: eps, neigh: map[string]map[string]string{}, leak: leak, blind: blind}, eps
}

func TestMatrixIsolated(t *testing.T) {
	f, eps := newFakeNet(false, false)
	rs, err := Matrix(context.Background(), f.run, f, eps)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 8*7 {
		t.Fatalf("got %d results, want 56", len(rs))
	}
	count := map[Verdict]int{}
	for _, r := range rs {
		if !r.OK() {
			t.Errorf("%s -> %s: %s %s", r.From, r.To, r.Verdict, r.Detail)
		}
		count[r.Verdict]++
		if r.Sent() != FramesPerPair() {
			t.Errorf("%s -> %s: sent %d frames, want %d", r.From, r.To, r.Sent(), FramesPerPair())
		}
	}
	if count[Reached] != 24 || count[Blocked] != 24 || count[SameIP] != 8 {
		t.Fatalf("verdicts %v, want 24 reached, 24 blocked, 8 same-ip\n%s", count, Table(eps, rs))
	}
	tot := Sum(rs)
	if tot.CrossTried() != 32*FramesPerPair() || tot.CrossDelivered() != 0 {
		t.Fatalf("cross-project tried %d delivered %d, want %d and 0", tot.CrossTried(), tot.CrossDelivered(), 32*FramesPerPair())
	}
	// Within a project everything but forged MACs and ARP arrives.
	for k := range NumKinds {
		want := tot.Same[k].Sent
		if k == KindSpoofMAC || k == KindSpoofARP {
			want = 0
		}
		if tot.Same[k].Seen != want {
			t.Errorf("%s: %d of %d arrived within projects, want %d", k, tot.Same[k].Seen, tot.Same[k].Sent, want)
		}
	}
	out := Table(eps, rs) + tot.Summary()
	for _, want := range []string{"blocked 0/112", "same-ip 0/112", "cross-project frames: tried 3584, delivered 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestMatrixDetectsLeak(t *testing.T) {
	f, eps := newFakeNet(true, false)
	rs, err := Matrix(context.Background(), f.run, f, eps)
	if err != nil {
		t.Fatal(err)
	}
	leaks := 0
	for _, r := range rs {
		if r.Verdict == Leaked {
			leaks++
		}
	}
	// Every cross-project pair leaks, same-ip pairs included.
	if leaks != 32 || Sum(rs).CrossDelivered() == 0 {
		t.Fatalf("%d leaks, want 32:\n%s", leaks, Table(eps, rs))
	}
}

// A capture that sees nothing must never pass as isolation.
func TestMatrixBlindCaptureFails(t *testing.T) {
	f, eps := newFakeNet(false, true)
	rs, err := Matrix(context.Background(), f.run, f, eps)
	if err != nil {
		t.Fatal(err)
	}
	count := map[Verdict]int{}
	for _, r := range rs {
		count[r.Verdict]++
	}
	if count[NotCaptured] != 24 || count[Unproven] != 32 {
		t.Fatalf("verdicts %v, want 24 not-captured, 32 unproven:\n%s", count, Table(eps, rs))
	}
}

// One network with one VM cannot prove its capture: its cross-project
// pairs are unproven, not blocked.
func TestMatrixLoneVMUnproven(t *testing.T) {
	f, eps := newFakeNet(false, false)
	eps = []Endpoint{eps[0], eps[1], eps[4]} // a1, a2, b1
	f.eps = eps
	rs, err := Matrix(context.Background(), f.run, f, eps)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		want := Reached
		switch {
		case r.To == "b1":
			want = Unproven
		case r.From == "b1" && r.To == "a1":
			want = SameIP
		case r.From == "b1":
			want = Blocked
		}
		if r.Verdict != want {
			t.Errorf("%s -> %s: %s, want %s", r.From, r.To, r.Verdict, want)
		}
	}
}
