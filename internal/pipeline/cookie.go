package pipeline

// Owner names which feature of the pipeline installed a flow. The data
// plane packs it with the flow round into the cookie (see docs/pipeline.md),
// so a restarted agent can replace exactly its own flows without a gap.
type Owner uint16

// Owners. Values are part of the on-bridge format: never renumber.
const (
	OwnerBase     Owner = 1 // table-miss flows and static flows
	OwnerCanary   Owner = 2 // the restart-detection flow in br-int table 23
	OwnerPort     Owner = 3 // per-port classification and anti-spoofing
	OwnerTunnel   Owner = 4 // tunnel ports, tunnel id <-> local VLAN, flooding
	OwnerProvider Owner = 5 // provider bridge patches and VLAN translation
	OwnerLearned  Owner = 6 // flows learned in br-tun table 20 (never reconciled)
	OwnerFirewall Owner = 7 // security groups (br-int 60 steering, 71, 72, 81, 82)
)

var ownerNames = map[Owner]string{
	OwnerBase: "base", OwnerCanary: "canary", OwnerPort: "port",
	OwnerTunnel: "tunnel", OwnerProvider: "provider", OwnerLearned: "learned", OwnerFirewall: "firewall",
}

func (o Owner) String() string {
	if n, ok := ownerNames[o]; ok {
		return n
	}
	return "owner?"
}

// Cookie layout (shared with internal/ovs/openflow): owner component (16
// bits) | round (16 bits) | feature (32 bits, the Owner above). Flows the
// data plane installs carry component CookieComponent; learned flows carry
// LearnedComponent, so reconciling never deletes them.
const (
	CookieComponent  uint16 = 0x766c // "vl"
	LearnedComponent uint16 = 0x766d
)

// LearnedCookie is the full cookie of flows learned into br-tun table 20.
// It has no round: learned flows expire by themselves (hard_timeout) and
// the data plane leaves them alone.
const LearnedCookie uint64 = uint64(LearnedComponent)<<48 | uint64(OwnerLearned)
