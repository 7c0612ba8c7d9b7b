package main

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

func init() { rootCmd.AddCommand(newQuotaCmd()) }

var quotaUsageColumns = []listColumn{
	{title: "Resource", key: "resource"}, {title: "In Use", key: "used"},
	{title: "Reserved", key: "reserved"}, {title: "Limit", key: "limit"},
}

// newQuotaCmd builds `vland quota show|set`, mirroring `openstack quota`.
func newQuotaCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "quota", Short: "Show and set per-project quotas"}
	cc := newClientCmd(cmd, true)
	cmd.AddCommand(newQuotaShowCmd(cc), newQuotaSetCmd(cc))
	return cmd
}

// quotaProject resolves PROJECT (name or ID), or the caller's own project.
func quotaProject(ctx context.Context, c *client.Client, args []string) (string, error) {
	if len(args) == 1 {
		return c.FindProjectID(ctx, args[0])
	}
	scope, err := c.Scope(ctx)
	if err == nil && scope.ProjectID == "" {
		err = errors.New("no project given and the credentials name none")
	}
	return scope.ProjectID, err
}

func newQuotaShowCmd(cc *clientCmd) *cobra.Command {
	var usage bool
	cmd := &cobra.Command{Use: "show [PROJECT]", Short: "Show a project's quota (default: your own)", Args: cobra.MaximumNArgs(1)}
	cmd.Flags().BoolVar(&usage, "usage", false, "show what the project uses next to its limits")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			project, err := quotaProject(ctx, c, args)
			if err != nil {
				return err
			}
			if !usage {
				q, err := c.GetQuota(ctx, project)
				if err != nil {
					return err
				}
				return cc.out.printOne(w, q)
			}
			d, err := c.QuotaDetails(ctx, project)
			if err != nil {
				return err
			}
			rows := []map[string]any{}
			for _, r := range []struct {
				name string
				u    api.QuotaUsage
			}{{"networks", d.Network}, {"subnets", d.Subnet}, {"ports", d.Port}, {"routers", d.Router}, {"floating-ips", d.FloatingIP},
				{"secgroups", d.SecurityGroup}, {"secgroup-rules", d.SecurityGroupRule}} {
				rows = append(rows, map[string]any{"resource": r.name, "used": r.u.Used, "reserved": r.u.Reserved, "limit": r.u.Limit})
			}
			return printObjects(w, cc.out, rows, quotaUsageColumns)
		})
	}
	return cmd
}

func newQuotaSetCmd(cc *clientCmd) *cobra.Command {
	var networks, subnets, ports, routers, fips, groups, rules int
	cmd := &cobra.Command{Use: "set PROJECT", Short: "Set a project's quota (admin only; -1 is unlimited)", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.IntVar(&networks, "networks", 0, "most networks")
	fs.IntVar(&subnets, "subnets", 0, "most subnets")
	fs.IntVar(&ports, "ports", 0, "most ports")
	fs.IntVar(&routers, "routers", 0, "most routers")
	fs.IntVar(&fips, "floating-ips", 0, "most floating IPs")
	fs.IntVar(&groups, "secgroups", 0, "most security groups")
	fs.IntVar(&rules, "secgroup-rules", 0, "most security group rules")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			project, err := c.FindProjectID(ctx, args[0])
			if err != nil {
				return err
			}
			req := client.QuotaUpdate{Network: changedInt(cmd, "networks", networks),
				Subnet: changedInt(cmd, "subnets", subnets), Port: changedInt(cmd, "ports", ports),
				Router: changedInt(cmd, "routers", routers), FloatingIP: changedInt(cmd, "floating-ips", fips),
				SecurityGroup: changedInt(cmd, "secgroups", groups), SecurityGroupRule: changedInt(cmd, "secgroup-rules", rules)}
			if req == (client.QuotaUpdate{}) {
				return errors.New("nothing to set: give --networks, --subnets, --ports, --routers, --floating-ips, --secgroups or --secgroup-rules")
			}
			q, err := c.SetQuota(ctx, project, req)
			if err != nil {
				return err
			}
			return cc.out.printOne(w, q)
		})
	}
	return cmd
}
