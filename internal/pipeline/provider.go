package pipeline

import (
	"github.com/vland/vland/internal/hoststate"
)

// Network types carried on provider bridges.
const (
	typeFlat = "flat"
	typeVLAN = "vlan"
)

// IsProviderType reports whether a network type rides a provider bridge.
func IsProviderType(t string) bool { return t == typeFlat || t == typeVLAN }

// providerFlows translate between local VLANs and the wire for flat and
// vlan networks, as Neutron does: on br-int, traffic from int-<bridge>
// with the segment's VLAN (or untagged, flat) gets the local VLAN; on the
// provider bridge, traffic from phy-<bridge> with the local VLAN gets the
// segment's VLAN (or is stripped, flat). Anything else from the patches is
// dropped so networks cannot leak into each other.
func providerFlows(s hoststate.State, pm PortMap) (intFlows []Flow, prov map[string][]Flow) {
	prov = map[string][]Flow{}
	for physnet, pp := range pm.Providers {
		if pp.Bridge == "" {
			continue
		}
		prov[pp.Bridge] = nil
		if pp.IntPort > 0 {
			intFlows = append(intFlows, on(IntClassifier, OwnerProvider).prio(2).match(inPort(pp.IntPort)).do(actDrop))
		}
		if pp.PhyPort > 0 {
			prov[pp.Bridge] = append(prov[pp.Bridge], on(ProvLocalSwitching, OwnerProvider).prio(2).match(inPort(pp.PhyPort)).do(actDrop))
		}
		for _, id := range sortedNetworkIDs(s) {
			n := s.Networks[id]
			vlan := pm.LocalVLANs[id]
			if n.PhysicalNetwork != physnet || !IsProviderType(n.Type) || vlan <= 0 {
				continue
			}
			i, p := segmentFlows(n, vlan, pp)
			intFlows = append(intFlows, i...)
			prov[pp.Bridge] = append(prov[pp.Bridge], p...)
		}
	}
	return intFlows, prov
}

// segmentFlows are the two translation flows of one provider network.
func segmentFlows(n hoststate.Network, vlan int, pp ProviderPorts) (intFlows, provFlows []Flow) {
	wireMatch, toWire := "vlan_tci=0x0000/0x1fff", "strip_vlan"
	if n.Type == typeVLAN {
		wireMatch, toWire = dlVLAN(n.SegmentationID), modVLAN(n.SegmentationID)
	}
	if pp.IntPort > 0 {
		intFlows = append(intFlows, on(IntClassifier, OwnerProvider).prio(3).match(inPort(pp.IntPort), wireMatch).
			do(modVLAN(vlan), sprintf("load:%d->%s", vlan, regZone), loadFromPatch, resubmit(IntTransient)))
	}
	if pp.PhyPort > 0 {
		provFlows = append(provFlows, on(ProvLocalSwitching, OwnerProvider).prio(4).match(inPort(pp.PhyPort), dlVLAN(vlan)).
			do(toWire, actNormal))
	}
	return intFlows, provFlows
}
