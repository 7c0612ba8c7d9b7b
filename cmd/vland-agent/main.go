// Command vland-agent is the host agent alone: the same daemon, flags and
// behaviour as `vland agent`, in a binary without the API server, the
// embedded etcd server and the client commands, so that it keeps fewer
// pages resident on every host (as Neutron ships neutron-openvswitch-agent
// apart from neutron-server). `vland agent list` and `vland agent
// credentials` stay in vland.
package main

import (
	"fmt"
	"os"

	"github.com/vland/vland/internal/agentcmd"
)

func main() {
	cmd := agentcmd.New("vland-agent")
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
