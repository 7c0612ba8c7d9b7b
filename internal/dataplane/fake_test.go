package dataplane

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vland/vland/internal/ovs/ovsdb"
	"github.com/vland/vland/internal/pipeline"
)

// fakeOVS is an in-memory Open vSwitch: an OVSDB (switchDB) and the flow
// tables (flowWriter). Its String shows the whole state as text with local
// VLAN numbers and ofports replaced by what they stand for, so two fakes
// that reached the same state by different histories print the same.
type fakeOVS struct {
	bridges map[string]ovsdb.BridgeInfo
	ports   map[string]*ovsdb.PortInfo
	flows   map[string][]pipeline.Flow
	flowsMu sync.Mutex
	nextOF  int
	changes chan struct{}
	// refuseTag fails a whole UpdatePorts that touches one of these ports,
	// as OVSDB fails a transaction; ignoreTag accepts it but leaves the
	// port's tag as it was (another writer, a lost update).
	refuseTag, ignoreTag map[string]bool
}

func newFakeOVS() *fakeOVS {
	return &fakeOVS{bridges: map[string]ovsdb.BridgeInfo{}, ports: map[string]*ovsdb.PortInfo{},
		flows: map[string][]pipeline.Flow{}, changes: make(chan struct{}, 1)}
}

func (f *fakeOVS) EnsureBridge(_ context.Context, name string, o ovsdb.BridgeOptions) error {
	b := f.bridges[name]
	b.Name, b.DatapathType, b.FailMode = name, o.DatapathType, o.FailMode
	b.ExternalIDs = merge(b.ExternalIDs, o.ExternalIDs)
	f.bridges[name] = b
	return nil
}

func (f *fakeOVS) GetBridge(_ context.Context, name string) (ovsdb.BridgeInfo, error) {
	b, ok := f.bridges[name]
	if !ok {
		return b, ovsdb.ErrNotFound
	}
	return b, nil
}

func (f *fakeOVS) SetBridgeExternalIDs(_ context.Context, name string, ids map[string]string) error {
	b := f.bridges[name]
	b.ExternalIDs = merge(b.ExternalIDs, ids)
	f.bridges[name] = b
	return nil
}

func (f *fakeOVS) EnsurePort(_ context.Context, bridge, name string, s ovsdb.PortSpec) error {
	if _, ok := f.bridges[bridge]; !ok {
		return ovsdb.ErrNotFound
	}
	p, ok := f.ports[name]
	if !ok {
		f.nextOF++
		p = &ovsdb.PortInfo{Name: name, OFPort: f.nextOF}
		f.ports[name] = p
	}
	p.Bridge, p.Type = bridge, s.Type
	if s.Options != nil {
		p.Options = s.Options
	}
	if s.Tag != nil {
		p.Tag = intPtr(*s.Tag)
	}
	p.ExternalIDs = merge(p.ExternalIDs, s.ExternalIDs)
	p.OtherConfig = merge(p.OtherConfig, s.OtherConfig)
	p.IfaceExternalIDs = merge(p.IfaceExternalIDs, s.IfaceExternalIDs)
	return nil
}

func (f *fakeOVS) DeletePort(_ context.Context, _, name string) error {
	delete(f.ports, name)
	return nil
}

func (f *fakeOVS) UpdatePorts(_ context.Context, ups []ovsdb.PortUpdate) (int, error) {
	for _, u := range ups {
		if f.refuseTag[u.Name] {
			return 0, fmt.Errorf("fake ovsdb: transaction refused: port %s", u.Name)
		}
	}
	changed := 0
	for _, u := range ups {
		p, ok := f.ports[u.Name]
		if !ok {
			continue
		}
		if f.ignoreTag[u.Name] {
			continue
		}
		if p.Tag == nil || *p.Tag != u.Tag {
			p.Tag, changed = intPtr(u.Tag), 1
		}
		if u.OtherConfig != nil {
			p.OtherConfig, changed = merge(p.OtherConfig, u.OtherConfig), 1
		}
	}
	return changed, nil
}

func (f *fakeOVS) ListPorts(_ context.Context, bridge string) ([]ovsdb.PortInfo, error) {
	var out []ovsdb.PortInfo
	for _, n := range slices.Sorted(maps.Keys(f.ports)) {
		if p := f.ports[n]; p.Bridge == bridge {
			out = append(out, *p)
		}
	}
	return out, nil
}

func (f *fakeOVS) WaitCfg(context.Context, int, time.Duration) error { return nil }

func (f *fakeOVS) WaitOFPort(_ context.Context, name string) (int, error) {
	if p, ok := f.ports[name]; ok {
		return p.OFPort, nil
	}
	return 0, ovsdb.ErrNotFound
}

func (f *fakeOVS) Changes() <-chan struct{} { return f.changes }
func (f *fakeOVS) Close()                   {}

func (f *fakeOVS) Sync(_ context.Context, br string, _ uint16, fs []pipeline.Flow) error {
	f.flowsMu.Lock() // Apply installs the bridges concurrently
	defer f.flowsMu.Unlock()
	f.flows[br] = slices.Clone(fs)
	return nil
}

func (f *fakeOVS) Apply(_ context.Context, br string, fs []pipeline.Flow) error {
	f.flowsMu.Lock()
	defer f.flowsMu.Unlock()
	f.flows[br] = slices.Clone(fs)
	return nil
}

func (f *fakeOVS) Lost(context.Context, string) (bool, error) { return false, nil }

func (f *fakeOVS) ForgetPort(context.Context, string, int) error { return nil }

func (f *fakeOVS) Watch(ctx context.Context, _ string) error {
	<-ctx.Done()
	return ctx.Err()
}

// plug adds a VM interface to br-int, as Nova would.
func (f *fakeOVS) plug(name, ifaceID string) {
	f.nextOF++
	f.ports[name] = &ovsdb.PortInfo{Name: name, Bridge: "br-int", OFPort: f.nextOF,
		IfaceExternalIDs: map[string]string{extIfaceID: ifaceID}}
}

var numRE = regexp.MustCompile(`(in_port=|output:|dl_vlan=|mod_vlan_vid:|reg6=|load:)(\d+)(->NXM_NX_REG6\[\])?`)

// String prints bridges, ports and flows, normalized.
func (f *fakeOVS) String() string {
	vlanNet, ofName := map[string]string{}, map[string]string{}
	for _, p := range f.ports {
		ofName[p.Bridge+"/"+strconv.Itoa(p.OFPort)] = p.Name
		if p.Tag != nil && p.OtherConfig[ocTag] == strconv.Itoa(*p.Tag) {
			vlanNet[p.OtherConfig[ocTag]] = "<" + p.OtherConfig[ocNetUUID] + ">"
		}
	}
	var b strings.Builder
	for _, br := range slices.Sorted(maps.Keys(f.bridges)) {
		fmt.Fprintf(&b, "bridge %s fail_mode=%s\n", br, f.bridges[br].FailMode)
		for _, n := range slices.Sorted(maps.Keys(f.ports)) {
			if p := f.ports[n]; p.Bridge == br {
				fmt.Fprintf(&b, "  port %s type=%s options=%v tag=%s\n", n, p.Type, p.Options, tagText(p, vlanNet))
			}
		}
		var lines []string
		for _, fl := range f.flows[br] {
			lines = append(lines, numRE.ReplaceAllStringFunc(fl.String(), func(m string) string {
				sub := numRE.FindStringSubmatch(m)
				if sub[1] == "in_port=" || sub[1] == "output:" {
					return sub[1] + ofName[br+"/"+sub[2]]
				}
				if sub[1] == "load:" && sub[3] == "" {
					return m // only loads of reg6 (the local VLAN) are normalized
				}
				if v, ok := vlanNet[sub[2]]; ok {
					return sub[1] + v + sub[3]
				}
				return m
			}))
		}
		// Flow order is not meaningful; ofports changed the build order.
		slices.Sort(lines)
		for _, l := range lines {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	return b.String()
}

func tagText(p *ovsdb.PortInfo, vlanNet map[string]string) string {
	if p.Tag == nil {
		return "none"
	}
	if v, ok := vlanNet[strconv.Itoa(*p.Tag)]; ok {
		return v
	}
	return strconv.Itoa(*p.Tag)
}

func merge(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}
