package openflow

import "fmt"

// Cookie is a flow cookie laid out as owner(16) | round(16) | feature(32).
// The owner says which component installed the flow (Sync only ever
// deletes its own owner's flows), the round says which generation of that
// component, and feature bits are free for the caller (e.g. which pipeline
// feature or port a flow belongs to, for diagnostics).
type Cookie uint64

// Cookie masks for dump-flows/delete filters.
const (
	OwnerMask   uint64 = 0xffff_0000_0000_0000
	RoundMask   uint64 = 0x0000_ffff_0000_0000
	FeatureMask uint64 = 0x0000_0000_ffff_ffff
)

// NewCookie packs owner, round and feature bits.
func NewCookie(owner, round uint16, feature uint32) Cookie {
	return Cookie(uint64(owner)<<48 | uint64(round)<<32 | uint64(feature))
}

// Owner returns the owner bits.
func (c Cookie) Owner() uint16 { return uint16(uint64(c) >> 48) }

// Round returns the generation bits.
func (c Cookie) Round() uint16 { return uint16(uint64(c) >> 32) }

// Feature returns the free low 32 bits.
func (c Cookie) Feature() uint32 { return uint32(c) }

// String renders the cookie as ovs-ofctl prints it.
func (c Cookie) String() string { return fmt.Sprintf("%#x", uint64(c)) }
