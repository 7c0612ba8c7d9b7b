package pipeline

import "github.com/vland/vland/internal/hoststate"

// missFlows returns the priority-0 flow of every table of a role, as the
// table declarations say.
func missFlows(r Role) []Flow {
	var out []Flow
	for _, t := range TablesFor(r) {
		owner := OwnerBase
		if t == IntCanary {
			owner = OwnerCanary
		}
		switch t.Miss {
		case MissDrop:
			out = append(out, on(t, owner).prio(0).do(actDrop))
		case MissNormal:
			out = append(out, on(t, owner).prio(0).do(actNormal))
		case MissNext:
			out = append(out, on(t, owner).prio(0).do(resubmit(Table{ID: t.Next})))
		}
	}
	return out
}

// intBaseFlows are br-int's static flows: dead-VLAN drop, traffic from
// br-tun to switching, and switching itself.
func intBaseFlows(pm PortMap) []Flow {
	out := []Flow{
		// Ports of unknown iface-id are tagged 4095: drop whatever they send.
		on(IntClassifier, OwnerBase).prio(65535).match("vlan_tci=0x0fff/0x1fff").do(actDrop),
		on(IntTransient, OwnerBase).prio(3).do(actNormal),
	}
	if pm.PatchTun > 0 {
		// Frames from br-tun carry their local VLAN tag: reg6 gets it, with
		// the patch bit, so that 60 matches one flow per local MAC whatever
		// the frame came from.
		out = append(out, on(IntClassifier, OwnerBase).prio(1).match(inPort(pm.PatchTun)).
			do("move:NXM_OF_VLAN_TCI[0..11]->NXM_NX_REG6[0..11]", loadFromPatch, resubmit(IntTransient)))
	}
	return out
}

// learnAction is Neutron's table-10 learn: remember that (local VLAN, this
// source MAC) lives behind the tunnel the packet came from, so unicast
// replies go straight to that tunnel instead of flooding.
const learnAction = "learn(table=20,hard_timeout=300,priority=1,cookie=%#x," +
	"NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[]," +
	"load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[]," +
	"%soutput:OXM_OF_IN_PORT[])"

// learnTunDst makes a learned flow also send to the sender's address: a
// flow-based tunnel port has none of its own.
const (
	learnTunDst  = "load:NXM_NX_TUN_IPV4_SRC[]->NXM_NX_TUN_IPV4_DST[],"
	learnTun6Dst = "load:NXM_NX_TUN_IPV6_SRC[]->NXM_NX_TUN_IPV6_DST[],"
)

// tunBaseFlows are br-tun's static flows (seed 001 tables 0, 2, 10).
func tunBaseFlows(s hoststate.State, pm PortMap) []Flow {
	dst := ""
	if s.FlowTunnels() {
		dst = learnTunDst
		if s.LocalIP.Is6() {
			dst = learnTun6Dst
		}
	}
	out := []Flow{
		on(TunPatchLVToTun, OwnerBase).prio(0).match("dl_dst=00:00:00:00:00:00/01:00:00:00:00:00").do(resubmit(TunUcast)),
		on(TunPatchLVToTun, OwnerBase).prio(0).match("dl_dst=01:00:00:00:00:00/01:00:00:00:00:00").do(resubmit(TunFlood)),
	}
	if pm.PatchInt > 0 {
		out = append(out,
			on(TunClassifier, OwnerBase).prio(1).match(inPort(pm.PatchInt)).do(resubmit(TunPatchLVToTun)),
			on(TunLearn, OwnerBase).prio(1).do(sprintf(learnAction, LearnedCookie, dst), output(pm.PatchInt)),
		)
	}
	return out
}
