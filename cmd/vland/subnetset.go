package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

// newSubnetSetCmd builds `subnet set`. As in the openstack client, the list
// options add to the current lists; --no-* clears a list first.
func newSubnetSetCmd(cc *clientCmd) *cobra.Command {
	var name, desc string
	var lf subnetListFlags
	cmd := &cobra.Command{Use: "set SUBNET", Short: "Change a subnet", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&name, "name", "", "new name")
	fs.StringVar(&desc, "description", "", "new description")
	fs.Bool("no-allocation-pool", false, "clear the allocation pools first")
	fs.Bool("no-dns-nameservers", false, "clear the DNS servers first")
	fs.Bool("no-host-route", false, "clear the host routes first")
	lf.add(cmd, "")
	tf := addTagFlags(cmd, "subnet")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			s, err := c.FindSubnet(ctx, args[0])
			if err != nil {
				return err
			}
			req := client.SubnetUpdate{Name: changedString(cmd, "name", name),
				Description: changedString(cmd, "description", desc), EnableDHCP: triState(cmd, "dhcp", "no-dhcp")}
			if err := lf.fillUpdate(cmd, s, &req); err != nil {
				return err
			}
			if req != (client.SubnetUpdate{}) || !tf.changed(cmd) {
				if _, err := c.UpdateSubnet(ctx, s.ID, req); err != nil {
					return err
				}
			}
			return tf.apply(ctx, cmd, c, "subnets", s.ID, s.Tags)
		})
	}
	return cmd
}

func (f *subnetListFlags) fillUpdate(cmd *cobra.Command, s api.Subnet, req *client.SubnetUpdate) error {
	pools, err := parsePools(f.pools)
	if err != nil {
		return err
	}
	routes, err := parseRoutes(f.routes)
	if err != nil {
		return err
	}
	req.AllocationPools = extendList(cmd, "allocation-pool", "no-allocation-pool", s.AllocationPools, pools)
	req.HostRoutes = extendList(cmd, "host-route", "no-host-route", s.HostRoutes, routes)
	req.DNSNameservers = extendList(cmd, "dns-nameserver", "no-dns-nameservers", s.DNSNameservers, f.dns)
	switch f.gateway {
	case "":
	case "none":
		req.NoGateway = true
	default:
		req.GatewayIP = &f.gateway
	}
	return nil
}

// extendList computes the new value of a list for `set`: nil (unchanged)
// if neither flag was given, else the current list (or nothing, with the
// --no-* flag) plus the added entries.
func extendList[T any](cmd *cobra.Command, addFlag, clearFlag string, current, added []T) *[]T {
	clearIt := cmd.Flags().Changed(clearFlag)
	if !clearIt && !cmd.Flags().Changed(addFlag) {
		return nil
	}
	out := []T{}
	if !clearIt {
		out = append(out, current...)
	}
	out = append(out, added...)
	return &out
}
