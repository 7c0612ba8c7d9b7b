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

func init() { rootCmd.AddCommand(newFloatingCmd()) }

var fipColumns = []listColumn{
	{title: "ID", key: "id"}, {title: "Floating IP Address", key: "floating_ip_address"},
	{title: "Fixed IP Address", key: "fixed_ip_address"}, {title: "Port", key: "port_id"},
	{title: "Floating Network", key: "floating_network_id"}, {title: "Project", key: "project_id"},
}

var fipLongColumns = append(append([]listColumn{}, fipColumns...),
	listColumn{title: "Router", key: "router_id"}, listColumn{title: "Status", key: "status"},
	listColumn{title: "Description", key: "description"}, listColumn{title: "Tags", key: "tags"})

var pfColumns = []listColumn{
	{title: "ID", key: "id"}, {title: "Internal Port ID", key: "internal_port_id"},
	{title: "Internal IP Address", key: "internal_ip_address"}, {title: "Internal Port Range", key: "internal_port_range"},
	{title: "External Port Range", key: "external_port_range"}, {title: "Protocol", key: "protocol"},
	{title: "Description", key: "description"},
}

// newFloatingCmd builds `vland floating ip ...` and `vland floating ip
// port forwarding ...`, mirroring openstack's.
func newFloatingCmd() *cobra.Command {
	floating := &cobra.Command{Use: "floating", Short: "Manage floating IPs"}
	ip := &cobra.Command{Use: "ip", Short: "Manage floating IPs (and their port forwardings)"}
	cc := newClientCmd(ip, true)
	port := &cobra.Command{Use: "port", Short: "Manage port forwardings of floating IPs"}
	fwd := &cobra.Command{Use: "forwarding", Short: "Manage port forwardings of a floating IP"}
	fwd.AddCommand(newPFCreateCmd(cc), newPFListCmd(cc), newPFShowCmd(cc), newPFSetCmd(cc), newPFDeleteCmd(cc))
	port.AddCommand(fwd)
	ip.AddCommand(newFIPCreateCmd(cc), newFIPListCmd(cc), newShowCmd(cc, fipResource), newFIPSetCmd(cc),
		newFIPUnsetCmd(cc), newDeleteCmd(cc, fipResource), port)
	floating.AddCommand(ip)
	return floating
}

func newFIPCreateCmd(cc *clientCmd) *cobra.Command {
	var req client.FloatingIPCreate
	var subnet, port, project string
	cmd := &cobra.Command{Use: "create NETWORK", Short: "Allocate a floating IP on an external network (name or ID)", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&subnet, "subnet", "", "external subnet to take the address from (name or ID)")
	fs.StringVar(&port, "port", "", "port to associate with (name or ID)")
	fs.StringVar(&req.FloatingIPAddress, "floating-ip-address", "", "the floating address (admin only)")
	fs.StringVar(&req.FixedIPAddress, "fixed-ip-address", "", "the port's fixed IP to map to (if it has several)")
	fs.StringVar(&req.Description, "description", "", "description")
	fs.StringVar(&project, "project", "", "owning project, name or ID (admin only; created on first use)")
	fs.StringArrayVar(&req.Tags, "tag", nil, "tag (repeatable)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			var err error
			if req.FloatingNetworkID, err = networkID(ctx, c, args[0]); err != nil {
				return err
			}
			if subnet != "" {
				sub, err := c.FindSubnet(ctx, subnet)
				if err != nil {
					return err
				}
				req.SubnetID = sub.ID
			}
			if port != "" {
				p, err := c.FindPort(ctx, port)
				if err != nil {
					return err
				}
				req.PortID = p.ID
			}
			if req.ProjectID, err = c.ProjectID(ctx, project); err != nil {
				return err
			}
			return cc.out.printResult(w)(c.CreateFloatingIP(ctx, req))
		})
	}
	return cmd
}

func newFIPListCmd(cc *clientCmd) *cobra.Command {
	var long bool
	var network, port, router, status, project, fixed, address string
	cmd := &cobra.Command{Use: "list", Short: "List floating IPs", Args: cobra.NoArgs}
	fs := cmd.Flags()
	fs.BoolVar(&long, "long", false, "show more columns")
	fs.StringVar(&network, "network", "", "only floating IPs of this external network (name or ID)")
	fs.StringVar(&port, "port", "", "only floating IPs associated with this port (name or ID)")
	fs.StringVar(&router, "router", "", "only floating IPs routed by this router (name or ID)")
	fs.StringVar(&status, "status", "", "only floating IPs with this status (ACTIVE, DOWN)")
	fs.StringVar(&fixed, "fixed-ip-address", "", "only floating IPs mapped to this fixed IP")
	fs.StringVar(&address, "floating-ip-address", "", "only this floating address")
	fs.StringVar(&project, "project", "", "only floating IPs of this project (name or ID)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			q := url.Values{}
			setFilter(q, "status", status)
			setFilter(q, "fixed_ip_address", fixed)
			setFilter(q, "floating_ip_address", address)
			if network != "" {
				id, err := networkID(ctx, c, network)
				if err != nil {
					return err
				}
				q.Set("floating_network_id", id)
			}
			if port != "" {
				p, err := c.FindPort(ctx, port)
				if err != nil {
					return err
				}
				q.Set("port_id", p.ID)
			}
			if router != "" {
				r, err := c.FindRouter(ctx, router)
				if err != nil {
					return err
				}
				q.Set("router_id", r.ID)
			}
			if err := setProjectFilter(ctx, c, q, project); err != nil {
				return err
			}
			items, err := c.ListFloatingIPs(ctx, q)
			return printList(w, cc.out, items, err, pick(long, fipLongColumns, fipColumns))
		})
	}
	return cmd
}

func newFIPSetCmd(cc *clientCmd) *cobra.Command {
	var port, fixed, desc string
	cmd := &cobra.Command{Use: "set FLOATING_IP", Short: "Associate (or move) a floating IP (ID or address)", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&port, "port", "", "port to associate with (name or ID)")
	fs.StringVar(&fixed, "fixed-ip-address", "", "the port's fixed IP to map to")
	fs.StringVar(&desc, "description", "", "new description")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			f, err := c.FindFloatingIP(ctx, args[0])
			if err != nil {
				return err
			}
			req := client.FloatingIPUpdate{Description: changedString(cmd, "description", desc),
				FixedIPAddress: changedString(cmd, "fixed-ip-address", fixed)}
			if port != "" {
				p, err := c.FindPort(ctx, port)
				if err != nil {
					return err
				}
				req.PortID = &p.ID
			} else if req.FixedIPAddress != nil && f.PortID != nil {
				req.PortID = f.PortID
			}
			_, err = c.UpdateFloatingIP(ctx, f.ID, req)
			return err
		})
	}
	return cmd
}

func newFIPUnsetCmd(cc *clientCmd) *cobra.Command {
	var port bool
	cmd := &cobra.Command{Use: "unset FLOATING_IP", Short: "Disassociate a floating IP (ID or address)", Args: cobra.ExactArgs(1)}
	cmd.Flags().BoolVar(&port, "port", false, "disassociate it from its port")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			f, err := c.FindFloatingIP(ctx, args[0])
			if err != nil || !port {
				return err
			}
			_, err = c.UpdateFloatingIP(ctx, f.ID, client.FloatingIPUpdate{Disassociate: true})
			return err
		})
	}
	return cmd
}

// fipResource is what show and delete need to know of floating IPs.
var fipResource = resource[api.FloatingIP]{
	noun:   "floating IP",
	find:   (*client.Client).FindFloatingIP,
	id:     func(v api.FloatingIP) string { return v.ID },
	delete: (*client.Client).DeleteFloatingIP,
}

// pfFlags are the attributes of port forwarding create and set.
type pfFlags struct {
	port, internalIP, internalPort, externalPort, protocol, desc string
}

func (f *pfFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.port, "port", "", "internal port (name or ID)")
	fs.StringVar(&f.internalIP, "internal-ip-address", "", "the internal port's fixed IP")
	fs.StringVar(&f.internalPort, "internal-protocol-port", "", "internal protocol port, N or N:M")
	fs.StringVar(&f.externalPort, "external-protocol-port", "", "external protocol port, N or N:M")
	fs.StringVar(&f.protocol, "protocol", "", "tcp or udp")
	fs.StringVar(&f.desc, "description", "", "description")
}

// setPorts puts a "N" or "N:M" flag into req as a port or a range.
func setPorts(flag, v string, port **int, rng *string) error {
	if v == "" {
		return nil
	}
	if strings.Contains(v, ":") {
		*rng = v
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("--%s %q: want N or N:M", flag, v)
	}
	*port = &n
	return nil
}

func (f *pfFlags) request(ctx context.Context, cmd *cobra.Command, c *client.Client) (client.PortForwardingCreate, error) {
	req := client.PortForwardingCreate{Protocol: f.protocol, InternalIPAddress: f.internalIP,
		Description: changedString(cmd, "description", f.desc)}
	if f.port != "" {
		p, err := c.FindPort(ctx, f.port)
		if err != nil {
			return req, err
		}
		req.InternalPortID = p.ID
	}
	if err := setPorts("internal-protocol-port", f.internalPort, &req.InternalPort, &req.InternalPortRange); err != nil {
		return req, err
	}
	return req, setPorts("external-protocol-port", f.externalPort, &req.ExternalPort, &req.ExternalPortRange)
}

func newPFCreateCmd(cc *clientCmd) *cobra.Command {
	var f pfFlags
	cmd := &cobra.Command{Use: "create FLOATING_IP", Short: "Forward a port of a floating IP (ID or address) to an internal port", Args: cobra.ExactArgs(1)}
	f.add(cmd)
	for _, req := range []string{"port", "internal-ip-address", "internal-protocol-port", "external-protocol-port", "protocol"} {
		_ = cmd.MarkFlagRequired(req)
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			fip, err := c.FindFloatingIP(ctx, args[0])
			if err != nil {
				return err
			}
			req, err := f.request(ctx, cmd, c)
			if err != nil {
				return err
			}
			return cc.out.printResult(w)(c.CreatePortForwarding(ctx, fip.ID, req))
		})
	}
	return cmd
}

func newPFListCmd(cc *clientCmd) *cobra.Command {
	var port, ext, protocol string
	cmd := &cobra.Command{Use: "list FLOATING_IP", Short: "List the port forwardings of a floating IP", Args: cobra.ExactArgs(1)}
	cmd.Flags().StringVar(&port, "port", "", "only forwardings to this internal port (name or ID)")
	cmd.Flags().StringVar(&ext, "external-protocol-port", "", "only forwardings of this external port")
	cmd.Flags().StringVar(&protocol, "protocol", "", "only forwardings of this protocol")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			fip, err := c.FindFloatingIP(ctx, args[0])
			if err != nil {
				return err
			}
			q := url.Values{}
			setFilter(q, "protocol", protocol)
			setFilter(q, "external_port", ext)
			if port != "" {
				p, err := c.FindPort(ctx, port)
				if err != nil {
					return err
				}
				q.Set("internal_port_id", p.ID)
			}
			items, err := c.ListPortForwardings(ctx, fip.ID, q)
			return printList(w, cc.out, items, err, pfColumns)
		})
	}
	return cmd
}

func newPFShowCmd(cc *clientCmd) *cobra.Command {
	cmd := &cobra.Command{Use: "show FLOATING_IP PORT_FORWARDING_ID", Short: "Show a port forwarding", Args: cobra.ExactArgs(2)}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			fip, err := c.FindFloatingIP(ctx, args[0])
			if err != nil {
				return err
			}
			return cc.out.printResult(w)(c.GetPortForwarding(ctx, fip.ID, args[1]))
		})
	}
	return cmd
}

func newPFSetCmd(cc *clientCmd) *cobra.Command {
	var f pfFlags
	cmd := &cobra.Command{Use: "set FLOATING_IP PORT_FORWARDING_ID", Short: "Change a port forwarding", Args: cobra.ExactArgs(2)}
	f.add(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			fip, err := c.FindFloatingIP(ctx, args[0])
			if err != nil {
				return err
			}
			req, err := f.request(ctx, cmd, c)
			if err != nil {
				return err
			}
			_, err = c.UpdatePortForwarding(ctx, fip.ID, args[1], req)
			return err
		})
	}
	return cmd
}

func newPFDeleteCmd(cc *clientCmd) *cobra.Command {
	cmd := &cobra.Command{Use: "delete FLOATING_IP PORT_FORWARDING_ID [PORT_FORWARDING_ID ...]", Short: "Delete port forwardings", Args: cobra.MinimumNArgs(2)}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			fip, err := c.FindFloatingIP(ctx, args[0])
			if err != nil {
				return err
			}
			find := func(_ context.Context, ref string) (string, error) { return ref, nil }
			del := func(ctx context.Context, id string) error { return c.DeletePortForwarding(ctx, fip.ID, id) }
			return deleteEach(ctx, cmd.ErrOrStderr(), "port forwarding", args[1:], find, del)
		})
	}
	return cmd
}
