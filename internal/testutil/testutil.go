// Package testutil holds helpers shared by vland's tests: prerequisites that
// fail with an install hint instead of skipping, and unique name prefixes so
// that labs and tests of parallel runs never collide.
package testutil

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"testing"
)

// RequireRoot fails the test unless it runs as root. vland's end-to-end
// tests need root for namespaces and Open vSwitch; CI runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (network namespaces, Open vSwitch): run `make test` as root")
	}
}

// RequireBinary fails the test unless every named program is on PATH.
func RequireBinary(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Fatalf("%s not found: run `make deps` (apt-get install -y openvswitch-switch dnsmasq-base nftables iproute2 iputils-ping ethtool iperf3 python3-openstackclient)", n)
		}
	}
}

// RequireOVS fails the test unless root and the Open vSwitch userspace
// programs are available.
func RequireOVS(t testing.TB) {
	t.Helper()
	RequireRoot(t)
	RequireBinary(t, "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ovsdb-tool", "ip")
}

// Prefix returns a short unique name prefix ("v" + 5 hex digits) for
// namespaces, links and sockets made by one test run. Linux link names are
// at most 15 bytes, so callers should keep what they append short.
func Prefix() string {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "v" + hex.EncodeToString(b[:])[:5]
}
