package main

import (
	"context"
	"io"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

func init() { rootCmd.AddCommand(newPortCmd()) }

var portColumns = []listColumn{
	{title: "ID", key: "id"}, {title: "Name", key: "name"}, {title: "MAC Address", key: "mac_address"},
	{title: "Fixed IP Addresses", key: "fixed_ips", format: cellFixedIPs}, {title: "Status", key: "status"},
}

var portLongColumns = append(append([]listColumn{}, portColumns...),
	listColumn{title: "Network", key: "network_id"}, listColumn{title: "Project", key: "project_id"},
	listColumn{title: "Device Owner", key: "device_owner"}, listColumn{title: "Device ID", key: "device_id"},
	listColumn{title: "Host", key: "binding:host_id"}, listColumn{title: "Security Groups", key: "security_groups"},
	listColumn{title: "Port Security", key: "port_security_enabled"}, listColumn{title: "Tags", key: "tags"})

// newPortCmd builds `vland port ...`, mirroring `openstack port`.
func newPortCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "port", Short: "Manage ports"}
	cc := newClientCmd(cmd, true)
	cmd.AddCommand(newPortCreateCmd(cc), newPortListCmd(cc), newShowCmd(cc, portResource),
		newPortSetCmd(cc), newUnsetCmd(cc, portResource, "ports"), newDeleteCmd(cc, portResource))
	return cmd
}

// portAddrFlags are the repeatable address options of create and set.
type portAddrFlags struct {
	fixedIPs, allowed []string
}

func (f *portAddrFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.fixedIPs, "fixed-ip", nil,
		"subnet=SUBNET,ip-address=IP: an address on a subnet (name or ID); either part may be left out (repeatable)")
	cmd.Flags().StringArrayVar(&f.allowed, "allowed-address", nil,
		"ip-address=IP[/LEN][,mac-address=MAC]: an extra address the port may send from (repeatable)")
}

// parse resolves --fixed-ip subnet references and parses --allowed-address.
func (f *portAddrFlags) parse(ctx context.Context, c *client.Client) ([]client.FixedIPRequest, []api.AddressPair, error) {
	var fips []client.FixedIPRequest
	for _, s := range f.fixedIPs {
		kv, err := parseKV("fixed-ip", s, "subnet", "ip-address")
		if err != nil {
			return nil, nil, err
		}
		fip := client.FixedIPRequest{IPAddress: kv["ip-address"]}
		if ref := kv["subnet"]; ref != "" {
			sub, err := c.FindSubnet(ctx, ref)
			if err != nil {
				return nil, nil, err
			}
			fip.SubnetID = sub.ID
		}
		fips = append(fips, fip)
	}
	var pairs []api.AddressPair
	for _, s := range f.allowed {
		kv, err := parseKV("allowed-address", s, "ip-address", "mac-address")
		if err != nil {
			return nil, nil, err
		}
		pairs = append(pairs, api.AddressPair{IPAddress: kv["ip-address"], MACAddress: kv["mac-address"]})
	}
	return fips, pairs, nil
}

func newPortCreateCmd(cc *clientCmd) *cobra.Command {
	var req client.PortCreate
	var af portAddrFlags
	var network, project string
	cmd := &cobra.Command{Use: "create NAME", Short: "Create a port", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&network, "network", "", "network of the port (name or ID)")
	fs.StringVar(&req.MACAddress, "mac-address", "", "MAC address (default: allocated, fa:16:3e:...)")
	fs.StringVar(&req.DeviceID, "device-id", "", "ID of the device using the port")
	fs.StringVar(&req.DeviceOwner, "device-owner", "", "owner of the device, e.g. compute:nova")
	fs.StringVar(&req.BindingHostID, "host", "", "host to bind the port to (binding:host_id)")
	fs.StringVar(&req.Description, "description", "", "description")
	fs.StringVar(&project, "project", "", "owning project, name or ID (admin only; created on first use)")
	fs.Bool("no-security-group", false, "no security group on the port")
	af.add(cmd)
	df := addPortDNSFlags(cmd)
	tf := addTagFlags(cmd, "port")
	addSwitchPair(cmd, "enable-port-security", "disable-port-security", "port security on (default)", "port security off")
	addSwitchPair(cmd, "enable", "disable", "admin state up (default)", "admin state down")
	_ = cmd.MarkFlagRequired("network")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			req.Name, req.Tags = args[0], tf.tags
			req.PortSecurityEnabled = triState(cmd, "enable-port-security", "disable-port-security")
			req.AdminStateUp = triState(cmd, "enable", "disable")
			if cmd.Flags().Changed("no-security-group") {
				req.SecurityGroups = &[]string{}
			}
			var err error
			if req.FixedIPs, req.AllowedAddressPairs, err = af.parse(ctx, c); err != nil {
				return err
			}
			req.DNSName = df.dnsName
			if req.ExtraDHCPOpts, err = parseDHCPOptions(df.opts); err != nil {
				return err
			}
			if req.NetworkID, err = networkID(ctx, c, network); err != nil {
				return err
			}
			if req.ProjectID, err = c.ProjectID(ctx, project); err != nil {
				return err
			}
			return cc.out.printResult(w)(c.CreatePort(ctx, req))
		})
	}
	return cmd
}

func newPortListCmd(cc *clientCmd) *cobra.Command {
	var long bool
	var name, network, project, host, deviceID, deviceOwner, mac string
	cmd := &cobra.Command{Use: "list", Short: "List ports", Args: cobra.NoArgs}
	fs := cmd.Flags()
	fs.BoolVar(&long, "long", false, "show more columns")
	fs.StringVar(&name, "name", "", "only ports with this name")
	fs.StringVar(&network, "network", "", "only ports of this network (name or ID)")
	fs.StringVar(&project, "project", "", "only ports of this project (name or ID)")
	fs.StringVar(&host, "host", "", "only ports bound to this host")
	fs.StringVar(&deviceID, "device-id", "", "only ports of this device")
	fs.StringVar(&deviceOwner, "device-owner", "", "only ports with this device owner")
	fs.StringVar(&mac, "mac-address", "", "only the port with this MAC address")
	tq := addTagFilters(cmd, "ports")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			q := url.Values{}
			setFilter(q, "name", name)
			setFilter(q, "binding:host_id", host)
			setFilter(q, "device_id", deviceID)
			setFilter(q, "device_owner", deviceOwner)
			setFilter(q, "mac_address", mac)
			tq.set(q)
			if err := setNetworkFilter(ctx, c, q, network); err != nil {
				return err
			}
			if err := setProjectFilter(ctx, c, q, project); err != nil {
				return err
			}
			items, err := c.ListPorts(ctx, q)
			return printList(w, cc.out, items, err, pick(long, portLongColumns, portColumns))
		})
	}
	return cmd
}

// portResource is what show and delete need to know of ports.
var portResource = resource[api.Port]{
	noun:   "port",
	find:   (*client.Client).FindPort,
	id:     func(v api.Port) string { return v.ID },
	delete: (*client.Client).DeletePort,
}
