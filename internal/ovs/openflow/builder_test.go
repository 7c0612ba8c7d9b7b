package openflow

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func TestRender(t *testing.T) {
	m := Match().InPort(3).DlVlan(1).TunID(0x6f).ARP().ArpSpa(netip.MustParseAddr("10.0.0.5")).
		DlSrc(mac("fa:16:3e:00:00:01")).DlDstMasked(mac("01:00:00:00:00:00"), mac("01:00:00:00:00:00")).
		NwDst(netip.MustParsePrefix("10.1.2.3/24"))
	a := Actions().ModVlanVid(1).StripVlan().SetTunnel(0x6f).Output(3).Resubmit(10).Normal().
		Learn("table=20,cookie=0x1,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[]")
	f := Flow{Table: 2, Priority: 100, Cookie: 0x7, Match: m.String(), Actions: a.String(), IdleTimeout: 5}
	want := "table=2,priority=100,cookie=0x7,idle_timeout=5,in_port=3,dl_vlan=1,tun_id=0x6f,arp,arp_spa=10.0.0.5," +
		"dl_src=fa:16:3e:00:00:01,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,nw_dst=10.1.2.0/24," +
		"actions=mod_vlan_vid:1,strip_vlan,set_tunnel:0x6f,output:3,resubmit(,10),NORMAL," +
		"learn(table=20,cookie=0x1,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[])"
	if got := f.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := (Flow{}).String(); got != "table=0,priority=0,cookie=0x0,actions=drop" {
		t.Fatalf("zero flow: %s", got)
	}
	if got := Actions().Drop().String(); got != "drop" {
		t.Fatalf("drop: %s", got)
	}
}

func TestKeyIgnoresFieldOrder(t *testing.T) {
	a := Flow{Table: 1, Priority: 2, Match: Match().InPort(1).ARP().String(), Actions: "drop"}
	b := Flow{Table: 1, Priority: 2, Match: Match().ARP().InPort(1).String(), Actions: "NORMAL"}
	if a.key() != b.key() {
		t.Fatalf("%v != %v", a.key(), b.key())
	}
	if c := (Flow{Table: 1, Priority: 3, Match: a.Match}); c.key() == a.key() {
		t.Fatal("priority ignored")
	}
}

func TestCookie(t *testing.T) {
	c := NewCookie(0xabcd, 0x1234, 0xdeadbeef)
	if c.Owner() != 0xabcd || c.Round() != 0x1234 || c.Feature() != 0xdeadbeef || c.String() != "0xabcd1234deadbeef" {
		t.Fatalf("cookie %s: %x %x %x", c, c.Owner(), c.Round(), c.Feature())
	}
	if v, ok := FlowCookie(" cookie=0xabcd1234deadbeef, duration=1.2s, table=0"); !ok || v != uint64(c) {
		t.Fatalf("FlowCookie = %x %v", v, ok)
	}
}

func TestIndexRejectsBadFlows(t *testing.T) {
	b := NewBridge(Ofctl{}, "br0", 1)
	if _, err := b.index([]Flow{{Cookie: 1 << 40}}, 0); err == nil {
		t.Fatal("owner bits accepted")
	}
	dup := []Flow{{Match: "in_port=1", Actions: "drop"}, {Match: "in_port=1", Actions: "NORMAL"}}
	if _, err := b.index(dup, 0); err == nil {
		t.Fatal("conflicting duplicate accepted")
	}
	if _, err := b.index([]Flow{{Actions: "drop\nadd x"}}, 0); err == nil {
		t.Fatal("newline accepted")
	}
}

// key keeps an already sorted match as it is (no copy) and sorts and
// dedups any other: both paths must agree.
func TestKeyCanonicalFastPath(t *testing.T) {
	for _, m := range []string{"", "a", "a,b", "b,a", "a,a", "a,b,c", "a,c,b", "a,,b", ",a", "a,", "x,x,y", "dl_vlan=1,in_port=3", "in_port=3,dl_vlan=1"} {
		fields := strings.Split(m, ",")
		slices.Sort(fields)
		want := strings.Join(slices.Compact(fields), ",")
		if got := (Flow{Match: m}).key().match; got != want {
			t.Errorf("key(%q) = %q, want %q", m, got, want)
		}
		if canonical(m) != (want == m) {
			t.Errorf("canonical(%q) = %v", m, canonical(m))
		}
	}
}
