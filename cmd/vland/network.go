package main

import (
	"context"
	"io"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

func init() { rootCmd.AddCommand(newNetworkCmd()) }

var networkColumns = []listColumn{
	{title: "ID", key: "id"}, {title: "Name", key: "name"}, {title: "Subnets", key: "subnets"},
}

var networkLongColumns = append(append([]listColumn{}, networkColumns...),
	listColumn{title: "Status", key: "status"}, listColumn{title: "Project", key: "project_id"},
	listColumn{title: "State", key: "admin_state_up", format: cellState}, listColumn{title: "Shared", key: "shared"},
	listColumn{title: "External", key: "router:external"}, listColumn{title: "MTU", key: "mtu"},
	listColumn{title: "Network Type", key: "provider:network_type"},
	listColumn{title: "Segmentation ID", key: "provider:segmentation_id"}, listColumn{title: "Tags", key: "tags"})

// newNetworkCmd builds `vland network ...`, mirroring `openstack network`.
func newNetworkCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "network", Short: "Manage networks"}
	cc := newClientCmd(cmd, true)
	cmd.AddCommand(newNetworkCreateCmd(cc), newNetworkListCmd(cc), newShowCmd(cc, networkResource),
		newNetworkSetCmd(cc), newUnsetCmd(cc, networkResource, "networks"), newDeleteCmd(cc, networkResource),
		newNetworkRBACCmd(cc), newNetworkAgentCmd(cc))
	return cmd
}

func newNetworkCreateCmd(cc *clientCmd) *cobra.Command {
	var req client.NetworkCreate
	var mtu, segment int
	var project string
	cmd := &cobra.Command{Use: "create NAME", Short: "Create a network", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&req.NetworkType, "provider-network-type", "", "flat, vlan, vxlan, gre, geneve or local")
	fs.StringVar(&req.PhysicalNetwork, "provider-physical-network", "", "physical network of a flat or VLAN network")
	fs.IntVar(&segment, "provider-segment", 0, "VLAN ID or tunnel ID (VNI)")
	fs.IntVar(&mtu, "mtu", 0, "MTU")
	fs.StringVar(&req.Description, "description", "", "description")
	fs.StringVar(&project, "project", "", "owning project, name or ID (admin only; created on first use)")
	fs.StringVar(&req.DNSDomain, "dns-domain", "", "DNS domain of the network's port names (default openstacklocal.)")
	tf := addTagFlags(cmd, "network")
	addSwitchPair(cmd, "share", "no-share", "shared with all projects", "not shared (default)")
	addSwitchPair(cmd, "external", "internal", "an external network (router gateways, floating IPs)", "an internal network (default)")
	addSwitchPair(cmd, "enable-port-security", "disable-port-security", "port security on (default)", "port security off")
	addSwitchPair(cmd, "enable", "disable", "admin state up (default)", "admin state down")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			req.Name = args[0]
			req.Shared = triState(cmd, "share", "no-share")
			req.External = triState(cmd, "external", "internal")
			req.PortSecurityEnabled = triState(cmd, "enable-port-security", "disable-port-security")
			req.AdminStateUp = triState(cmd, "enable", "disable")
			req.MTU = changedInt(cmd, "mtu", mtu)
			req.SegmentationID = changedInt(cmd, "provider-segment", segment)
			req.Tags = tf.tags
			var err error
			if req.ProjectID, err = c.ProjectID(ctx, project); err != nil {
				return err
			}
			return cc.out.printResult(w)(c.CreateNetwork(ctx, req))
		})
	}
	return cmd
}

func newNetworkListCmd(cc *clientCmd) *cobra.Command {
	var long bool
	var name, project, agent string
	cmd := &cobra.Command{Use: "list", Short: "List networks", Args: cobra.NoArgs}
	cmd.Flags().StringVar(&agent, "agent", "", "only the networks this DHCP agent serves (agent ID)")
	fs := cmd.Flags()
	fs.BoolVar(&long, "long", false, "show more columns")
	fs.StringVar(&name, "name", "", "only networks with this name")
	fs.StringVar(&project, "project", "", "only networks of this project (name or ID)")
	tq := addTagFilters(cmd, "networks")
	addSwitchPair(cmd, "share", "no-share", "only shared networks", "only unshared networks")
	addSwitchPair(cmd, "external", "internal", "only external networks", "only internal networks")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			q := url.Values{}
			setFilter(q, "name", name)
			setBoolFilter(q, "shared", triState(cmd, "share", "no-share"))
			setBoolFilter(q, "router:external", triState(cmd, "external", "internal"))
			tq.set(q)
			if err := setProjectFilter(ctx, c, q, project); err != nil {
				return err
			}
			if agent != "" {
				items, err := listAgentNetworks(ctx, c, agent)
				return printList(w, cc.out, items, err, pick(long, networkLongColumns, networkColumns))
			}
			items, err := c.ListNetworks(ctx, q)
			return printList(w, cc.out, items, err, pick(long, networkLongColumns, networkColumns))
		})
	}
	return cmd
}

func newNetworkSetCmd(cc *clientCmd) *cobra.Command {
	var name, desc, dnsDomain string
	var mtu int
	cmd := &cobra.Command{Use: "set NETWORK", Short: "Change a network", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&dnsDomain, "dns-domain", "", "new DNS domain")
	fs.StringVar(&name, "name", "", "new name")
	fs.StringVar(&desc, "description", "", "new description")
	fs.IntVar(&mtu, "mtu", 0, "new MTU")
	tf := addTagFlags(cmd, "network")
	addSwitchPair(cmd, "share", "no-share", "share with all projects", "stop sharing")
	addSwitchPair(cmd, "external", "internal", "make external", "make internal")
	addSwitchPair(cmd, "enable-port-security", "disable-port-security", "port security on", "port security off")
	addSwitchPair(cmd, "enable", "disable", "admin state up", "admin state down")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			n, err := c.FindNetwork(ctx, args[0])
			if err != nil {
				return err
			}
			req := client.NetworkUpdate{
				Name: changedString(cmd, "name", name), Description: changedString(cmd, "description", desc),
				MTU:    changedInt(cmd, "mtu", mtu),
				Shared: triState(cmd, "share", "no-share"), External: triState(cmd, "external", "internal"),
				PortSecurityEnabled: triState(cmd, "enable-port-security", "disable-port-security"),
				AdminStateUp:        triState(cmd, "enable", "disable"),
				DNSDomain:           changedString(cmd, "dns-domain", dnsDomain),
			}
			if req != (client.NetworkUpdate{}) || !tf.changed(cmd) {
				if _, err := c.UpdateNetwork(ctx, n.ID, req); err != nil {
					return err
				}
			}
			return tf.apply(ctx, cmd, c, "networks", n.ID, n.Tags)
		})
	}
	return cmd
}

// networkID resolves a --network reference.
func networkID(ctx context.Context, c *client.Client, ref string) (string, error) {
	n, err := c.FindNetwork(ctx, ref)
	return n.ID, err
}

// networkResource is what show and delete need to know of networks.
var networkResource = resource[api.Network]{
	noun:   "network",
	find:   (*client.Client).FindNetwork,
	id:     func(v api.Network) string { return v.ID },
	delete: (*client.Client).DeleteNetwork,
}
