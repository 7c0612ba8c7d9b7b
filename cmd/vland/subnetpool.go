package main

import (
	"context"
	"io"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

var subnetPoolColumns = []listColumn{{title: "ID", key: "id"}, {title: "Name", key: "name"}, {title: "Prefixes", key: "prefixes"}}

var subnetPoolLongColumns = append(append([]listColumn{}, subnetPoolColumns...),
	listColumn{title: "Default Prefix Length", key: "default_prefixlen"},
	listColumn{title: "Address Scope", key: "address_scope_id"},
	listColumn{title: "Default Subnet Pool", key: "is_default"}, listColumn{title: "Shared", key: "shared"},
	listColumn{title: "Tags", key: "tags"})

// newSubnetPoolCmd builds `vland subnet pool ...`, mirroring `openstack
// subnet pool` (the client flags come from `subnet`).
func newSubnetPoolCmd(cc *clientCmd) *cobra.Command {
	cmd := &cobra.Command{Use: "pool", Short: "Manage subnet pools"}
	cmd.AddCommand(newSubnetPoolCreateCmd(cc), newSubnetPoolListCmd(cc), newShowCmd(cc, subnetPoolResource),
		newSubnetPoolSetCmd(cc), newSubnetPoolUnsetCmd(cc), newDeleteCmd(cc, subnetPoolResource))
	return cmd
}

// poolLenFlags are the prefix length and quota options of create and set.
type poolLenFlags struct{ def, min, max, quota int }

func (f *poolLenFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.IntVar(&f.def, "default-prefix-length", 0, "prefix length of subnets created without one")
	fs.IntVar(&f.min, "min-prefix-length", 0, "smallest prefix length a subnet may have")
	fs.IntVar(&f.max, "max-prefix-length", 0, "largest prefix length a subnet may have")
	fs.IntVar(&f.quota, "default-quota", 0, "addresses (IPv4) or /64s (IPv6) one project may take from the pool")
}

func newSubnetPoolCreateCmd(cc *clientCmd) *cobra.Command {
	var req client.SubnetPoolCreate
	var lf poolLenFlags
	var project, scope string
	cmd := &cobra.Command{Use: "create NAME", Short: "Create a subnet pool", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringArrayVar(&req.Prefixes, "pool-prefix", nil, "prefix of the pool, e.g. 10.0.0.0/16 (repeatable)")
	fs.StringVar(&req.Description, "description", "", "description")
	fs.StringVar(&project, "project", "", "owning project, name or ID (admin only; created on first use)")
	fs.StringVar(&scope, "address-scope", "", "address scope of the pool (name or ID)")
	lf.add(cmd)
	tf := addTagFlags(cmd, "subnet pool")
	addSwitchPair(cmd, "share", "no-share", "shared with all projects (admin only)", "not shared (default)")
	addSwitchPair(cmd, "default", "no-default", "the default pool of its IP version (admin only)", "not the default (default)")
	_ = cmd.MarkFlagRequired("pool-prefix")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			req.Name, req.Tags = args[0], tf.tags
			req.Shared, req.IsDefault = triState(cmd, "share", "no-share"), triState(cmd, "default", "no-default")
			req.DefaultPrefixLen, req.MinPrefixLen = changedInt(cmd, "default-prefix-length", lf.def), changedInt(cmd, "min-prefix-length", lf.min)
			req.MaxPrefixLen, req.DefaultQuota = changedInt(cmd, "max-prefix-length", lf.max), changedInt(cmd, "default-quota", lf.quota)
			var err error
			if scope != "" {
				if req.AddressScopeID, err = addressScopeID(ctx, c, scope); err != nil {
					return err
				}
			}
			if req.ProjectID, err = c.ProjectID(ctx, project); err != nil {
				return err
			}
			return cc.out.printResult(w)(c.CreateSubnetPool(ctx, req))
		})
	}
	return cmd
}

func newSubnetPoolListCmd(cc *clientCmd) *cobra.Command {
	var long bool
	var name, project, scope string
	cmd := &cobra.Command{Use: "list", Short: "List subnet pools", Args: cobra.NoArgs}
	fs := cmd.Flags()
	fs.BoolVar(&long, "long", false, "show more columns")
	fs.StringVar(&name, "name", "", "only pools with this name")
	fs.StringVar(&project, "project", "", "only pools of this project (name or ID)")
	fs.StringVar(&scope, "address-scope", "", "only pools of this address scope (name or ID)")
	tq := addTagFilters(cmd, "subnet pools")
	addSwitchPair(cmd, "share", "no-share", "only shared pools", "only unshared pools")
	addSwitchPair(cmd, "default", "no-default", "only default pools", "only non-default pools")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			q := url.Values{}
			setFilter(q, "name", name)
			setBoolFilter(q, "shared", triState(cmd, "share", "no-share"))
			setBoolFilter(q, "is_default", triState(cmd, "default", "no-default"))
			tq.set(q)
			if scope != "" {
				id, err := addressScopeID(ctx, c, scope)
				if err != nil {
					return err
				}
				q.Set("address_scope_id", id)
			}
			if err := setProjectFilter(ctx, c, q, project); err != nil {
				return err
			}
			items, err := c.ListSubnetPools(ctx, q)
			return printList(w, cc.out, items, err, pick(long, subnetPoolLongColumns, subnetPoolColumns))
		})
	}
	return cmd
}

// newSubnetPoolSetCmd builds `subnet pool set`; --pool-prefix adds
// prefixes, as in the openstack client.
func newSubnetPoolSetCmd(cc *clientCmd) *cobra.Command {
	var name, desc, scope string
	var prefixes []string
	var lf poolLenFlags
	cmd := &cobra.Command{Use: "set SUBNET_POOL", Short: "Change a subnet pool", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&name, "name", "", "new name")
	fs.StringVar(&desc, "description", "", "new description")
	fs.StringArrayVar(&prefixes, "pool-prefix", nil, "prefix to add to the pool (repeatable)")
	fs.StringVar(&scope, "address-scope", "", "move the pool into this address scope (name or ID)")
	fs.Bool("no-address-scope", false, "take the pool out of its address scope")
	cmd.MarkFlagsMutuallyExclusive("address-scope", "no-address-scope")
	lf.add(cmd)
	tf := addTagFlags(cmd, "subnet pool")
	addSwitchPair(cmd, "default", "no-default", "make it the default pool of its IP version (admin only)", "make it not the default")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			p, err := c.FindSubnetPool(ctx, args[0])
			if err != nil {
				return err
			}
			req := client.SubnetPoolUpdate{Name: changedString(cmd, "name", name), Description: changedString(cmd, "description", desc),
				DefaultPrefixLen: changedInt(cmd, "default-prefix-length", lf.def), MinPrefixLen: changedInt(cmd, "min-prefix-length", lf.min),
				MaxPrefixLen: changedInt(cmd, "max-prefix-length", lf.max), DefaultQuota: changedInt(cmd, "default-quota", lf.quota),
				IsDefault: triState(cmd, "default", "no-default"), NoAddressScope: cmd.Flags().Changed("no-address-scope")}
			if len(prefixes) > 0 {
				all := append(append([]string{}, p.Prefixes...), prefixes...)
				req.Prefixes = &all
			}
			if scope != "" {
				id, err := addressScopeID(ctx, c, scope)
				if err != nil {
					return err
				}
				req.AddressScopeID = &id
			}
			if req != (client.SubnetPoolUpdate{}) || !tf.changed(cmd) {
				if _, err := c.UpdateSubnetPool(ctx, p.ID, req); err != nil {
					return err
				}
			}
			return tf.apply(ctx, cmd, c, "subnetpools", p.ID, p.Tags)
		})
	}
	return cmd
}

// newSubnetPoolUnsetCmd builds `subnet pool unset`: --pool-prefix removes
// prefixes no subnet uses (remove_prefixes), --tag/--all-tag tags.
func newSubnetPoolUnsetCmd(cc *clientCmd) *cobra.Command {
	cmd := newUnsetCmd(cc, subnetPoolResource, "subnetpools")
	cmd.Short = "Remove prefixes or tags from a subnet pool (name or ID)"
	var prefixes []string
	cmd.Flags().StringArrayVar(&prefixes, "pool-prefix", nil, "prefix to remove from the pool (repeatable)")
	tags := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(prefixes) > 0 {
			err := cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
				p, err := c.FindSubnetPool(ctx, args[0])
				if err == nil {
					_, err = c.RemovePoolPrefixes(ctx, p.ID, prefixes)
				}
				return err
			})
			if err != nil || !cmd.Flags().Changed("tag") && !cmd.Flags().Changed("all-tag") {
				return err
			}
		}
		return tags(cmd, args)
	}
	return cmd
}

// subnetPoolID resolves a --subnet-pool reference.
func subnetPoolID(ctx context.Context, c *client.Client, ref string) (string, error) {
	p, err := c.FindSubnetPool(ctx, ref)
	return p.ID, err
}

var subnetPoolResource = resource[api.SubnetPool]{
	noun:   "subnet pool",
	find:   (*client.Client).FindSubnetPool,
	id:     func(v api.SubnetPool) string { return v.ID },
	delete: (*client.Client).DeleteSubnetPool,
}
