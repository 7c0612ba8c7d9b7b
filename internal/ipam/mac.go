package ipam

import (
	"crypto/rand"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// DefaultMACPrefix is Neutron's base_mac prefix (OpenStack's OUI).
const DefaultMACPrefix = "fa:16:3e"

// RandomMAC returns a random unicast MAC starting with prefix (1 to 5
// bytes, "fa:16:3e" style), in normalized form. Uniqueness comes from the
// port transaction's store.MACKey condition: on conflict draw again.
func RandomMAC(prefix string) (string, error) {
	pre, err := parseMACPrefix(prefix)
	if err != nil {
		return "", err
	}
	mac := make(net.HardwareAddr, 6)
	copy(mac, pre)
	if _, err := rand.Read(mac[len(pre):]); err != nil {
		return "", fmt.Errorf("ipam: random mac: %w", err)
	}
	return mac.String(), nil
}

// parseMACPrefix parses 1-5 colon-separated bytes whose first byte is a
// unicast address byte.
func parseMACPrefix(prefix string) ([]byte, error) {
	parts := strings.Split(prefix, ":")
	if len(parts) < 1 || len(parts) > 5 {
		return nil, fmt.Errorf("ipam: mac prefix %q: want 1 to 5 bytes", prefix)
	}
	out := make([]byte, len(parts))
	for i, p := range parts {
		b, err := strconv.ParseUint(p, 16, 8)
		if len(p) != 2 || err != nil {
			return nil, fmt.Errorf("ipam: mac prefix %q: bad byte %q", prefix, p)
		}
		out[i] = byte(b)
	}
	if out[0]&1 != 0 {
		return nil, fmt.Errorf("ipam: mac prefix %q is multicast", prefix)
	}
	return out, nil
}

// NormalizeMAC validates a user-supplied MAC (6 bytes, unicast, not all
// zero) and returns it lower case with colons, the form of store.MACKey.
// Bad input is an InvalidInput Error.
func NormalizeMAC(s string) (string, error) {
	mac, err := net.ParseMAC(strings.TrimSpace(s))
	if err != nil || len(mac) != 6 {
		return "", invalidInput("mac_address", "'%s' is not a valid MAC address", s)
	}
	if mac[0]&1 != 0 {
		return "", invalidInput("mac_address", "'%s' is not a unicast MAC address", s)
	}
	if allZero(mac) {
		return "", invalidInput("mac_address", "'%s' is not a valid MAC address", s)
	}
	return mac.String(), nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
