package main

import (
	"context"
	"io"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/vland/vland/internal/client"
)

func init() { rootCmd.AddCommand(newIPCmd()) }

var ipAvailabilityColumns = []listColumn{{title: "Network ID", key: "network_id"}, {title: "Network Name", key: "network_name"},
	{title: "Total IPs", key: "total_ips"}, {title: "Used IPs", key: "used_ips"}}

// newIPCmd builds `vland ip availability ...`, mirroring `openstack ip
// availability` (admin only).
func newIPCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "ip", Short: "Show IP availability"}
	cc := newClientCmd(cmd, true)
	avail := &cobra.Command{Use: "availability", Short: "Used and total addresses per network (admin only)"}
	avail.AddCommand(newIPAvailabilityListCmd(cc), newIPAvailabilityShowCmd(cc))
	cmd.AddCommand(avail)
	return cmd
}

func newIPAvailabilityListCmd(cc *clientCmd) *cobra.Command {
	var project string
	var version int
	cmd := &cobra.Command{Use: "list", Short: "List the IP availability of networks", Args: cobra.NoArgs}
	cmd.Flags().IntVar(&version, "ip-version", 0, "only networks with subnets of this IP version")
	cmd.Flags().StringVar(&project, "project", "", "only networks of this project (name or ID)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			q := url.Values{}
			if err := setProjectFilter(ctx, c, q, project); err != nil {
				return err
			}
			items, err := c.ListIPAvailability(ctx, q)
			if version != 0 && err == nil {
				kept := items[:0]
				for _, a := range items {
					for _, s := range a.SubnetIPAvailability {
						if s.IPVersion == version {
							kept = append(kept, a)
							break
						}
					}
				}
				items = kept
			}
			return printList(w, cc.out, items, err, ipAvailabilityColumns)
		})
	}
	return cmd
}

func newIPAvailabilityShowCmd(cc *clientCmd) *cobra.Command {
	return &cobra.Command{
		Use: "show NETWORK", Short: "Show the IP availability of a network (name or ID)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				id, err := networkID(ctx, c, args[0])
				if err != nil {
					return err
				}
				return cc.out.printResult(w)(c.GetIPAvailability(ctx, id))
			})
		},
	}
}
