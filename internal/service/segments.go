package service

import (
	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/segment"
)

// isProvider reports whether the request names provider attributes (which
// only admins may).
func (r *NetworkRequest) isProvider() bool {
	return r.NetworkType.Set || r.PhysicalNetwork.Set || r.SegmentationID.Set
}

// providerSegment is the segment an admin's provider attributes ask for,
// validated; a zero SegmentationID leaves the ID to be allocated.
func (s *Service) providerSegment(r *NetworkRequest) (segment.Segment, error) {
	seg := segment.Segment{NetworkType: r.NetworkType.or(""), PhysicalNetwork: r.PhysicalNetwork.or(""),
		SegmentationID: r.SegmentationID.or(0)}
	if r.SegmentationID.has() && seg.SegmentationID == 0 {
		seg.SegmentationID = -1 // given but zero: invalid, not "allocate one"
	}
	return seg, s.segs.ValidateProvider(seg)
}

// chooseSegment picks (and reserves) the request's segment: the provider
// one, or the lowest free tenant segment. The cache says what is
// allocated, the reservations what other requests of this server hold.
func (s *Service) chooseSegment(r *NetworkRequest) (segment.Segment, error) {
	take := func(g segment.Segment) bool {
		k := g.Key()
		return !s.cache.hasSegment(k) && s.res.take(k)
	}
	if !r.isProvider() {
		return s.segs.ChooseTenant(take)
	}
	want, err := s.providerSegment(r)
	if err != nil {
		return want, err
	}
	return s.segs.Choose(want, take)
}

// applySegment writes the segment into the network's provider attributes.
func applySegment(n *api.Network, g segment.Segment) {
	n.NetworkType = g.NetworkType
	n.PhysicalNetwork, n.SegmentationID = nil, nil
	if g.PhysicalNetwork != "" {
		p := g.PhysicalNetwork
		n.PhysicalNetwork = &p
	}
	if g.NetworkType != api.NetworkTypeLocal && g.NetworkType != api.NetworkTypeFlat {
		id := g.SegmentationID
		n.SegmentationID = &id
	}
}

// segmentOf reads a stored network's segment back.
func segmentOf(n *api.Network) segment.Segment {
	g := segment.Segment{NetworkType: n.NetworkType}
	if n.PhysicalNetwork != nil {
		g.PhysicalNetwork = *n.PhysicalNetwork
	}
	if n.SegmentationID != nil {
		g.SegmentationID = *n.SegmentationID
	}
	return g
}
