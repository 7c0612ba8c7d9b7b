package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

// agentTypes maps openstack's --agent-type values to Neutron's agent_type.
var agentTypes = map[string]string{
	"open-vswitch": api.AgentTypeOVS, "dhcp": api.AgentTypeDHCP, "l3": api.AgentTypeL3, "metadata": api.AgentTypeMetadata,
}

var agentResource = resource[api.Agent]{
	noun:   "agent",
	find:   (*client.Client).FindAgent,
	id:     func(v api.Agent) string { return v.ID },
	delete: (*client.Client).DeleteAgent,
}

// newNetworkAgentCmd builds `vland network agent ...`, as `openstack
// network agent`: the agent rows and which DHCP agent serves which network.
func newNetworkAgentCmd(cc *clientCmd) *cobra.Command {
	cmd := &cobra.Command{Use: "agent", Short: "Network agents: list them, move networks between DHCP agents"}
	add := &cobra.Command{Use: "add", Short: "Add a network to an agent"}
	add.AddCommand(newAgentNetworkCmd(cc, "network", "Add a network to a DHCP agent", (*client.Client).AddDHCPNetwork),
		newAgentRouterCmd(cc, "router", "Add a router to an L3 agent", (*client.Client).AddL3Router))
	remove := &cobra.Command{Use: "remove", Short: "Remove a network or router from an agent"}
	remove.AddCommand(newAgentNetworkCmd(cc, "network", "Remove a network from a DHCP agent", (*client.Client).RemoveDHCPNetwork),
		newAgentRouterCmd(cc, "router", "Remove a router from an L3 agent", (*client.Client).RemoveL3Router))
	cmd.AddCommand(newNetworkAgentListCmd(cc), newShowCmd(cc, agentResource), newNetworkAgentSetCmd(cc),
		newDeleteCmd(cc, agentResource), add, remove)
	return cmd
}

func newNetworkAgentListCmd(cc *clientCmd) *cobra.Command {
	var host, agentType, network, router string
	var long bool
	cmd := &cobra.Command{Use: "list", Short: "List network agents", Args: cobra.NoArgs}
	fs := cmd.Flags()
	fs.StringVar(&host, "host", "", "only the agents of this host")
	fs.StringVar(&agentType, "agent-type", "", "only agents of this type: open-vswitch, dhcp, l3, metadata")
	fs.StringVar(&network, "network", "", "only the DHCP agents serving this network (name or ID)")
	fs.StringVar(&router, "router", "", "only the L3 agents realising this router (name or ID)")
	fs.BoolVar(&long, "long", false, "show more columns")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			cols := agentColumns
			if long {
				cols = append(append([]listColumn{}, agentColumns...), listColumn{title: "Description", key: "description"})
			}
			if network != "" {
				id, err := networkID(ctx, c, network)
				if err != nil {
					return err
				}
				items, err := c.ListNetworkDHCPAgents(ctx, id)
				return printList(w, cc.out, items, err, cols)
			}
			if router != "" {
				r, err := c.FindRouter(ctx, router)
				if err != nil {
					return err
				}
				items, err := c.ListRouterL3Agents(ctx, r.ID)
				return printList(w, cc.out, items, err, cols)
			}
			q := url.Values{}
			setFilter(q, "host", host)
			if agentType != "" {
				t, ok := agentTypes[agentType]
				if !ok {
					return fmt.Errorf("--agent-type %q: want open-vswitch, dhcp, l3 or metadata", agentType)
				}
				q.Set("agent_type", t)
			}
			items, err := c.ListAgents(ctx, q)
			return printList(w, cc.out, items, err, cols)
		})
	}
	return cmd
}

func newNetworkAgentSetCmd(cc *clientCmd) *cobra.Command {
	var desc string
	cmd := &cobra.Command{Use: "set AGENT", Short: "Enable or disable an agent, or describe it", Args: cobra.ExactArgs(1)}
	cmd.Flags().StringVar(&desc, "description", "", "new description")
	addSwitchPair(cmd, "enable", "disable", "enable the agent", "disable the agent (a DHCP agent then gets no new networks)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			req := client.AgentUpdate{AdminStateUp: triState(cmd, "enable", "disable"), Description: changedString(cmd, "description", desc)}
			_, err := c.UpdateAgent(ctx, args[0], req)
			return err
		})
	}
	return cmd
}

// newAgentNetworkCmd builds `network agent add|remove network --dhcp AGENT NETWORK`.
func newAgentNetworkCmd(cc *clientCmd, use, short string, do func(*client.Client, context.Context, string, string) error) *cobra.Command {
	cmd := &cobra.Command{Use: use + " --dhcp AGENT NETWORK", Short: short, Args: cobra.ExactArgs(2)}
	cmd.Flags().Bool("dhcp", false, "a DHCP agent (the only kind so far)")
	_ = cmd.MarkFlagRequired("dhcp")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			id, err := networkID(ctx, c, args[1])
			if err != nil {
				return err
			}
			return do(c, ctx, args[0], id)
		})
	}
	return cmd
}

// newAgentRouterCmd builds `network agent add|remove router --l3 AGENT ROUTER`.
func newAgentRouterCmd(cc *clientCmd, use, short string, do func(*client.Client, context.Context, string, string) error) *cobra.Command {
	cmd := &cobra.Command{Use: use + " --l3 AGENT ROUTER", Short: short, Args: cobra.ExactArgs(2)}
	cmd.Flags().Bool("l3", false, "an L3 agent (the only kind that hosts routers)")
	_ = cmd.MarkFlagRequired("l3")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			r, err := c.FindRouter(ctx, args[1])
			if err != nil {
				return err
			}
			return do(c, ctx, args[0], r.ID)
		})
	}
	return cmd
}

// listAgentNetworks is `network list --agent AGENT`.
func listAgentNetworks(ctx context.Context, c *client.Client, agent string) ([]api.Network, error) {
	return c.ListDHCPNetworks(ctx, agent)
}

// parseDHCPOptions parses --extra-dhcp-option name=N[,value=V][,ip-version=4|6]
// items, as openstack does; without a value the option is removed (set).
func parseDHCPOptions(items []string) ([]client.DHCPOption, error) {
	var out []client.DHCPOption
	for _, it := range items {
		var o client.DHCPOption
		for _, kv := range strings.Split(it, ",") {
			k, v, ok := strings.Cut(kv, "=")
			switch {
			case !ok:
				return nil, fmt.Errorf("--extra-dhcp-option %q: want name=N[,value=V][,ip-version=4|6]", it)
			case k == "name":
				o.Name = v
			case k == "value":
				o.Value = &v
			case k == "ip-version":
				n, err := strconv.Atoi(v)
				if err != nil || (n != 4 && n != 6) {
					return nil, fmt.Errorf("--extra-dhcp-option %q: ip-version is 4 or 6", it)
				}
				o.IPVersion = n
			default:
				return nil, fmt.Errorf("--extra-dhcp-option %q: unknown key %q", it, k)
			}
		}
		if o.Name == "" {
			return nil, fmt.Errorf("--extra-dhcp-option %q: name is required", it)
		}
		out = append(out, o)
	}
	return out, nil
}

// portDNSFlags are the DNS and DHCP options of port create and set.
type portDNSFlags struct {
	dnsName string
	opts    []string
}

func addPortDNSFlags(cmd *cobra.Command) *portDNSFlags {
	f := &portDNSFlags{}
	cmd.Flags().StringVar(&f.dnsName, "dns-name", "", "the port's DNS name (dns-integration)")
	cmd.Flags().StringArrayVar(&f.opts, "extra-dhcp-option", nil, "extra DHCP option name=N[,value=V][,ip-version=4|6] (repeatable)")
	return f
}
