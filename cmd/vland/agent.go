package main

import "github.com/vland/vland/internal/agentcmd"

// `vland agent` is the host agent daemon (also built alone as vland-agent),
// plus the commands that list agents and make their etcd users.
func init() {
	cmd := agentcmd.New("agent")
	cmd.AddCommand(newAgentListCmd(), newAgentCredentialsCmd())
	rootCmd.AddCommand(cmd)
}
