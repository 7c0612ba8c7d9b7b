// Package probe checks tenant isolation the way an attacker would try to
// break it, and proves the verdict by capture, not by missing echoes. Every
// VM pings every VM of its own network and checks which MAC answered ARP.
// Then every VM sends, towards every other VM, raw frames of several kinds
// (ICMP echo, ARP who-has, unicast to the target's MAC, L2 broadcast, and a
// flood with forged source IPs and MACs), each stamped with a per-run
// marker, while an AF_PACKET capture runs at every target's NIC. A pair of
// different networks is blocked only if the target saw no frame at all from
// the source; with overlapping addresses a leaked request's reply would go
// to the victim network's own VM, so a missing echo proves nothing. Within a
// network the same kinds of frames must arrive: that positive control proves
// each capture works, so a broken capture cannot pass as "blocked".
package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Endpoint is one VM as the probe sees it.
type Endpoint struct {
	Name    string
	Project string // endpoints of one project (network) must reach each other
	IP      string
	MAC     string
	NetNS   string // network namespace of the VM's NIC, for AFPacket
}

// Execer runs a command inside a VM and returns its output; a non-zero exit
// is an error.
type Execer func(ctx context.Context, vm string, argv ...string) ([]byte, error)

// Verdict of one ordered pair.
type Verdict string

const (
	Reached     Verdict = "ok"      // same project: ping answered by the right MAC, every frame kind captured
	Blocked     Verdict = "blocked" // other project: the target captured nothing from the source
	SameIP      Verdict = "same-ip" // other project with the source's own address (not pingable), nothing captured
	Unreached   Verdict = "FAIL:unreached"
	WrongMAC    Verdict = "FAIL:wrong-mac"    // answered, but by another project's VM
	Leaked      Verdict = "FAIL:leaked"       // the target captured frames from another project's VM
	NotCaptured Verdict = "FAIL:not-captured" // same project, but a kind of frame that must arrive was not captured
	Unproven    Verdict = "FAIL:unproven"     // the target's capture saw nothing from its own network: it proves nothing
)

// Count is frames sent and frames captured.
type Count struct{ Sent, Seen int }

// Result is the verdict for one ordered pair.
type Result struct {
	From, To string
	Verdict  Verdict
	SeenMAC  string
	Detail   string // why a FAIL verdict was given
	Cross    bool   // source and target are in different projects

	Kinds [NumKinds]Count // frames sent for this pair, and captured at the target
	// Stray counts other frames from the source captured at the target:
	// sent for another target (a broadcast), or the source VM's own traffic.
	Stray int
}

// Sent is the frames the source sent for this pair.
func (r Result) Sent() int {
	n := 0
	for _, c := range r.Kinds {
		n += c.Sent
	}
	return n
}

// Seen is the frames of this pair captured at the target.
func (r Result) Seen() int {
	n := 0
	for _, c := range r.Kinds {
		n += c.Seen
	}
	return n
}

// OK reports whether the verdict is the one isolation requires.
func (r Result) OK() bool { return !strings.HasPrefix(string(r.Verdict), "FAIL") }

// Settling after the last frame is sent: captures are read until nothing
// new arrived for settleQuiet, at most settleMax.
const (
	settleQuiet = 500 * time.Millisecond
	settleMax   = 5 * time.Second
)

// Matrix probes every ordered pair of endpoints: pings within a project
// through run, frames of every kind through wire, with a capture at every
// endpoint for the whole run. Sources run in parallel, and each source's
// pings alongside its frames; the pings of one source run in order because
// they share its ARP table.
func Matrix(ctx context.Context, run Execer, wire Wire, eps []Endpoint) ([]Result, error) {
	nodes := make([]node, len(eps))
	for i, e := range eps {
		var err error
		if nodes[i], err = parseNode(e); err != nil {
			return nil, err
		}
	}
	caps := make([]Capture, len(eps))
	stopAll := func() [][][]byte {
		got := make([][][]byte, len(eps))
		for i, c := range caps {
			if c != nil {
				got[i] = c.Stop()
			}
		}
		return got
	}
	for i, e := range eps {
		var err error
		if caps[i], err = wire.Listen(e); err != nil {
			stopAll()
			return nil, err
		}
	}

	id := newRunID()
	out := make([][]Result, len(eps))
	errs := make([]error, len(eps))
	var wg sync.WaitGroup
	for i := range eps {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j, dst := range eps {
				if j != i {
					out[i] = append(out[i], probePair(ctx, run, eps[i], dst))
				}
			}
		}()
		go func() {
			defer wg.Done()
			var frames [][]byte
			for j := range eps {
				if j != i {
					frames = append(frames, buildFrames(id, nodes, i, j)...)
				}
			}
			spread(id, frames)
			errs[i] = wire.Send(ctx, eps[i], frames)
		}()
	}
	wg.Wait()
	settle(ctx, caps)
	got := stopAll()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	t := tallyFrames(id, eps, got)
	var all []Result
	for i, rs := range out {
		for _, r := range rs {
			all = append(all, t.judge(eps, i, r))
		}
	}
	return all, nil
}

// spread orders a source's frames so that every kind towards every target
// is spread evenly over the send: a moment of congestion then costs a few
// frames of many pairs, never all frames of one kind of one pair.
func spread(id runID, frames [][]byte) {
	pos := func(f []byte) float64 {
		m, _ := id.find(f)
		return (float64(m.Seq) + 0.5) / float64(kindInfo[m.Kind].PerPair)
	}
	sort.SliceStable(frames, func(a, b int) bool { return pos(frames[a]) < pos(frames[b]) })
}

// settle waits until the captures stop receiving.
func settle(ctx context.Context, caps []Capture) {
	total := func() int {
		n := 0
		for _, c := range caps {
			n += c.Received()
		}
		return n
	}
	deadline := time.Now().Add(settleMax)
	last, since := total(), time.Now()
	for time.Since(since) < settleQuiet && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		if n := total(); n != last {
			last, since = n, time.Now()
		}
	}
}

// tally is what every capture saw, by source.
type tally struct {
	seen  map[[2]int]*[NumKinds]int // (src, at) -> frames of the pair (src, at), by kind
	stray map[[2]int]int            // (src, at) -> other frames from src
}

func tallyFrames(id runID, eps []Endpoint, got [][][]byte) tally {
	t := tally{seen: map[[2]int]*[NumKinds]int{}, stray: map[[2]int]int{}}
	byMAC := map[string]int{}
	for i, e := range eps {
		byMAC[strings.ToLower(e.MAC)] = i
	}
	for at, frames := range got {
		for _, f := range frames {
			m, ok := id.find(f)
			if ok && m.Kind == KindEcho && isEchoReply(f) {
				// The target's reply echoes the request's marker: it is
				// the target VM's own traffic, not a frame of the pair.
				if int(m.Dst) < len(eps) && int(m.Dst) != at {
					t.stray[[2]int{int(m.Dst), at}]++
				}
				continue
			}
			switch {
			case ok && int(m.Src) < len(eps) && m.Kind < NumKinds && int(m.Dst) == at:
				k := [2]int{int(m.Src), at}
				if t.seen[k] == nil {
					t.seen[k] = new([NumKinds]int)
				}
				t.seen[k][m.Kind]++
			case ok && int(m.Src) < len(eps):
				t.stray[[2]int{int(m.Src), at}]++
			case !ok && len(f) >= 12:
				// Unmarked: the VM's own traffic, known by its MAC.
				if src, known := byMAC[macString(f[6:12])]; known && src != at {
					t.stray[[2]int{src, at}]++
				}
			}
		}
	}
	return t
}

// isEchoReply reports whether an Ethernet frame is an ICMP echo reply.
func isEchoReply(f []byte) bool {
	if len(f) < 14+20+1 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 1 {
		return false
	}
	ihl := int(f[14]&0x0f) * 4
	return len(f) > 14+ihl && f[14+ihl] == 0
}

func macString(b []byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}

// proven reports whether the capture at endpoint at saw every kind of frame
// that must arrive from at least one VM of its own project.
func (t tally) proven(eps []Endpoint, at int) bool {
	var seen [NumKinds]bool
	for src := range eps {
		if src == at || eps[src].Project != eps[at].Project || t.seen[[2]int{src, at}] == nil {
			continue
		}
		for k, n := range t.seen[[2]int{src, at}] {
			seen[k] = seen[k] || n > 0
		}
	}
	for k, ki := range kindInfo {
		if ki.MustArrive && !seen[k] {
			return false
		}
	}
	return true
}

// judge completes a pair's result with what the target captured.
func (t tally) judge(eps []Endpoint, src int, r Result) Result {
	at := index(eps, r.To)
	seen := t.seen[[2]int{src, at}]
	for k := range NumKinds {
		r.Kinds[k].Sent = kindInfo[k].PerPair
		if seen != nil {
			r.Kinds[k].Seen = seen[k]
		}
	}
	r.Stray = t.stray[[2]int{src, at}]
	if !r.OK() {
		return r
	}
	if !r.Cross {
		// One frame of each kind proves the capture sees that kind; losses
		// on a busy userspace datapath show in the counts, not the verdict.
		for k, c := range r.Kinds {
			if kindInfo[k].MustArrive && c.Seen == 0 {
				r.Verdict = NotCaptured
				r.Detail = fmt.Sprintf("%s: %d of %d captured at %s", Kind(k), c.Seen, c.Sent, r.To)
				return r
			}
		}
		return r
	}
	if n := r.Seen() + r.Stray; n > 0 {
		r.Verdict = Leaked
		r.Detail = fmt.Sprintf("%s captured %d frames from %s", r.To, n, r.From)
		return r
	}
	if !t.proven(eps, at) {
		r.Verdict = Unproven
		r.Detail = fmt.Sprintf("the capture at %s is unproven (no VM of its own network in the matrix, or not every kind of frame arrived from them), so seeing nothing from %s proves nothing", r.To, r.From)
	}
	return r
}

func index(eps []Endpoint, name string) int {
	for i, e := range eps {
		if e.Name == name {
			return i
		}
	}
	return -1
}

func probePair(ctx context.Context, run Execer, src, dst Endpoint) Result {
	r := Result{From: src.Name, To: dst.Name, Cross: src.Project != dst.Project}
	switch {
	case !r.Cross:
		r.Verdict, r.SeenMAC = sameProject(ctx, run, src, dst)
	case src.IP == dst.IP:
		r.Verdict = SameIP // until the capture says otherwise
	default:
		r.Verdict = Blocked // until the capture says otherwise
	}
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

// ping reports whether any echo came back. One retry: the first packets
// after an ARP flush can be lost to a busy 2-core machine (the userspace
// datapath upcalls), which is not a reachability failure.
func ping(ctx context.Context, run Execer, vm, ip string) bool {
	for range 2 {
		if _, err := run(ctx, vm, "ping", "-c", "3", "-i", "0.2", "-W", "1", "-q", ip); err == nil {
			return true
		}
	}
	return false
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

// Table renders results as a matrix, sources as rows; each cell is the
// verdict and the frames of the pair captured at the target / sent.
func Table(eps []Endpoint, rs []Result) string {
	cell := map[[2]string]string{}
	w := len("from\\to")
	for _, e := range eps {
		w = max(w, len(e.Name))
	}
	for _, r := range rs {
		c := fmt.Sprintf("%s %d/%d", r.Verdict, r.Seen(), r.Sent())
		cell[[2]string{r.From, r.To}] = c
		w = max(w, len(c))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s", w, "from\\to")
	for _, e := range eps {
		fmt.Fprintf(&b, "  %-*s", w, e.Name)
	}
	b.WriteString("\n")
	for _, s := range eps {
		fmt.Fprintf(&b, "%-*s", w, s.Name)
		for _, d := range eps {
			c := "-"
			if s.Name != d.Name {
				c = cell[[2]string{s.Name, d.Name}]
			}
			fmt.Fprintf(&b, "  %-*s", w, c)
		}
		b.WriteString("\n")
	}
	b.WriteString("cells: verdict, frames of the pair captured at the target / sent by the source\n")
	for _, r := range rs {
		if r.Detail != "" {
			fmt.Fprintf(&b, "%s -> %s: %s\n", r.From, r.To, r.Detail)
		}
	}
	return b.String()
}

// Totals sums frames over results, by kind, within projects and across.
type Totals struct {
	Same, Cross [NumKinds]Count
	CrossStray  int // frames from another project's VM not meant for the target, captured there
}

// Sum adds up the frames of all results.
func Sum(rs []Result) Totals {
	var t Totals
	for _, r := range rs {
		side := &t.Same
		if r.Cross {
			side = &t.Cross
			t.CrossStray += r.Stray
		}
		for k, c := range r.Kinds {
			side[k].Sent += c.Sent
			side[k].Seen += c.Seen
		}
	}
	return t
}

// CrossTried is the frames sent towards VMs of another project.
func (t Totals) CrossTried() int {
	n := 0
	for _, c := range t.Cross {
		n += c.Sent
	}
	return n
}

// CrossDelivered is the frames from VMs of another project captured at a
// target: the isolation figure, which must be 0.
func (t Totals) CrossDelivered() int {
	n := t.CrossStray
	for _, c := range t.Cross {
		n += c.Seen
	}
	return n
}

// Summary renders the totals by kind and the cross-project line.
func (t Totals) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s  %-16s  %s\n", "frames by kind", "same project", "other project")
	fmt.Fprintf(&b, "%-18s  %-16s  %s\n", "", "captured/sent", "captured/sent")
	for k := range NumKinds {
		fmt.Fprintf(&b, "%-18s  %-16s  %d/%d\n", k, fmt.Sprintf("%d/%d", t.Same[k].Seen, t.Same[k].Sent), t.Cross[k].Seen, t.Cross[k].Sent)
	}
	fmt.Fprintf(&b, "(forged MACs and ARP are dropped at the sender's own port, within a project too)\n")
	fmt.Fprintf(&b, "cross-project frames: tried %d, delivered %d\n", t.CrossTried(), t.CrossDelivered())
	return b.String()
}
