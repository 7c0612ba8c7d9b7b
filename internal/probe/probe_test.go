package probe

import (
	"context"
	"errors"
	"fmt"
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

func TestMatrixIsolated(t *testing.T) {
	eps := seed000()
	f := &fakeNet{eps: eps, neigh: map[string]map[string]string{}}
	rs := Matrix(context.Background(), f.run, eps)
	if len(rs) != 8*7 {
		t.Fatalf("got %d results, want 56", len(rs))
	}
	count := map[Verdict]int{}
	for _, r := range rs {
		if !r.OK() {
			t.Errorf("%s -> %s: %s", r.From, r.To, r.Verdict)
		}
		count[r.Verdict]++
	}
	if count[Reached] != 24 || count[Blocked] != 24 || count[SameIP] != 8 {
		t.Fatalf("verdicts %v, want 24 reached, 24 blocked, 8 same-ip\n%s", count, Table(eps, rs))
	}
}

func TestMatrixDetectsLeak(t *testing.T) {
	eps := seed000()
	f := &fakeNet{eps: eps, neigh: map[string]map[string]string{}, leak: true}
	rs := Matrix(context.Background(), f.run, eps)
	leaks := 0
	for _, r := range rs {
		if r.Verdict == Leaked {
			leaks++
		}
	}
	if leaks == 0 {
		t.Fatalf("a leaking network went unnoticed:\n%s", Table(eps, rs))
	}
}
