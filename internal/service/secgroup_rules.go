package service

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// SecurityGroupRuleRequest is the body of a rule create. Protocol is a
// name or a number as text (the transport accepts both JSON forms).
type SecurityGroupRuleRequest struct {
	ProjectID       Opt[string]
	SecurityGroupID Opt[string]
	Direction       Opt[string]
	Ethertype       Opt[string]
	Protocol        Opt[string]
	PortRangeMin    Opt[int]
	PortRangeMax    Opt[int]
	RemoteIPPrefix  Opt[string]
	RemoteGroupID   Opt[string]
	Description     Opt[string]
}

// Error kinds of rule validation, each its own Neutron type (400).
var (
	ErrRuleInvalidProtocol  = errors.New("service: invalid rule protocol")          // SecurityGroupRuleInvalidProtocol
	ErrRuleInvalidEthertype = errors.New("service: invalid rule ethertype")         // SecurityGroupRuleInvalidEtherType
	ErrRuleInvalidPort      = errors.New("service: invalid rule port")              // SecurityGroupInvalidPortValue
	ErrRuleInvalidRange     = errors.New("service: invalid rule port range")        // SecurityGroupInvalidPortRange
	ErrRuleInvalidICMP      = errors.New("service: invalid rule icmp value")        // SecurityGroupInvalidIcmpValue
	ErrRuleMissingICMPType  = errors.New("service: rule icmp type missing")         // SecurityGroupMissingIcmpType
	ErrRuleProtocolRequired = errors.New("service: rule ports need a protocol")     // SecurityGroupProtocolRequiredWithPorts
	ErrRuleRemoteConflict   = errors.New("service: rule remote ip and group")       // SecurityGroupRemoteGroupAndRemoteIpPrefix
	ErrRuleEthertypeCIDR    = errors.New("service: rule ethertype conflicts cidr")  // SecurityGroupRuleParameterConflict
	ErrRuleEthertypeProto   = errors.New("service: rule ethertype conflicts proto") // SecurityGroupEthertypeConflictWithProtocol
)

// checkProtocol normalises a requested protocol: nil for any, a known
// name (lower case) or a number 0-255 as text.
func checkProtocol(o Opt[string]) (*string, error) {
	if !o.has() || o.V == "" || lowerName(o.V) == "any" {
		return nil, nil
	}
	name := lowerName(o.V)
	if _, ok := api.IPProtocols[name]; ok {
		return &name, nil
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n <= 255 {
		s := strconv.Itoa(n)
		return &s, nil
	}
	names := make([]string, 0, len(api.IPProtocols))
	for k := range api.IPProtocols {
		names = append(names, k)
	}
	sort.Strings(names)
	return nil, fault.New(ErrRuleInvalidProtocol, "Security group rule protocol %s not supported. Only protocol values [None, %s] and integer representations [0 to 255] are supported.", o.V, strings.Join(names, ", "))
}

// buildRule validates a create request into a rule (without ids).
func buildRule(r *SecurityGroupRuleRequest) (api.SecurityGroupRule, error) {
	var out api.SecurityGroupRule
	if !r.SecurityGroupID.has() {
		return out, fault.New(fault.ErrBadRequest, "Failed to parse request. Required attribute 'security_group_id' not specified")
	}
	if !r.Direction.has() {
		return out, fault.New(fault.ErrBadRequest, "Failed to parse request. Required attribute 'direction' not specified")
	}
	if d := r.Direction.V; d != api.DirectionIngress && d != api.DirectionEgress {
		return out, fault.BadAttr("direction", "%s is not in valid_values", d)
	}
	out.Direction, out.Description = r.Direction.V, r.Description.or("")
	switch strings.ToLower(r.Ethertype.or(api.EtherTypeIPv4)) {
	case "ipv4":
		out.Ethertype = api.EtherTypeIPv4
	case "ipv6":
		out.Ethertype = api.EtherTypeIPv6
	default:
		return out, fault.New(ErrRuleInvalidEthertype, "Security group rule for ethertype '%s' not supported. Allowed values are ['IPv4', 'IPv6'].", r.Ethertype.V)
	}
	var err error
	if out.Protocol, err = checkProtocol(r.Protocol); err != nil {
		return out, err
	}
	if n := api.ProtocolNumber(out.Protocol); n == 58 && out.Ethertype == api.EtherTypeIPv4 {
		return out, fault.New(ErrRuleEthertypeProto, "Invalid ethertype %s for protocol %s.", out.Ethertype, *out.Protocol)
	}
	if r.PortRangeMin.has() {
		out.PortRangeMin = ptr(r.PortRangeMin.V)
	}
	if r.PortRangeMax.has() {
		out.PortRangeMax = ptr(r.PortRangeMax.V)
	}
	if err := checkPorts(&out); err != nil {
		return out, err
	}
	if r.RemoteIPPrefix.has() && r.RemoteGroupID.has() {
		return out, fault.New(ErrRuleRemoteConflict, "Only remote_ip_prefix or remote_group_id may be provided.")
	}
	if r.RemoteGroupID.has() {
		out.RemoteGroupID = ptr(r.RemoteGroupID.V)
	}
	if r.RemoteIPPrefix.has() {
		p, err := parsePrefix(r.RemoteIPPrefix.V)
		if err != nil {
			return out, fault.BadAttr("remote_ip_prefix", "'%s' is not a valid IP subnet", r.RemoteIPPrefix.V)
		}
		if p.Addr().Is4() != (out.Ethertype == api.EtherTypeIPv4) {
			return out, fault.New(ErrRuleEthertypeCIDR, "Conflicting value ethertype %s for CIDR %s", out.Ethertype, r.RemoteIPPrefix.V)
		}
		out.RemoteIPPrefix = ptr(p.String())
	}
	return out, nil
}

// parsePrefix accepts a CIDR or a bare address and returns the network.
func parsePrefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	return p.Masked(), nil
}

// checkPorts is Neutron's _validate_port_range.
func checkPorts(r *api.SecurityGroupRule) error {
	lo, hi := r.PortRangeMin, r.PortRangeMax
	if lo == nil && hi == nil {
		return nil
	}
	if r.Protocol == nil {
		return fault.New(ErrRuleProtocolRequired, "Must also specify protocol if port range is given.")
	}
	switch api.ProtocolNumber(r.Protocol) {
	case 6, 17, 33, 132, 136: // tcp, udp, dccp, sctp, udplite
		for _, p := range []*int{lo, hi} {
			if p != nil && (*p < 0 || *p > 65535) {
				return fault.New(ErrRuleInvalidPort, "Invalid value for port %d", *p)
			}
		}
		if lo == nil || hi == nil || *lo > *hi {
			return fault.New(ErrRuleInvalidRange, "For TCP/UDP protocols, port_range_min must be <= port_range_max")
		}
	case 1, 58: // icmp, ipv6-icmp: type in min, code in max
		for _, f := range []struct {
			p           *int
			field, attr string
		}{{lo, "type", "port_range_min"}, {hi, "code", "port_range_max"}} {
			if f.p != nil && (*f.p < 0 || *f.p > 255) {
				return fault.New(ErrRuleInvalidICMP, "Invalid value for ICMP %s (%s) %d. It must be 0 to 255.", f.field, f.attr, *f.p)
			}
		}
		if lo == nil {
			return fault.New(ErrRuleMissingICMPType, "ICMP code (port-range-max) %d is provided but ICMP type (port-range-min) is missing.", *hi)
		}
	}
	return nil
}

// sameRule is Neutron's duplicate test: everything but ids and the
// description, protocols compared by number, 0.0.0.0/0 and ::/0 as none.
func sameRule(a, b *api.SecurityGroupRule) bool {
	eqInt := func(x, y *int) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	eqStr := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	prefix := func(p *string) *string {
		if p != nil && (*p == "0.0.0.0/0" || *p == "::/0") {
			return nil
		}
		return p
	}
	return a.Direction == b.Direction && a.Ethertype == b.Ethertype &&
		api.ProtocolNumber(a.Protocol) == api.ProtocolNumber(b.Protocol) &&
		eqInt(a.PortRangeMin, b.PortRangeMin) && eqInt(a.PortRangeMax, b.PortRangeMax) &&
		eqStr(prefix(a.RemoteIPPrefix), prefix(b.RemoteIPPrefix)) && eqStr(a.RemoteGroupID, b.RemoteGroupID)
}

// CreateSecurityGroupRules creates rules (bulk: all or none, in one
// transaction over the groups they go in).
func (s *Service) CreateSecurityGroupRules(ctx context.Context, reqs []SecurityGroupRuleRequest) ([]api.SecurityGroupRule, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := canCreate(who, "create_security_group_rule"); err != nil {
		return nil, err
	}
	rules := make([]api.SecurityGroupRule, len(reqs))
	for i := range reqs {
		if rules[i], err = buildRule(&reqs[i]); err != nil {
			return nil, err
		}
		if _, err := projectFor(who, reqs[i].ProjectID); err != nil {
			return nil, err
		}
	}
	ctx, cancel := detach(ctx)
	defer cancel()
	out := make([]api.SecurityGroupRule, len(reqs))
	err = s.retry(ctx, func() error {
		a := &alloc{s: s, who: who}
		defer a.release()
		quota := newQuotaGuard(s)
		groups := map[string]*storedSecGroup{}
		revs := map[string]int64{}
		for i := range reqs {
			gid := reqs[i].SecurityGroupID.V
			g := groups[gid]
			if g == nil {
				v, err := s.writableSecGroup(ctx, who, gid, "create_security_group_rule")
				if err != nil {
					return err
				}
				obj := v.obj
				obj.SecurityGroupRules = slices.Clone(obj.SecurityGroupRules)
				obj.RuleSlots = cloneMap(obj.RuleSlots)
				g, groups[gid], revs[gid] = &obj, &obj, v.rev
			}
			rule := rules[i]
			if rule.RemoteGroupID != nil && *rule.RemoteGroupID != gid {
				rv, err := s.visibleSecGroup(ctx, who, *rule.RemoteGroupID)
				if err != nil || (rv.obj.ProjectID != g.ProjectID && !who.IsAdmin()) {
					return secGroupNotFound(*rule.RemoteGroupID)
				}
			}
			for _, have := range g.SecurityGroupRules {
				if sameRule(&have, &rule) {
					return fault.New(ErrSecGroupRuleExists, "Security group rule already exists. Rule id is %s.", have.ID)
				}
			}
			g.RevisionNumber++
			g.UpdatedAt = s.timestamp()
			rule = s.newRule(&g.SecurityGroup, rule)
			rule.CreatedAt, rule.UpdatedAt = g.UpdatedAt, g.UpdatedAt
			slot, err := quota.slot(a, g.ProjectID, quotaSecGroupRule)
			if err != nil {
				return err
			}
			g.RuleSlots[rule.ID] = slot
			g.SecurityGroupRules = append(g.SecurityGroupRules, rule)
			out[i] = ruleView(g, rule)
		}
		conds := quota.condList()
		var ops []store.Op
		for gid, g := range groups {
			key := store.SecurityGroupKey(gid)
			conds = append(conds, store.Cond{Key: key, ModRevision: revs[gid]})
			ops = append(ops, store.Op{Key: key, Value: mustJSON(g)})
		}
		for _, k := range a.keys {
			conds = append(conds, store.Cond{Key: k})
			ops = append(ops, store.Op{Key: k, Value: []byte("security-group-rule")})
		}
		if _, err := s.txn(ctx, conds, ops); err != nil {
			return err
		}
		a.commit()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func ruleNotFound(id string) error {
	return fault.New(ErrSecGroupRuleNotFound, "Security group rule %s does not exist", id)
}

// findRule returns a rule the caller may see with its group.
func (s *Service) findRule(who identity.Identity, id string) (versioned[storedSecGroup], int, error) {
	v, ok := s.cache.ruleGroup(id)
	if !ok || !readsProject(who, v.obj.ProjectID) {
		return v, -1, ruleNotFound(id)
	}
	i := slices.IndexFunc(v.obj.SecurityGroupRules, func(r api.SecurityGroupRule) bool { return r.ID == id })
	if i < 0 {
		return v, -1, ruleNotFound(id)
	}
	return v, i, nil
}

// GetSecurityGroupRule returns a rule the caller may see.
func (s *Service) GetSecurityGroupRule(ctx context.Context, id string) (api.SecurityGroupRule, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return api.SecurityGroupRule{}, err
	}
	v, i, err := s.findRule(who, id)
	if err != nil {
		return api.SecurityGroupRule{}, err
	}
	return ruleView(&v.obj, v.obj.SecurityGroupRules[i]), nil
}

// ListSecurityGroupRules returns the rules the caller may see, by id.
func (s *Service) ListSecurityGroupRules(ctx context.Context) ([]api.SecurityGroupRule, error) {
	groups, err := s.visibleSecGroups(ctx)
	if err != nil {
		return nil, err
	}
	var out []api.SecurityGroupRule
	for _, g := range groups {
		for _, r := range g.SecurityGroupRules {
			out = append(out, ruleView(g, r))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// UpdateSecurityGroupRule: rules are immutable (the transport refuses
// every attribute); an empty update answers the rule.
func (s *Service) UpdateSecurityGroupRule(ctx context.Context, id string, _ SecurityGroupRuleRequest, _ int64) (api.SecurityGroupRule, error) {
	return s.GetSecurityGroupRule(ctx, id)
}

// DeleteSecurityGroupRule removes a rule from its group.
func (s *Service) DeleteSecurityGroupRule(ctx context.Context, id string, ifMatch int64) error {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := detach(ctx)
	defer cancel()
	return s.retry(ctx, func() error {
		v, i, err := s.findRule(who, id)
		if err != nil {
			return err
		}
		if !writesProject(who, v.obj.ProjectID) {
			return forbidden("delete_security_group_rule")
		}
		if err := checkRevision(ifMatch, v.obj.SecurityGroupRules[i].RevisionNumber); err != nil {
			return err
		}
		g := v.obj
		g.SecurityGroupRules = slices.Delete(slices.Clone(g.SecurityGroupRules), i, i+1)
		g.RuleSlots = cloneMap(g.RuleSlots)
		ops := []store.Op{}
		if slot, ok := g.RuleSlots[id]; ok {
			ops = append(ops, store.Op{Key: slot, Delete: true})
			delete(g.RuleSlots, id)
		}
		g.RevisionNumber++
		g.UpdatedAt = s.timestamp()
		key := store.SecurityGroupKey(g.ID)
		_, err = s.txn(ctx, []store.Cond{{Key: key, ModRevision: v.rev}}, append(ops, store.Op{Key: key, Value: mustJSON(g)}))
		return err
	})
}
