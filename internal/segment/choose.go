package segment

// Choose picks the segment for an admin's provider request want (already
// checked with ValidateProvider). A complete segment is taken as is, or
// reported in use; a partial one gets the lowest ID of its type's tenant
// ranges (on its physnet, if given) that take accepts.
//
// take is asked about candidates lowest first and decides whether one is
// free, reserving it for the caller if so; segments without a Key (local)
// are never shown to it.
func (c Config) Choose(want Segment, take func(Segment) bool) (Segment, error) {
	if want.complete() {
		if want.Key() != "" && !take(want) {
			return want, InUse(want)
		}
		return want, nil
	}
	if got, ok := c.free(want, take); ok {
		return got, nil
	}
	return want, noNetwork()
}

// ChooseTenant picks a tenant network's segment: the lowest free ID of the
// first tenant network type that has one.
func (c Config) ChooseTenant(take func(Segment) bool) (Segment, error) {
	for _, typ := range c.TenantNetworkTypes {
		if got, ok := c.free(Segment{NetworkType: typ}, take); ok {
			return got, nil
		}
	}
	return Segment{}, noNetwork()
}

// free walks the tenant ranges matching want, lowest ID first.
func (c Config) free(want Segment, take func(Segment) bool) (Segment, bool) {
	if want.NetworkType == TypeLocal {
		return Segment{NetworkType: TypeLocal}, true
	}
	for _, p := range c.pools(want) {
		for id := p.r.Min; id <= p.r.Max; id++ {
			seg := Segment{NetworkType: want.NetworkType, PhysicalNetwork: p.physnet, SegmentationID: id}
			if take(seg) {
				return seg, true
			}
		}
	}
	return Segment{}, false
}

type pool struct {
	physnet string
	r       Range
}

// pools lists the tenant ranges to scan for a partial segment; VLAN
// physnets in name order.
func (c Config) pools(want Segment) []pool {
	var out []pool
	add := func(physnet string, rs []Range) {
		for _, r := range rs {
			out = append(out, pool{physnet, r})
		}
	}
	switch want.NetworkType {
	case TypeVXLAN:
		add("", c.VNIRanges)
	case TypeGRE:
		add("", c.TunnelIDRanges)
	case TypeGeneve:
		add("", c.GeneveVNIRanges)
	case TypeVLAN:
		for _, p := range c.physnets() {
			if want.PhysicalNetwork == "" || want.PhysicalNetwork == p {
				add(p, c.NetworkVLANRanges[p])
			}
		}
	}
	return out
}
