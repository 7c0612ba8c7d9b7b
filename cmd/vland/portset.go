package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

// newPortSetCmd builds `port set`. As in the openstack client, --fixed-ip
// and --allowed-address add to the current lists; --no-fixed-ip and
// --no-allowed-address clear them first.
func newPortSetCmd(cc *clientCmd) *cobra.Command {
	var name, desc, host, deviceID, deviceOwner, mac string
	var af portAddrFlags
	cmd := &cobra.Command{Use: "set PORT", Short: "Change a port", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&name, "name", "", "new name")
	fs.StringVar(&desc, "description", "", "new description")
	fs.StringVar(&host, "host", "", "bind the port to this host (binding:host_id)")
	fs.StringVar(&deviceID, "device-id", "", "ID of the device using the port")
	fs.StringVar(&deviceOwner, "device-owner", "", "owner of the device")
	fs.StringVar(&mac, "mac-address", "", "new MAC address (admin only)")
	fs.Bool("no-fixed-ip", false, "clear the fixed IPs first")
	fs.Bool("no-allowed-address", false, "clear the allowed address pairs first")
	fs.Bool("no-security-group", false, "remove every security group")
	af.add(cmd)
	df := addPortDNSFlags(cmd)
	tf := addTagFlags(cmd, "port")
	addSwitchPair(cmd, "enable-port-security", "disable-port-security", "port security on", "port security off")
	addSwitchPair(cmd, "enable", "disable", "admin state up", "admin state down")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			p, err := c.FindPort(ctx, args[0])
			if err != nil {
				return err
			}
			fips, pairs, err := af.parse(ctx, c)
			if err != nil {
				return err
			}
			req := client.PortUpdate{
				Name: changedString(cmd, "name", name), Description: changedString(cmd, "description", desc),
				BindingHostID: changedString(cmd, "host", host), DeviceID: changedString(cmd, "device-id", deviceID),
				DeviceOwner: changedString(cmd, "device-owner", deviceOwner), MACAddress: changedString(cmd, "mac-address", mac),
				PortSecurityEnabled: triState(cmd, "enable-port-security", "disable-port-security"),
				AdminStateUp:        triState(cmd, "enable", "disable"),
				FixedIPs:            extendList(cmd, "fixed-ip", "no-fixed-ip", currentFixedIPs(p), fips),
				AllowedAddressPairs: extendList(cmd, "allowed-address", "no-allowed-address", p.AllowedAddressPairs, pairs),
			}
			if cmd.Flags().Changed("no-security-group") {
				req.SecurityGroups = &[]string{}
			}
			req.DNSName = changedString(cmd, "dns-name", df.dnsName)
			if len(df.opts) > 0 {
				opts, err := parseDHCPOptions(df.opts)
				if err != nil {
					return err
				}
				req.ExtraDHCPOpts = &opts
			}
			if req != (client.PortUpdate{}) || !tf.changed(cmd) {
				if _, err := c.UpdatePort(ctx, p.ID, req); err != nil {
					return err
				}
			}
			return tf.apply(ctx, cmd, c, "ports", p.ID, p.Tags)
		})
	}
	return cmd
}

// currentFixedIPs turns a port's addresses into requests that keep them.
func currentFixedIPs(p api.Port) []client.FixedIPRequest {
	out := make([]client.FixedIPRequest, 0, len(p.FixedIPs))
	for _, f := range p.FixedIPs {
		out = append(out, client.FixedIPRequest{SubnetID: f.SubnetID, IPAddress: f.IPAddress})
	}
	return out
}
