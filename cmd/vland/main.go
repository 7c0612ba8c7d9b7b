// Command vland is the one binary of vland: the API server (`vland server`),
// the host agent (`vland agent`), a multi-host lab on one machine (`vland
// lab`) and the client commands (`vland network create ...`). main only
// builds the command tree; each subcommand lives in its own file, parses its
// flags and calls into the package that does the work.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:           "vland",
	Short:         "vland: multi-tenant virtual networking on Open vSwitch with a Neutron-compatible API",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
