// Package probe checks connectivity between VMs the way an operator would:
// ping from inside each VM, then look at which MAC answered ARP. It proves
// both halves of tenant isolation: every VM reaches every VM of its own
// network, and frames addressed to another project's VM never arrive, even
// when the two projects use the very same addresses.
package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// Endpoint is one VM as the probe sees it.
type Endpoint struct {
	Name    string
	Project string // endpoints of one project (network) must reach each other
	IP      string
	MAC     string
}

// Execer runs a command inside a VM and returns its output; a non-zero exit
// is an error.
type Execer func(ctx context.Context, vm string, argv ...string) ([]byte, error)

// Verdict of one ordered pair.
type Verdict string

const (
	Reached   Verdict = "ok"      // same project, ping answered by the right MAC
	Blocked   Verdict = "blocked" // other project, nothing got through
	SameIP    Verdict = "same-ip" // other project with the source's own address: not addressable
	Unreached Verdict = "FAIL:unreached"
	WrongMAC  Verdict = "FAIL:wrong-mac" // answered, but by another project's VM
	Leaked    Verdict = "FAIL:leaked"    // other project's VM answered
)

// Result is the verdict for one ordered pair.
type Result struct {
	From, To string
	Verdict  Verdict
	SeenMAC  string
}

// OK reports whether the verdict is the one isolation requires.
func (r Result) OK() bool { return !strings.HasPrefix(string(r.Verdict), "FAIL") }

// Matrix probes every ordered pair of endpoints. Sources run in parallel;
// the pairs of one source run in order because they share its ARP table.
func Matrix(ctx context.Context, run Execer, eps []Endpoint) []Result {
	out := make([][]Result, len(eps))
	var wg sync.WaitGroup
	for i := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, dst := range eps {
				if dst.Name != eps[i].Name {
					out[i] = append(out[i], probePair(ctx, run, eps[i], dst))
				}
			}
		}()
	}
	wg.Wait()
	var all []Result
	for _, rs := range out {
		all = append(all, rs...)
	}
	return all
}

func probePair(ctx context.Context, run Execer, src, dst Endpoint) Result {
	r := Result{From: src.Name, To: dst.Name}
	if src.Project == dst.Project {
		r.Verdict, r.SeenMAC = sameProject(ctx, run, src, dst)
		return r
	}
	if src.IP == dst.IP {
		r.Verdict = SameIP
		return r
	}
	r.Verdict = otherProject(ctx, run, src, dst)
	return r
}

// sameProject forgets the neighbour, pings, and checks who answered ARP.
func sameProject(ctx context.Context, run Execer, src, dst Endpoint) (Verdict, string) {
	_, _ = run(ctx, src.Name, "ip", "neigh", "flush", "to", dst.IP)
	if !ping(ctx, run, src.Name, dst.IP) {
		return Unreached, ""
	}
	mac := neighMAC(ctx, run, src.Name, dst.IP)
	if !strings.EqualFold(mac, dst.MAC) {
		return WrongMAC, mac
	}
	return Reached, mac
}

// otherProject addresses frames straight to the other project's MAC (a
// permanent neighbour entry) and expects nothing back.
func otherProject(ctx context.Context, run Execer, src, dst Endpoint) Verdict {
	if _, err := run(ctx, src.Name, "ip", "neigh", "replace", dst.IP, "lladdr", dst.MAC, "dev", "eth0", "nud", "permanent"); err != nil {
		return Verdict(fmt.Sprintf("FAIL:setup %v", err))
	}
	defer func() { _, _ = run(context.WithoutCancel(ctx), src.Name, "ip", "neigh", "del", dst.IP, "dev", "eth0") }()
	if ping(ctx, run, src.Name, dst.IP) {
		return Leaked
	}
	return Blocked
}

func ping(ctx context.Context, run Execer, vm, ip string) bool {
	_, err := run(ctx, vm, "ping", "-c", "2", "-i", "0.2", "-W", "1", "-q", ip)
	return err == nil
}

func neighMAC(ctx context.Context, run Execer, vm, ip string) string {
	b, err := run(ctx, vm, "ip", "-j", "neigh", "show", "to", ip)
	if err != nil {
		return ""
	}
	var entries []struct {
		LLAddr string `json:"lladdr"`
	}
	if json.Unmarshal(b, &entries) != nil || len(entries) == 0 {
		return ""
	}
	return entries[0].LLAddr
}

// Table renders results as a matrix, sources as rows.
func Table(eps []Endpoint, rs []Result) string {
	cell := map[[2]string]Verdict{}
	for _, r := range rs {
		cell[[2]string{r.From, r.To}] = r.Verdict
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s", "from\\to")
	for _, e := range eps {
		fmt.Fprintf(&b, " %-15s", e.Name)
	}
	b.WriteString("\n")
	for _, s := range eps {
		fmt.Fprintf(&b, "%-10s", s.Name)
		for _, d := range eps {
			v := Verdict("-")
			if s.Name != d.Name {
				v = cell[[2]string{s.Name, d.Name}]
			}
			fmt.Fprintf(&b, " %-15s", v)
		}
		b.WriteString("\n")
	}
	return b.String()
}
