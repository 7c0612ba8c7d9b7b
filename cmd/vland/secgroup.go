package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

func init() { rootCmd.AddCommand(newSecurityCmd()) }

var secGroupColumns = []listColumn{
	{title: "ID", key: "id"}, {title: "Name", key: "name"}, {title: "Description", key: "description"},
	{title: "Project", key: "project_id"}, {title: "Tags", key: "tags"},
}

var secGroupLongColumns = append(append([]listColumn{}, secGroupColumns...), listColumn{title: "Stateful", key: "stateful"})

var ruleColumns = []listColumn{
	{title: "ID", key: "id"}, {title: "IP Protocol", key: "protocol"}, {title: "Ethertype", key: "ethertype"},
	{title: "IP Range", key: "remote_ip_prefix"}, {title: "Port Min", key: "port_range_min"},
	{title: "Port Max", key: "port_range_max"},
	{title: "Direction", key: "direction"}, {title: "Remote Security Group", key: "remote_group_id"},
	{title: "Security Group", key: "security_group_id"},
}

// newSecurityCmd builds `vland security group ...` and `vland security
// group rule ...`, mirroring `openstack security group`.
func newSecurityCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "security", Short: "Manage security groups"}
	group := &cobra.Command{Use: "group", Short: "Manage security groups (stateful firewalls of ports)"}
	cc := newClientCmd(group, true)
	rule := &cobra.Command{Use: "rule", Short: "Manage security group rules"}
	rule.AddCommand(newRuleCreateCmd(cc), newRuleListCmd(cc), newShowCmd(cc, ruleResource), newDeleteCmd(cc, ruleResource))
	group.AddCommand(newSecGroupCreateCmd(cc), newSecGroupListCmd(cc), newShowCmd(cc, secGroupResource),
		newSecGroupSetCmd(cc), newDeleteCmd(cc, secGroupResource), rule)
	cmd.AddCommand(group)
	return cmd
}

func newSecGroupCreateCmd(cc *clientCmd) *cobra.Command {
	var req client.SecurityGroupCreate
	var project string
	cmd := &cobra.Command{Use: "create NAME", Short: "Create a security group", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&req.Description, "description", "", "description")
	fs.StringVar(&project, "project", "", "owning project, name or ID (admin only)")
	tf := addTagFlags(cmd, "security group")
	addSwitchPair(cmd, "stateful", "stateless", "stateful, with connection tracking (default)", "stateless: replies need their own rules")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			req.Name, req.Tags = args[0], tf.tags
			req.Stateful = triState(cmd, "stateful", "stateless")
			var err error
			if req.ProjectID, err = c.ProjectID(ctx, project); err != nil {
				return err
			}
			return cc.out.printResult(w)(c.CreateSecurityGroup(ctx, req))
		})
	}
	return cmd
}

func newSecGroupListCmd(cc *clientCmd) *cobra.Command {
	var long bool
	var project string
	cmd := &cobra.Command{Use: "list", Short: "List security groups", Args: cobra.NoArgs}
	fs := cmd.Flags()
	fs.BoolVar(&long, "long", false, "show more columns")
	fs.StringVar(&project, "project", "", "only groups of this project (name or ID)")
	tq := addTagFilters(cmd, "security groups")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			q := url.Values{}
			tq.set(q)
			if err := setProjectFilter(ctx, c, q, project); err != nil {
				return err
			}
			items, err := c.ListSecurityGroups(ctx, q)
			return printList(w, cc.out, items, err, pick(long, secGroupLongColumns, secGroupColumns))
		})
	}
	return cmd
}

func newSecGroupSetCmd(cc *clientCmd) *cobra.Command {
	var name, desc string
	cmd := &cobra.Command{Use: "set GROUP", Short: "Change a security group", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&name, "name", "", "new name")
	fs.StringVar(&desc, "description", "", "new description")
	tf := addTagFlags(cmd, "security group")
	addSwitchPair(cmd, "stateful", "stateless", "stateful", "stateless")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			g, err := c.FindSecurityGroup(ctx, args[0])
			if err != nil {
				return err
			}
			req := client.SecurityGroupUpdate{Name: changedString(cmd, "name", name),
				Description: changedString(cmd, "description", desc), Stateful: triState(cmd, "stateful", "stateless")}
			if req != (client.SecurityGroupUpdate{}) || !tf.changed(cmd) {
				if _, err := c.UpdateSecurityGroup(ctx, g.ID, req); err != nil {
					return err
				}
			}
			return tf.apply(ctx, cmd, c, "security-groups", g.ID, g.Tags)
		})
	}
	return cmd
}

// parsePortRange reads openstack's --dst-port: "80" or "8000:8080".
func parsePortRange(s string) (*int, *int, error) {
	lo, hi, ok := strings.Cut(s, ":")
	if !ok {
		hi = lo
	}
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil {
		return nil, nil, fmt.Errorf("--dst-port %q: want PORT or MIN:MAX", s)
	}
	return &a, &b, nil
}

func newRuleCreateCmd(cc *clientCmd) *cobra.Command {
	var req client.SecurityGroupRuleCreate
	var remoteGroup, dstPort, project string
	var icmpType, icmpCode int
	cmd := &cobra.Command{Use: "create GROUP", Short: "Create a security group rule", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&req.RemoteIPPrefix, "remote-ip", "", "remote IP prefix (CIDR) the rule admits")
	fs.StringVar(&remoteGroup, "remote-group", "", "remote security group (name or ID) the rule admits")
	fs.StringVar(&dstPort, "dst-port", "", "destination port or range MIN:MAX (TCP, UDP, SCTP...)")
	fs.StringVar(&req.Protocol, "protocol", "", "IP protocol: a name (tcp, udp, icmp, ipv6-icmp...), a number 0-255, or any (default)")
	fs.IntVar(&icmpType, "icmp-type", 0, "ICMP type (ICMP protocols)")
	fs.IntVar(&icmpCode, "icmp-code", 0, "ICMP code (ICMP protocols)")
	fs.StringVar(&req.Ethertype, "ethertype", "", "IPv4 (default) or IPv6")
	fs.StringVar(&req.Description, "description", "", "description")
	fs.StringVar(&project, "project", "", "owning project, name or ID (admin only)")
	addSwitchPair(cmd, "ingress", "egress", "a rule for incoming traffic (default)", "a rule for outgoing traffic")
	cmd.MarkFlagsMutuallyExclusive("remote-ip", "remote-group")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			g, err := c.FindSecurityGroup(ctx, args[0])
			if err != nil {
				return err
			}
			req.SecurityGroupID, req.Direction = g.ID, api.DirectionIngress
			if cmd.Flags().Changed("egress") {
				req.Direction = api.DirectionEgress
			}
			if strings.EqualFold(req.Protocol, "any") {
				req.Protocol = ""
			}
			if remoteGroup != "" {
				rg, err := c.FindSecurityGroup(ctx, remoteGroup)
				if err != nil {
					return err
				}
				req.RemoteGroupID = rg.ID
			}
			if dstPort != "" {
				if req.PortRangeMin, req.PortRangeMax, err = parsePortRange(dstPort); err != nil {
					return err
				}
			}
			if cmd.Flags().Changed("icmp-type") {
				if dstPort != "" {
					return errors.New("--dst-port and --icmp-type exclude each other")
				}
				req.PortRangeMin = &icmpType
			}
			if cmd.Flags().Changed("icmp-code") {
				req.PortRangeMax = &icmpCode
			}
			if req.ProjectID, err = c.ProjectID(ctx, project); err != nil {
				return err
			}
			return cc.out.printResult(w)(c.CreateSecurityGroupRule(ctx, req))
		})
	}
	return cmd
}

func newRuleListCmd(cc *clientCmd) *cobra.Command {
	var protocol, ethertype string
	cmd := &cobra.Command{Use: "list [GROUP]", Short: "List security group rules (of one group)", Args: cobra.MaximumNArgs(1)}
	fs := cmd.Flags()
	fs.Bool("long", false, "ignored (every column is shown)")
	fs.StringVar(&protocol, "protocol", "", "only rules of this protocol")
	fs.StringVar(&ethertype, "ethertype", "", "only rules of this ethertype")
	addSwitchPair(cmd, "ingress", "egress", "only ingress rules", "only egress rules")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			q := url.Values{}
			setFilter(q, "protocol", protocol)
			setFilter(q, "ethertype", ethertype)
			if in := triState(cmd, "ingress", "egress"); in != nil {
				q.Set("direction", map[bool]string{true: api.DirectionIngress, false: api.DirectionEgress}[*in])
			}
			if len(args) == 1 {
				g, err := c.FindSecurityGroup(ctx, args[0])
				if err != nil {
					return err
				}
				q.Set("security_group_id", g.ID)
			}
			items, err := c.ListSecurityGroupRules(ctx, q)
			return printList(w, cc.out, items, err, ruleColumns)
		})
	}
	return cmd
}

var secGroupResource = resource[api.SecurityGroup]{
	noun:   "security group",
	find:   (*client.Client).FindSecurityGroup,
	id:     func(v api.SecurityGroup) string { return v.ID },
	delete: (*client.Client).DeleteSecurityGroup,
}

// ruleResource: rules are referred to by ID only.
var ruleResource = resource[api.SecurityGroupRule]{
	noun:   "security group rule",
	find:   (*client.Client).GetSecurityGroupRule,
	id:     func(v api.SecurityGroupRule) string { return v.ID },
	delete: (*client.Client).DeleteSecurityGroupRule,
}

// secGroupIDs resolves --security-group references.
func secGroupIDs(ctx context.Context, c *client.Client, refs []string) ([]string, error) {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		g, err := c.FindSecurityGroup(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, g.ID)
	}
	return out, nil
}
