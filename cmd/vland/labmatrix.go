package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/vland/vland/internal/lab"
	"github.com/vland/vland/internal/probe"
)

// newLabPingMatrixCmd probes every pair of lab VMs and prints who reached
// whom: VMs of one network must reach each other, and a VM of another
// network must capture no frame at all from the source, even with the same
// addresses (see internal/probe).
func newLabPingMatrixCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ping-matrix [VM...]",
		Short: "Ping and send raw frames between every pair of VMs (all by default); check tenant isolation by capture",
		Long: `Ping between every pair of VMs of one network, and send from every VM towards
every other VM raw frames (ICMP echo, ARP who-has, unicast to the target's MAC,
L2 broadcast, and a flood with forged source IPs and MACs) while capturing at
every VM's NIC. A VM of another network must capture nothing from the source;
within a network the same kinds of frames must arrive, proving the captures work
(so give at least two VMs of each network when naming VMs).`,
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
			rs, err := probe.Matrix(cmd.Context(), l.Exec, probe.AFPacket{}, eps)
			if err != nil {
				return err
			}
			tot := probe.Sum(rs)
			fmt.Fprint(cmd.OutOrStdout(), probe.Table(eps, rs), "\n", tot.Summary())
			bad := 0
			for _, r := range rs {
				if !r.OK() {
					bad++
				}
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d pairs broke isolation or reachability, or could not prove it", bad, len(rs))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "all %d pairs as expected: same network reached (ARP answered by the right MAC, every kind of frame captured), other networks blocked (nothing captured)\n", len(rs))
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
		eps = append(eps, probe.Endpoint{Name: vm.Name, Project: vm.NetworkID, IP: vm.IP.Addr().String(), MAC: vm.MAC, NetNS: vm.NetNS})
	}
	if len(eps) < 2 {
		return nil, fmt.Errorf("need at least two VMs, found %d", len(eps))
	}
	return eps, nil
}
