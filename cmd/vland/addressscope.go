package main

import (
	"context"
	"io"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

func init() { rootCmd.AddCommand(newAddressCmd()) }

var addressScopeColumns = []listColumn{{title: "ID", key: "id"}, {title: "Name", key: "name"},
	{title: "IP Version", key: "ip_version"}, {title: "Shared", key: "shared"}, {title: "Project", key: "project_id"}}

// newAddressCmd builds `vland address scope ...`, mirroring `openstack
// address scope`.
func newAddressCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "address", Short: "Manage address scopes"}
	cc := newClientCmd(cmd, true)
	scope := &cobra.Command{Use: "scope", Short: "Manage address scopes"}
	scope.AddCommand(newAddressScopeCreateCmd(cc), newAddressScopeListCmd(cc), newShowCmd(cc, addressScopeResource),
		newAddressScopeSetCmd(cc), newDeleteCmd(cc, addressScopeResource))
	cmd.AddCommand(scope)
	return cmd
}

func newAddressScopeCreateCmd(cc *clientCmd) *cobra.Command {
	var req client.AddressScopeCreate
	var project string
	cmd := &cobra.Command{Use: "create NAME", Short: "Create an address scope", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.IntVar(&req.IPVersion, "ip-version", 4, "IP version (4 or 6)")
	fs.StringVar(&project, "project", "", "owning project, name or ID (admin only; created on first use)")
	addSwitchPair(cmd, "share", "no-share", "shared with all projects (admin only)", "not shared (default)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			req.Name, req.Shared = args[0], triState(cmd, "share", "no-share")
			var err error
			if req.ProjectID, err = c.ProjectID(ctx, project); err != nil {
				return err
			}
			return cc.out.printResult(w)(c.CreateAddressScope(ctx, req))
		})
	}
	return cmd
}

func newAddressScopeListCmd(cc *clientCmd) *cobra.Command {
	var name, project string
	var version int
	cmd := &cobra.Command{Use: "list", Short: "List address scopes", Args: cobra.NoArgs}
	fs := cmd.Flags()
	fs.StringVar(&name, "name", "", "only scopes with this name")
	fs.IntVar(&version, "ip-version", 0, "only scopes of this IP version")
	fs.StringVar(&project, "project", "", "only scopes of this project (name or ID)")
	addSwitchPair(cmd, "share", "no-share", "only shared scopes", "only unshared scopes")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			q := url.Values{}
			setFilter(q, "name", name)
			if version != 0 {
				q.Set("ip_version", strconv.Itoa(version))
			}
			setBoolFilter(q, "shared", triState(cmd, "share", "no-share"))
			if err := setProjectFilter(ctx, c, q, project); err != nil {
				return err
			}
			items, err := c.ListAddressScopes(ctx, q)
			return printList(w, cc.out, items, err, addressScopeColumns)
		})
	}
	return cmd
}

func newAddressScopeSetCmd(cc *clientCmd) *cobra.Command {
	var name string
	cmd := &cobra.Command{Use: "set ADDRESS_SCOPE", Short: "Change an address scope", Args: cobra.ExactArgs(1)}
	cmd.Flags().StringVar(&name, "name", "", "new name")
	addSwitchPair(cmd, "share", "no-share", "share with all projects (admin only)", "stop sharing (refused once shared)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			s, err := c.FindAddressScope(ctx, args[0])
			if err != nil {
				return err
			}
			_, err = c.UpdateAddressScope(ctx, s.ID, client.AddressScopeUpdate{Name: changedString(cmd, "name", name),
				Shared: triState(cmd, "share", "no-share")})
			return err
		})
	}
	return cmd
}

// addressScopeID resolves an --address-scope reference.
func addressScopeID(ctx context.Context, c *client.Client, ref string) (string, error) {
	s, err := c.FindAddressScope(ctx, ref)
	return s.ID, err
}

var addressScopeResource = resource[api.AddressScope]{
	noun:   "address scope",
	find:   (*client.Client).FindAddressScope,
	id:     func(v api.AddressScope) string { return v.ID },
	delete: (*client.Client).DeleteAddressScope,
}
