package main

import (
	"context"
	"io"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

func init() { rootCmd.AddCommand(newSubnetCmd()) }

var subnetColumns = []listColumn{
	{title: "ID", key: "id"}, {title: "Name", key: "name"}, {title: "Network", key: "network_id"},
	{title: "Subnet", key: "cidr"},
}

var subnetLongColumns = append(append([]listColumn{}, subnetColumns...),
	listColumn{title: "Project", key: "project_id"}, listColumn{title: "DHCP", key: "enable_dhcp"},
	listColumn{title: "Name Servers", key: "dns_nameservers"},
	listColumn{title: "Allocation Pools", key: "allocation_pools", format: cellPools},
	listColumn{title: "Host Routes", key: "host_routes"}, listColumn{title: "IP Version", key: "ip_version"},
	listColumn{title: "Gateway", key: "gateway_ip"}, listColumn{title: "Tags", key: "tags"})

// newSubnetCmd builds `vland subnet ...`, mirroring `openstack subnet`.
func newSubnetCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "subnet", Short: "Manage subnets"}
	cc := newClientCmd(cmd, true)
	cmd.AddCommand(newSubnetCreateCmd(cc), newSubnetListCmd(cc), newShowCmd(cc, subnetResource),
		newSubnetSetCmd(cc), newUnsetCmd(cc, subnetResource, "subnets"), newDeleteCmd(cc, subnetResource),
		newSubnetPoolCmd(cc))
	return cmd
}

// subnetListFlags are the repeatable list options of create and set.
type subnetListFlags struct {
	pools, dns, routes []string
	gateway            string
}

func (f *subnetListFlags) add(cmd *cobra.Command, gatewayDefault string) {
	fs := cmd.Flags()
	fs.StringArrayVar(&f.pools, "allocation-pool", nil, "start=IP,end=IP (repeatable)")
	fs.StringArrayVar(&f.dns, "dns-nameserver", nil, "DNS server pushed by DHCP (repeatable)")
	fs.StringArrayVar(&f.routes, "host-route", nil, "destination=CIDR,gateway=IP (repeatable)")
	fs.StringVar(&f.gateway, "gateway", gatewayDefault, "gateway IP, 'auto' (first address) or 'none'")
	addSwitchPair(cmd, "dhcp", "no-dhcp", "DHCP on (default)", "DHCP off")
}

func newSubnetCreateCmd(cc *clientCmd) *cobra.Command {
	var req client.SubnetCreate
	var lf subnetListFlags
	var network, project, pool string
	var prefixLen int
	cmd := &cobra.Command{Use: "create NAME", Short: "Create a subnet", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&network, "network", "", "network the subnet belongs to (name or ID)")
	fs.StringVar(&req.CIDR, "subnet-range", "", "CIDR, e.g. 10.1.0.0/24 (inside the pool with --subnet-pool)")
	fs.StringVar(&pool, "subnet-pool", "", "subnet pool to allocate the prefix from (name or ID)")
	fs.IntVar(&prefixLen, "prefix-length", 0, "prefix length of the allocation (default: the pool's)")
	fs.Bool("use-default-subnet-pool", false, "allocate from the default pool of --ip-version")
	fs.IntVar(&req.IPVersion, "ip-version", 4, "IP version")
	fs.StringVar(&req.Description, "description", "", "description")
	fs.StringVar(&project, "project", "", "owning project, name or ID (admin only; created on first use)")
	lf.add(cmd, "auto")
	tf := addTagFlags(cmd, "subnet")
	_ = cmd.MarkFlagRequired("network")
	cmd.MarkFlagsOneRequired("subnet-range", "subnet-pool", "use-default-subnet-pool")
	cmd.MarkFlagsMutuallyExclusive("subnet-pool", "use-default-subnet-pool")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			req.Name, req.Tags = args[0], tf.tags
			if err := lf.fillCreate(cmd, &req); err != nil {
				return err
			}
			req.Prefixlen = changedInt(cmd, "prefix-length", prefixLen)
			if cmd.Flags().Changed("use-default-subnet-pool") {
				on := true
				req.UseDefaultPool = &on
			}
			var err error
			if pool != "" {
				if req.SubnetPoolID, err = subnetPoolID(ctx, c, pool); err != nil {
					return err
				}
			}
			if req.NetworkID, err = networkID(ctx, c, network); err != nil {
				return err
			}
			if req.ProjectID, err = c.ProjectID(ctx, project); err != nil {
				return err
			}
			return cc.out.printResult(w)(c.CreateSubnet(ctx, req))
		})
	}
	return cmd
}

func (f *subnetListFlags) fillCreate(cmd *cobra.Command, req *client.SubnetCreate) error {
	var err error
	if req.AllocationPools, err = parsePools(f.pools); err != nil {
		return err
	}
	if req.HostRoutes, err = parseRoutes(f.routes); err != nil {
		return err
	}
	req.DNSNameservers = f.dns
	req.EnableDHCP = triState(cmd, "dhcp", "no-dhcp")
	switch f.gateway {
	case "auto", "":
	case "none":
		req.NoGateway = true
	default:
		req.GatewayIP = &f.gateway
	}
	return nil
}

func newSubnetListCmd(cc *clientCmd) *cobra.Command {
	var long bool
	var name, network, project string
	cmd := &cobra.Command{Use: "list", Short: "List subnets", Args: cobra.NoArgs}
	fs := cmd.Flags()
	fs.BoolVar(&long, "long", false, "show more columns")
	fs.StringVar(&name, "name", "", "only subnets with this name")
	fs.StringVar(&network, "network", "", "only subnets of this network (name or ID)")
	fs.StringVar(&project, "project", "", "only subnets of this project (name or ID)")
	tq := addTagFilters(cmd, "subnets")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			q := url.Values{}
			setFilter(q, "name", name)
			tq.set(q)
			if err := setNetworkFilter(ctx, c, q, network); err != nil {
				return err
			}
			if err := setProjectFilter(ctx, c, q, project); err != nil {
				return err
			}
			items, err := c.ListSubnets(ctx, q)
			return printList(w, cc.out, items, err, pick(long, subnetLongColumns, subnetColumns))
		})
	}
	return cmd
}

// setNetworkFilter adds network_id for a --network name or ID.
func setNetworkFilter(ctx context.Context, c *client.Client, q url.Values, ref string) error {
	if ref == "" {
		return nil
	}
	id, err := networkID(ctx, c, ref)
	if err != nil {
		return err
	}
	q.Set("network_id", id)
	return nil
}

func parsePools(specs []string) ([]api.AllocationPool, error) {
	var out []api.AllocationPool
	for _, s := range specs {
		kv, err := parseKV("allocation-pool", s, "start", "end")
		if err != nil {
			return nil, err
		}
		out = append(out, api.AllocationPool{Start: kv["start"], End: kv["end"]})
	}
	return out, nil
}

func parseRoutes(specs []string) ([]api.HostRoute, error) {
	var out []api.HostRoute
	for _, s := range specs {
		kv, err := parseKV("host-route", s, "destination", "gateway")
		if err != nil {
			return nil, err
		}
		out = append(out, api.HostRoute{Destination: kv["destination"], NextHop: kv["gateway"]})
	}
	return out, nil
}

// subnetResource is what show and delete need to know of subnets.
var subnetResource = resource[api.Subnet]{
	noun:   "subnet",
	find:   (*client.Client).FindSubnet,
	id:     func(v api.Subnet) string { return v.ID },
	delete: (*client.Client).DeleteSubnet,
}
