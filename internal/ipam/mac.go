package ipam

import (
	"crypto/rand"
	"net"

	"github.com/vland/vland/internal/fault"
)

// macPrefix is Neutron's default base_mac prefix (OpenStack's OUI).
const macPrefix = "fa:16:3e"

// RandomMAC returns a random MAC under fa:16:3e in normalized form.
// Uniqueness is the caller's: the port transaction's store.MACKey
// condition, and its cache of taken MACs to draw again cheaply.
func RandomMAC() string {
	mac := net.HardwareAddr{0xfa, 0x16, 0x3e, 0, 0, 0}
	_, _ = rand.Read(mac[3:]) // never fails (crypto/rand, Go >= 1.24)
	return mac.String()
}

// NormalizeMAC validates a user-supplied MAC (6 bytes, unicast, not all
// zero) and returns it lower case with colons, the form of store.MACKey.
func NormalizeMAC(s string) (string, error) {
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 || hw[0]&1 == 1 || hw.String() == "00:00:00:00:00:00" {
		return "", fault.BadAttr("mac_address", "'%s' is not a valid MAC address", s)
	}
	return hw.String(), nil
}
