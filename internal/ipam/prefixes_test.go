package ipam

import (
	"fmt"
	"net/netip"
	"testing"
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func TestCompact(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"10.0.1.0/24", "10.0.0.0/24"}, []string{"10.0.0.0/23"}},
		{[]string{"10.0.0.0/24", "10.0.0.128/25", "10.0.2.0/24"}, []string{"10.0.0.0/24", "10.0.2.0/24"}},
		{[]string{"10.0.0.0/26", "10.0.0.64/26", "10.0.0.128/25", "10.0.1.0/24"}, []string{"10.0.0.0/23"}},
		{[]string{"10.0.1.0/24", "10.0.2.0/24"}, []string{"10.0.1.0/24", "10.0.2.0/24"}}, // adjacent, not siblings
		{[]string{"fd00::/49", "fd00:0:0:8000::/49"}, []string{"fd00::/48"}},
	} {
		if got := fmt.Sprint(Compact(prefixes(c.in...))); got != fmt.Sprint(prefixes(c.want...)) {
			t.Errorf("Compact(%v) = %s, want %v", c.in, got, c.want)
		}
	}
}

func TestSubtractAndChoose(t *testing.T) {
	free := prefixes("10.0.0.0/22")
	free = Subtract(free, netip.MustParsePrefix("10.0.0.0/26"))
	if got := fmt.Sprint(free); got != "[10.0.0.64/26 10.0.0.128/25 10.0.1.0/24 10.0.2.0/23]" {
		t.Fatalf("after /26: %s", got)
	}
	// Smallest block that fits, lowest address among equals.
	for _, c := range []struct {
		bits int
		want string
	}{{28, "10.0.0.64/28"}, {26, "10.0.0.64/26"}, {25, "10.0.0.128/25"}, {24, "10.0.1.0/24"}, {23, "10.0.2.0/23"}} {
		if got, ok := ChoosePrefix(free, c.bits); !ok || got.String() != c.want {
			t.Errorf("ChoosePrefix /%d = %v %v, want %s", c.bits, got, ok, c.want)
		}
	}
	if _, ok := ChoosePrefix(free, 22); ok {
		t.Error("a /22 fits in a /22 minus a /26")
	}
	if !Covers(free, netip.MustParsePrefix("10.0.3.0/25")) || Covers(free, netip.MustParsePrefix("10.0.0.0/27")) {
		t.Error("Covers")
	}
	if got := Subtract(prefixes("10.0.0.0/24"), netip.MustParsePrefix("10.0.0.0/16")); len(got) != 0 {
		t.Errorf("subtracting a container: %v", got)
	}
}

func TestPrefixBitsAndUnits(t *testing.T) {
	if got := PrefixBits(netip.MustParsePrefix("10.0.0.0/9")); got != "000010100" {
		t.Errorf("bits %s", got)
	}
	if PrefixBits(netip.MustParsePrefix("0.0.0.0/0")) != "" {
		t.Error("/0 has no bits")
	}
	if Units(4, 24) != 256 || Units(6, 48) != 1<<16 || Units(6, 0) != ^uint64(0) {
		t.Error("units")
	}
	if r := (Range{netip.MustParseAddr("fd00::"), netip.MustParseAddr("fd00::ffff:ffff:ffff:ffff")}); r.Size() != ^uint64(0) {
		t.Errorf("v6 range size %d", r.Size())
	}
	if r := (Range{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.254")}); r.Size() != 253 {
		t.Errorf("v4 range size %d", r.Size())
	}
}
