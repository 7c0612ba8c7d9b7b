package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/probe"
)

// newLabPingMatrixCmd pings between every pair of lab VMs and prints who
// reached whom: VMs of one network must reach each other, VMs of different
// networks must not, even with the same addresses.
func newLabPingMatrixCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ping-matrix [VM...]",
		Short: "Ping between every pair of VMs (all by default) and check tenant isolation",
		RunE: func(cmd *cobra.Command, args []string) error {
			name, _ := cmd.Flags().GetString("name")
			dir, _ := cmd.Flags().GetString("dir")
			l, err := lab.Load(name, dir)
			if err != nil {
				return err
			}
			eps, err := labEndpoints(l, args)
			if err != nil {
				return err
			}
			rs := probe.Matrix(cmd.Context(), l.Exec, eps)
			fmt.Fprint(cmd.OutOrStdout(), probe.Table(eps, rs))
			bad := 0
			for _, r := range rs {
				if !r.OK() {
					bad++
				}
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d pairs broke isolation or reachability", bad, len(rs))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "all %d pairs as expected: same network reached (ARP answered by the right MAC), other networks blocked\n", len(rs))
			return nil
		},
	}
}

// It hangs under `vland lab` (registered after lab.go's init, by file order),
// reading the lab's persistent --name/--dir flags.
func init() {
	for _, c := range rootCmd.Commands() {
		if c.Name() == "lab" {
			c.AddCommand(newLabPingMatrixCmd())
		}
	}
}

// labEndpoints maps lab VMs to probe endpoints; a VM's network is its
// isolation domain.
func labEndpoints(l *lab.Lab, names []string) ([]probe.Endpoint, error) {
	vms, err := l.VMs()
	if err != nil {
		return nil, err
	}
	var eps []probe.Endpoint
	for _, vm := range vms {
		if len(names) > 0 && !slices.Contains(names, vm.Name) {
			continue
		}
		eps = append(eps, probe.Endpoint{Name: vm.Name, Project: vm.NetworkID, IP: vm.IP.Addr().String(), MAC: vm.MAC})
	}
	if len(eps) < 2 {
		return nil, fmt.Errorf("need at least two VMs, found %d", len(eps))
	}
	return eps, nil
}
