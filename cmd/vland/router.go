package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"

	"github.com/spf13/cobra"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

func init() { rootCmd.AddCommand(newRouterCmd()) }

var routerColumns = []listColumn{
	{title: "ID", key: "id"}, {title: "Name", key: "name"}, {title: "Status", key: "status"},
	{title: "State", key: "admin_state_up", format: cellState}, {title: "Project", key: "project_id"},
}

var routerLongColumns = append(append([]listColumn{}, routerColumns...),
	listColumn{title: "Routes", key: "routes"}, listColumn{title: "External gateway info", key: "external_gateway_info"},
	listColumn{title: "Tags", key: "tags"})

// newRouterCmd builds `vland router ...`, mirroring `openstack router`.
func newRouterCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "router", Short: "Manage routers (interfaces, external gateway, routes)"}
	cc := newClientCmd(cmd, true)
	add := &cobra.Command{Use: "add", Short: "Attach a subnet or a port to a router"}
	remove := &cobra.Command{Use: "remove", Short: "Detach a subnet or a port from a router"}
	for _, kind := range []string{"subnet", "port"} {
		add.AddCommand(newRouterIfaceCmd(cc, true, kind))
		remove.AddCommand(newRouterIfaceCmd(cc, false, kind))
	}
	cmd.AddCommand(newRouterCreateCmd(cc), newRouterListCmd(cc), newShowCmd(cc, routerResource),
		newRouterSetCmd(cc), newRouterUnsetCmd(cc), newDeleteCmd(cc, routerResource), add, remove)
	return cmd
}

// gatewayFlags are --external-gateway, --enable/--disable-snat and --fixed-ip.
type gatewayFlags struct {
	network  string
	fixedIPs []string
}

func (g *gatewayFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&g.network, "external-gateway", "", "external network of the router's gateway (name or ID)")
	addSwitchPair(cmd, "enable-snat", "disable-snat", "SNAT on the gateway (default)", "no SNAT on the gateway (admin only)")
	cmd.Flags().StringArrayVar(&g.fixedIPs, "fixed-ip", nil,
		"subnet=SUBNET,ip-address=IP: the gateway's address on the external network (admin only; repeatable)")
}

// info builds external_gateway_info; nil without --external-gateway.
func (g *gatewayFlags) info(ctx context.Context, cmd *cobra.Command, c *client.Client) (*client.GatewayInfo, error) {
	if g.network == "" {
		if triState(cmd, "enable-snat", "disable-snat") != nil || len(g.fixedIPs) > 0 {
			return nil, fmt.Errorf("--enable-snat, --disable-snat and --fixed-ip need --external-gateway")
		}
		return nil, nil
	}
	id, err := networkID(ctx, c, g.network)
	if err != nil {
		return nil, err
	}
	info := &client.GatewayInfo{NetworkID: id, EnableSNAT: triState(cmd, "enable-snat", "disable-snat")}
	for _, s := range g.fixedIPs {
		kv, err := parseKV("fixed-ip", s, "subnet", "ip-address")
		if err != nil {
			return nil, err
		}
		f := api.FixedIP{IPAddress: kv["ip-address"]}
		if ref := kv["subnet"]; ref != "" {
			sub, err := c.FindSubnet(ctx, ref)
			if err != nil {
				return nil, err
			}
			f.SubnetID = sub.ID
		}
		info.ExternalFixedIPs = append(info.ExternalFixedIPs, f)
	}
	return info, nil
}

func newRouterCreateCmd(cc *clientCmd) *cobra.Command {
	var req client.RouterCreate
	var project string
	var gf gatewayFlags
	cmd := &cobra.Command{Use: "create NAME", Short: "Create a router", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&req.Description, "description", "", "description")
	fs.StringVar(&project, "project", "", "owning project, name or ID (admin only; created on first use)")
	fs.StringArrayVar(&req.Tags, "tag", nil, "tag (repeatable)")
	addSwitchPair(cmd, "enable", "disable", "admin state up (default)", "admin state down")
	gf.add(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			req.Name = args[0]
			req.AdminStateUp = triState(cmd, "enable", "disable")
			var err error
			if req.Gateway, err = gf.info(ctx, cmd, c); err != nil {
				return err
			}
			if req.ProjectID, err = c.ProjectID(ctx, project); err != nil {
				return err
			}
			return cc.out.printResult(w)(c.CreateRouter(ctx, req))
		})
	}
	return cmd
}

func newRouterListCmd(cc *clientCmd) *cobra.Command {
	var long bool
	var name, project, agent string
	cmd := &cobra.Command{Use: "list", Short: "List routers", Args: cobra.NoArgs}
	fs := cmd.Flags()
	fs.BoolVar(&long, "long", false, "show more columns")
	fs.StringVar(&agent, "agent", "", "only the routers this L3 agent realises (agent ID)")
	fs.StringVar(&name, "name", "", "only routers with this name")
	fs.StringVar(&project, "project", "", "only routers of this project (name or ID)")
	addSwitchPair(cmd, "enable", "disable", "only routers that are up", "only routers that are down")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			if agent != "" {
				items, err := c.ListL3Routers(ctx, agent)
				return printList(w, cc.out, items, err, pick(long, routerLongColumns, routerColumns))
			}
			q := url.Values{}
			setFilter(q, "name", name)
			setBoolFilter(q, "admin_state_up", triState(cmd, "enable", "disable"))
			if err := setProjectFilter(ctx, c, q, project); err != nil {
				return err
			}
			items, err := c.ListRouters(ctx, q)
			return printList(w, cc.out, items, err, pick(long, routerLongColumns, routerColumns))
		})
	}
	return cmd
}

// parseRouterRoutes parses --route destination=CIDR,gateway=IP flags.
func parseRouterRoutes(flags []string) ([]api.Route, error) {
	var out []api.Route
	for _, s := range flags {
		kv, err := parseKV("route", s, "destination", "gateway")
		if err != nil {
			return nil, err
		}
		if kv["destination"] == "" || kv["gateway"] == "" {
			return nil, fmt.Errorf("--route %q: want destination=CIDR,gateway=IP", s)
		}
		out = append(out, api.Route{Destination: kv["destination"], Nexthop: kv["gateway"]})
	}
	return out, nil
}

func newRouterSetCmd(cc *clientCmd) *cobra.Command {
	var name, desc string
	var routes []string
	var noRoute bool
	var gf gatewayFlags
	cmd := &cobra.Command{Use: "set ROUTER", Short: "Change a router: name, state, gateway, routes", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&name, "name", "", "new name")
	fs.StringVar(&desc, "description", "", "new description")
	fs.StringArrayVar(&routes, "route", nil, "destination=CIDR,gateway=IP: add an extra route (repeatable)")
	fs.BoolVar(&noRoute, "no-route", false, "remove every extra route (before adding --route ones)")
	addSwitchPair(cmd, "enable", "disable", "admin state up", "admin state down")
	gf.add(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			r, err := c.FindRouter(ctx, args[0])
			if err != nil {
				return err
			}
			req := client.RouterUpdate{Name: changedString(cmd, "name", name), Description: changedString(cmd, "description", desc),
				AdminStateUp: triState(cmd, "enable", "disable")}
			if req.Gateway, err = gf.info(ctx, cmd, c); err != nil {
				return err
			}
			add, err := parseRouterRoutes(routes)
			if err != nil {
				return err
			}
			if noRoute || len(add) > 0 {
				all := []api.Route{}
				if !noRoute {
					all = append(all, r.Routes...)
				}
				for _, rt := range add {
					if !slices.Contains(all, rt) {
						all = append(all, rt)
					}
				}
				req.Routes = &all
			}
			_, err = c.UpdateRouter(ctx, r.ID, req)
			return err
		})
	}
	return cmd
}

func newRouterUnsetCmd(cc *clientCmd) *cobra.Command {
	var routes []string
	var gateway bool
	cmd := &cobra.Command{Use: "unset ROUTER", Short: "Remove routes or the external gateway of a router", Args: cobra.ExactArgs(1)}
	cmd.Flags().StringArrayVar(&routes, "route", nil, "destination=CIDR,gateway=IP: a route to remove (repeatable)")
	cmd.Flags().BoolVar(&gateway, "external-gateway", false, "remove the external gateway")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			r, err := c.FindRouter(ctx, args[0])
			if err != nil {
				return err
			}
			drop, err := parseRouterRoutes(routes)
			if err != nil {
				return err
			}
			req := client.RouterUpdate{ClearGateway: gateway}
			if len(drop) > 0 {
				kept := slices.DeleteFunc(slices.Clone(r.Routes), func(rt api.Route) bool { return slices.Contains(drop, rt) })
				req.Routes = &kept
			}
			if !gateway && req.Routes == nil {
				return nil
			}
			_, err = c.UpdateRouter(ctx, r.ID, req)
			return err
		})
	}
	return cmd
}

// newRouterIfaceCmd is `router add|remove subnet|port ROUTER SUBNET|PORT`.
func newRouterIfaceCmd(cc *clientCmd, add bool, kind string) *cobra.Command {
	verb := "Detach"
	if add {
		verb = "Attach"
	}
	cmd := &cobra.Command{Use: kind + " ROUTER " + map[string]string{"subnet": "SUBNET", "port": "PORT"}[kind],
		Short: verb + " a " + kind + " (names or IDs)", Args: cobra.ExactArgs(2)}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			r, err := c.FindRouter(ctx, args[0])
			if err != nil {
				return err
			}
			var subnetID, portID string
			if kind == "subnet" {
				sub, err := c.FindSubnet(ctx, args[1])
				if err != nil {
					return err
				}
				subnetID = sub.ID
			} else {
				p, err := c.FindPort(ctx, args[1])
				if err != nil {
					return err
				}
				portID = p.ID
			}
			_, err = c.RouterInterface(ctx, r.ID, add, subnetID, portID)
			return err
		})
	}
	return cmd
}

// routerResource is what show and delete need to know of routers.
var routerResource = resource[api.Router]{
	noun:   "router",
	find:   (*client.Client).FindRouter,
	id:     func(v api.Router) string { return v.ID },
	delete: (*client.Client).DeleteRouter,
}
