package main

import (
	"context"
	"io"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/vland/vland/internal/client"
)

var agentColumns = []listColumn{
	{title: "ID", key: "id"}, {title: "Agent Type", key: "agent_type"}, {title: "Host", key: "host"},
	{title: "Availability Zone", key: "availability_zone"}, {title: "Alive", key: "alive", format: cellAlive},
	{title: "State", key: "admin_state_up", format: cellState}, {title: "Binary", key: "binary"},
}

// newAgentListCmd builds `vland agent list` (GET /v2.0/agents). The
// `agent` command itself is the host agent daemon (agent.go), which adds
// this as its subcommand.
func newAgentListCmd() *cobra.Command {
	var host, agentType string
	cmd := &cobra.Command{Use: "list", Short: "List host agents and whether they are alive", Args: cobra.NoArgs}
	cc := newClientCmd(cmd, false)
	cmd.Flags().StringVar(&host, "host", "", "only the agents of this host")
	cmd.Flags().StringVar(&agentType, "agent-type", "", "only agents of this type")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			q := url.Values{}
			setFilter(q, "host", host)
			setFilter(q, "agent_type", agentType)
			agents, err := c.ListAgents(ctx, q)
			if err != nil {
				return err
			}
			return printObjects(w, cc.out, agents, agentColumns)
		})
	}
	return cmd
}
