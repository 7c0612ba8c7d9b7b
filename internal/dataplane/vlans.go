package dataplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/vland/vland/internal/hoststate"
	"github.com/vland/vland/internal/ovs/ovsdb"
	"github.com/vland/vland/internal/pipeline"
)

// Port other_config keys, as Neutron's agent writes them, so the local VLAN
// of a network survives an agent restart.
const (
	ocNetUUID = "net_uuid"
	ocNetType = "network_type"
	ocSegID   = "segmentation_id"
	ocPhysnet = "physical_network"
	ocTag     = "tag"
)

// boundIfaces maps port id -> br-int port for interfaces whose iface-id is
// a port of the state. With several interfaces per id (a VM mid-move) the
// first by name wins; the others are treated as unknown.
func boundIfaces(s hoststate.State, ports []ovsdb.PortInfo) map[string]ovsdb.PortInfo {
	out := map[string]ovsdb.PortInfo{}
	for _, p := range ports {
		id := p.IfaceExternalIDs[extIfaceID]
		if _, ok := s.Ports[id]; !ok || id == "" {
			continue
		}
		if _, dup := out[id]; !dup {
			out[id] = p
		}
	}
	return out
}

// wantsVLAN reports whether a bound port needs its network's local VLAN.
func wantsVLAN(s hoststate.State, p hoststate.Port) bool {
	_, ok := s.Networks[p.NetworkID]
	return ok && p.AdminStateUp
}

// persistedVLANs reads network -> tag from br-int ports' other_config. A
// record counts only while the port still carries that tag, so a port that
// went dead (4095) or half-written no longer holds its old network's tag.
func persistedVLANs(ports []ovsdb.PortInfo) map[string]int {
	out := map[string]int{}
	for _, p := range ports {
		net := p.OtherConfig[ocNetUUID]
		tag, err := strconv.Atoi(p.OtherConfig[ocTag])
		if net == "" || err != nil || p.Tag == nil || *p.Tag != tag {
			continue
		}
		if _, ok := out[net]; !ok {
			out[net] = tag
		}
	}
	return out
}

// localVLANs allocates tags for the networks of bound ports, keeping the
// persisted ones.
func localVLANs(s hoststate.State, bound map[string]ovsdb.PortInfo, ports []ovsdb.PortInfo) (map[string]int, error) {
	var wanted []string
	for id := range bound {
		if p := s.Ports[id]; wantsVLAN(s, p) {
			wanted = append(wanted, p.NetworkID)
		}
	}
	return pipeline.AllocateVLANs(persistedVLANs(ports), wanted)
}

// syncTags gives every br-int port with an iface-id its network's tag and
// other_config, or the dead VLAN if the port is unknown, admin down or its
// network has no tag. Every change goes in one transaction (tag and
// other_config of a port together, so a restarted agent that sees a tag
// also finds its network) that also asks ovs-vswitchd to report when it
// applied it: ovs-vswitchd reconfigures once per batch. It returns the
// next_cfg to wait for before reporting ports bound, 0 if nothing changed.
// Ports are only updated, never created: the VIF's owner (Nova, the lab)
// may delete a port at any moment, and an upsert would bring it back.
func (d *Dataplane) syncTags(ctx context.Context, s hoststate.State, ports []ovsdb.PortInfo, bound map[string]ovsdb.PortInfo, vlans map[string]int, dead bool) (int, error) {
	var ups []ovsdb.PortUpdate
	for _, p := range ports {
		id := p.IfaceExternalIDs[extIfaceID]
		if id == "" {
			continue
		}
		tag, oc := pipeline.DeadVLAN, map[string]string(nil)
		if b, ok := bound[id]; ok && b.Name == p.Name {
			sp := s.Ports[id]
			if v := vlans[sp.NetworkID]; v > 0 && wantsVLAN(s, sp) {
				tag, oc = v, netOtherConfig(s.Networks[sp.NetworkID], v)
			}
		}
		if p.Tag != nil && *p.Tag == tag && containsAll(p.OtherConfig, oc) {
			continue
		}
		if (tag == pipeline.DeadVLAN) != dead {
			continue // the other pass
		}
		ups = append(ups, ovsdb.PortUpdate{Name: p.Name, Tag: tag, OtherConfig: oc})
	}
	if len(ups) == 0 {
		return 0, nil
	}
	target, err := d.db.UpdatePorts(ctx, ups)
	if err != nil {
		return target, fmt.Errorf("dataplane: tag %d ports: %w", len(ups), err)
	}
	return target, nil
}

// taggedIfaces returns the bound interfaces whose port, as OVSDB now reads,
// carries its network's local VLAN; it reports those that do not. Only
// these may be wired.
func taggedIfaces(s hoststate.State, bound map[string]ovsdb.PortInfo, vlans map[string]int, ports []ovsdb.PortInfo) (map[string]ovsdb.PortInfo, error) {
	byName := make(map[string]ovsdb.PortInfo, len(ports))
	for _, p := range ports {
		byName[p.Name] = p
	}
	out := map[string]ovsdb.PortInfo{}
	var errs []error
	for _, id := range sortedKeys(bound) {
		sp := s.Ports[id]
		v := vlans[sp.NetworkID]
		if v <= 0 || !wantsVLAN(s, sp) {
			continue // not wired anyway
		}
		p, ok := byName[bound[id].Name]
		if !ok {
			continue // unplugged meanwhile
		}
		if p.Tag == nil || *p.Tag != v {
			errs = append(errs, fmt.Errorf("%w: port %s (%s): tag %s, want %d", ErrTag, p.Name, id, tagString(p.Tag), v))
			continue
		}
		out[id] = p
	}
	return out, errors.Join(errs...)
}

func tagString(t *int) string {
	if t == nil {
		return "none"
	}
	return strconv.Itoa(*t)
}

func containsAll(m, want map[string]string) bool {
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func netOtherConfig(n hoststate.Network, vlan int) map[string]string {
	return map[string]string{
		ocNetUUID: n.ID, ocNetType: n.Type, ocSegID: strconv.Itoa(n.SegmentationID),
		ocPhysnet: n.PhysicalNetwork, ocTag: strconv.Itoa(vlan),
	}
}

func intPtr(v int) *int { return &v }

// newVLANs are the local VLANs this Apply gives to a network whose ports
// did not carry it before: the network is new on the host. Its tag is also its
// conntrack zone in the firewall, and a tag freed earlier may still have
// conntrack entries of the network that had it (with the same addresses,
// since networks overlap), revoked marks included: those must not decide
// the new network's connections. A restarted agent finds its tags on the
// ports, so established connections keep their entries.
func newVLANs(vlans map[string]int, ports []ovsdb.PortInfo) []int {
	carried := persistedVLANs(ports)
	var out []int
	for net, tag := range vlans {
		if carried[net] != tag {
			out = append(out, tag)
		}
	}
	slices.Sort(out)
	return out
}

// flushConntrackZone deletes every conntrack entry of zone, in whichever
// datapath ovs-vswitchd runs (userspace or kernel).
func (d *Dataplane) flushConntrackZone(ctx context.Context, zone int) error {
	cmd := exec.CommandContext(ctx, "ovs-appctl", "--timeout=10", "-t", "ovs-vswitchd",
		"dpctl/flush-conntrack", fmt.Sprintf("zone=%d", zone))
	if d.cfg.RunDir != "" {
		cmd.Env = append(os.Environ(), "OVS_RUNDIR="+d.cfg.RunDir)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("dataplane: flush conntrack zone %d: %w: %s", zone, err, strings.TrimSpace(string(out)))
	}
	return nil
}
