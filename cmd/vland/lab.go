package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
)

// labFlags are shared by every `vland lab` subcommand.
type labFlags struct {
	name  string
	dir   string
	flags *pflag.FlagSet
}

// load returns the lab named by --name or --dir, else the one the client
// points at, else the lab called vland.
func (f *labFlags) load() (*lab.Lab, error) {
	if !f.flags.Changed("name") && f.dir == "" {
		if l, ok := currentLab(); ok {
			return l, nil
		}
	}
	return lab.Load(f.name, f.dir)
}

func newLabCmd() *cobra.Command {
	f := &labFlags{}
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "A multi-host vland cloud on this machine, in network namespaces",
		Long: `vland lab builds a whole cloud on one machine: a server (embedded etcd) on
127.0.0.1, and hosts that are network namespaces NAME-hN, each with its own
ovsdb-server, ovs-vswitchd (netdev datapath) and vland agent, cabled to an
underlay switch in NAME-fab. VMs are namespaces NAME-vm-VM plugged into a
host's br-int. The root namespace gets no lab address, route or bridge.`,
	}
	cmd.PersistentFlags().StringVar(&f.name, "name", lab.DefaultName, "lab name ([a-z][a-z0-9]*; default: the lab the client points at, else vland)")
	f.flags = cmd.PersistentFlags()
	cmd.PersistentFlags().StringVar(&f.dir, "dir", "", "lab directory (default "+lab.BaseDir+"/NAME)")
	cmd.AddCommand(newLabUpCmd(f), newLabDownCmd(f), newLabStatusCmd(f), newLabEnvCmd(f),
		newLabVMCmd(f), newLabExecCmd(f), newLabHostCmd(f))
	return cmd
}

func init() { rootCmd.AddCommand(newLabCmd()) }

func newLabUpCmd(f *labFlags) *cobra.Command {
	cfg := lab.Config{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Build a lab and point the vland client at it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			cfg.Name, cfg.Dir, cfg.Out = f.name, f.dir, cmd.OutOrStdout()
			l, err := lab.Up(ctx, cfg)
			if err != nil {
				return err
			}
			path := client.DefaultConfigPath()
			if err := client.SaveConfig(path, l.ClientConfig()); err != nil {
				return err
			}
			printLabSummary(cmd.OutOrStdout(), l, path)
			return nil
		},
	}
	cmd.Flags().IntVar(&cfg.Hosts, "hosts", lab.DefaultHosts, "number of hosts (host1 is also the network node)")
	cmd.Flags().StringSliceVar(&cfg.TunnelTypes, "tunnel-types", []string{"vxlan", "gre"}, "tunnel types, preferred first")
	cmd.Flags().StringVar(&cfg.Binary, "binary", "", "vland binary for server and agents (default: this one)")
	cmd.Flags().StringArrayVar(&cfg.ServerArgs, "server-arg", nil, "extra `vland server` argument (repeatable)")
	cmd.Flags().StringArrayVar(&cfg.AgentArgs, "agent-arg", nil, "extra `vland agent` argument (repeatable)")
	cmd.Flags().IntVar(&cfg.NetworkNodes, "network-nodes", 1,
		"how many hosts (host1 up) are network nodes (roles compute,dhcp,l3,metadata; with --external, each its own br-ex): 2 lets routers fail over")
	cmd.Flags().BoolVar(&cfg.External, "external", false,
		"also build the external network: flat physnet \"public\" on host1's br-ex, gateway 203.0.113.1, internet host 198.51.100.10")
	cmd.Flags().StringArrayVar(&cfg.Members, "member", nil,
		"a project with a member user of the same name, password the admin's (repeatable; to act as a project, e.g. with network rbac)")
	return cmd
}

func printLabSummary(w io.Writer, l *lab.Lab, cfgPath string) {
	st := l.State()
	fmt.Fprintf(w, "\nlab %s is up (state in %s)\n", st.Name, st.Dir)
	fmt.Fprintf(w, "  API       %s  (Keystone %s, user admin)\n", st.APIURL, st.AuthURL)
	for _, h := range st.Hosts {
		role := ""
		if h.NetworkNode {
			role = "  network node"
		}
		fmt.Fprintf(w, "  %-9s namespace %s, underlay %s%s\n", h.Name, h.NetNS, h.UnderlayIP, role)
	}
	if len(st.Members) > 0 {
		fmt.Fprintf(w, "  members   %s  (users of the same name, the admin's password)\n", strings.Join(st.Members, ", "))
	}
	if e := st.External; e != nil {
		fmt.Fprintf(w, "  external  flat physnet %s (network nodes' %s), subnet %s gateway %s, internet host %s (namespace %s)\n",
			e.Physnet, e.Bridge, e.CIDR, e.Gateway, e.InternetIP, e.NetNS)
	}
	fmt.Fprintf(w, "\nThe vland client now talks to this lab (%s):\n", cfgPath)
	fmt.Fprintf(w, "  vland network create net1 && vland subnet create --network net1 --subnet-range 10.0.0.0/24 sub1\n")
	fmt.Fprintf(w, "  vland lab vm create vm1 --network net1 --host host1\n")
	fmt.Fprintf(w, "  vland lab exec vm1 -- ping -c1 10.0.0.1\n")
	fmt.Fprintf(w, "Other clients (openstack): eval $(vland lab env --name %s)\n", st.Name)
}

func newLabDownCmd(f *labFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Remove every namespace, link, process and file of a lab (also after a crash)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			l, err := f.load()
			if errors.Is(err, lab.ErrNotFound) {
				fmt.Fprintf(cmd.OutOrStdout(), "no state for lab %s; removing leftovers\n", f.name)
				return lab.Cleanup(ctx, f.name, f.dir)
			}
			if err != nil {
				return err
			}
			l.SetOutput(cmd.OutOrStdout())
			forgetClientConfig(l)
			return l.Down(ctx)
		},
	}
}

// forgetClientConfig removes the client config if it points at this lab,
// so the client does not keep talking to a lab that is gone.
func forgetClientConfig(l *lab.Lab) {
	path := client.DefaultConfigPath()
	if cfg, err := client.ReadConfig(path); err == nil && cfg.URL == l.APIURL() {
		_ = os.Remove(path)
	}
}

func newLabEnvCmd(f *labFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "env",
		Short: "Print OS_* variables for other clients, e.g. eval $(vland lab env)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := f.load()
			if err != nil {
				return err
			}
			c := l.ClientConfig()
			fmt.Fprintf(cmd.OutOrStdout(), "export OS_AUTH_URL=%s OS_USERNAME=%s OS_PASSWORD=%s OS_PROJECT_NAME=%s "+
				"OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3 VLAND_URL=%s\n",
				c.AuthURL, c.Username, c.Password, c.ProjectName, c.URL)
			return nil
		},
	}
}

func newLabStatusCmd(f *labFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show a lab's hosts, agents and VMs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := f.load()
			if err != nil {
				return err
			}
			return printLabStatus(cmd.Context(), cmd.OutOrStdout(), l)
		},
	}
}

func printLabStatus(ctx context.Context, w io.Writer, l *lab.Lab) error {
	st := l.State()
	fmt.Fprintf(w, "lab %s  API %s  dir %s\n\n", st.Name, st.APIURL, st.Dir)
	alive := map[string]string{}
	agents, err := l.Client().ListAgents(ctx, nil)
	if err != nil {
		fmt.Fprintf(w, "API: %v\n\n", err)
	}
	for _, a := range agents {
		alive[a.Host] = map[bool]string{true: ":-)", false: "xxx"}[a.Alive]
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tNAMESPACE\tUNDERLAY\tAGENT PID\tALIVE\tROLE")
	for i, h := range st.Hosts {
		role := "compute"
		if h.NetworkNode {
			role = "compute, network"
		}
		if len(h.Roles) > 0 {
			role = strings.Join(h.Roles, ",")
		}
		pid := "-"
		if p := l.AgentPid(i + 1); p > 0 {
			pid = fmt.Sprint(p)
		}
		a := alive[h.Name]
		if a == "" {
			a = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", h.Name, h.NetNS, h.UnderlayIP, pid, a, role)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return printVMs(w, l)
}

func printVMs(w io.Writer, l *lab.Lab) error {
	vms, err := l.VMs()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VM\tHOST\tIP\tMAC\tMTU\tPORT\tTAP")
	for _, v := range vms {
		ip := "-"
		if v.IP.IsValid() {
			ip = v.IP.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", v.Name, v.Host, ip, v.MAC, v.MTU, v.PortID, v.Tap)
	}
	return tw.Flush()
}

func newLabVMCmd(f *labFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "vm", Short: "Lab VMs: namespaces plugged into a host's br-int"}
	spec := lab.VMSpec{}
	var userData string
	create := &cobra.Command{
		Use:   "create NAME --network NET",
		Short: "Create a VM: a port bound to the host, a namespace with the port's MAC; address by DHCP (without --ip) or set directly",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := f.load()
			if err != nil {
				return err
			}
			spec.Name = args[0]
			if userData != "" {
				if spec.UserData, err = os.ReadFile(userData); err != nil {
					return fmt.Errorf("--user-data: %w", err)
				}
			}
			vm, err := l.CreateVM(cmd.Context(), spec)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "vm %s on %s: %s %s mtu %d, port %s (%s), instance %s\n",
				vm.Name, vm.Host, vm.IP, vm.MAC, vm.MTU, vm.PortID, vm.Tap, vm.UUID)
			return nil
		},
	}
	create.Flags().StringVar(&spec.Network, "network", "", "network name or ID (required)")
	create.Flags().StringVar(&spec.Host, "host", "", "host to run on, e.g. host2 (default: the least loaded)")
	create.Flags().StringVar(&spec.IP, "ip", "", "fixed IP address (default: allocated)")
	create.Flags().StringVar(&spec.Project, "project", "", "project owning the port (admin acts for it; created if new)")
	create.Flags().StringVar(&spec.DNSName, "dns-name", "", "the port's dns_name, the VM's name in its network's DNS (default: host-A-B-C-D)")
	create.Flags().BoolVar(&spec.DHCP, "dhcp", false, "address the VM with a DHCP client (dhclient), even with --ip (the default without --ip when a lab host has the dhcp role)")
	create.Flags().BoolVar(&spec.NoDHCP, "no-dhcp", false, "set the port's fixed IP on the VM's NIC directly, without a DHCP client")
	create.Flags().BoolVar(&spec.AsMember, "as-member", false, "create the port as the --project's member user (lab up --member), not as admin")
	create.Flags().StringVar(&userData, "user-data", "", "file whose content the VM reads at http://169.254.169.254/openstack/latest/user_data")
	create.Flags().BoolVar(&spec.NoWait, "no-wait", false, "return once plugged, without waiting for the port to become ACTIVE")
	_ = create.MarkFlagRequired("network")
	list := &cobra.Command{
		Use: "list", Short: "List the lab's VMs", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := f.load()
			if err != nil {
				return err
			}
			return printVMs(cmd.OutOrStdout(), l)
		},
	}
	del := &cobra.Command{
		Use: "delete NAME...", Short: "Delete VMs (OVS port, namespace and API port)", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := f.load()
			if err != nil {
				return err
			}
			var errs []error
			for _, n := range args {
				errs = append(errs, l.DeleteVM(cmd.Context(), n))
			}
			return errors.Join(errs...)
		},
	}
	cmd.AddCommand(create, list, del)
	return cmd
}

func newLabExecCmd(f *labFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "exec VM -- CMD...",
		Short: "Run a command inside a VM (stdin/stdout pass through, exit code propagates)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := f.load()
			if err != nil {
				return err
			}
			c, err := l.Command(cmd.Context(), args[0], args[1:]...)
			if err != nil {
				return err
			}
			return runPassthrough(c)
		},
	}
}

func newLabHostCmd(f *labFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "host", Short: "Lab hosts"}
	cmd.AddCommand(&cobra.Command{
		Use:   "external-exec -- CMD...",
		Short: "Run a command on the external network's gateway/internet host (labs built with --external)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := f.load()
			if err != nil {
				return err
			}
			c, err := l.ExternalCommand(cmd.Context(), args...)
			if err != nil {
				return err
			}
			return runPassthrough(c)
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "exec HOST -- CMD...",
		Short: "Run a command in a host's namespace, with OVS_RUNDIR set (ovs-ofctl dump-flows br-tun just works)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := f.load()
			if err != nil {
				return err
			}
			i, err := l.ParseHost(args[0])
			if err != nil {
				return err
			}
			c, err := l.HostCommand(cmd.Context(), i, args[1:]...)
			if err != nil {
				return err
			}
			return runPassthrough(c)
		},
	})
	return cmd
}

// runPassthrough runs c on this terminal and exits with its exit code.
func runPassthrough(c *exec.Cmd) error {
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		os.Exit(ee.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("%s: %w", strings.Join(c.Args, " "), err)
	}
	return nil
}
