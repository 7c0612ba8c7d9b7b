package main

import (
	"context"
	"errors"
	"io"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

var rbacColumns = []listColumn{
	{title: "ID", key: "id"}, {title: "Object Type", key: "object_type"}, {title: "Object ID", key: "object_id"},
}

var rbacLongColumns = append(append([]listColumn{}, rbacColumns...),
	listColumn{title: "Action", key: "action"}, listColumn{title: "Target Project", key: "target_tenant"},
	listColumn{title: "Project", key: "project_id"})

// newNetworkRBACCmd builds `vland network rbac ...`, mirroring
// `openstack network rbac`: grant one project (or all) access to a network.
func newNetworkRBACCmd(cc *clientCmd) *cobra.Command {
	cmd := &cobra.Command{Use: "rbac", Short: "Manage network RBAC policies (share a network with chosen projects)"}
	cmd.AddCommand(newRBACCreateCmd(cc), newRBACListCmd(cc), newShowCmd(cc, rbacResource), newRBACSetCmd(cc),
		newDeleteCmd(cc, rbacResource))
	return cmd
}

// rbacTarget resolves --target-project / --target-all-projects.
func rbacTarget(ctx context.Context, c *client.Client, project string, all bool) (string, error) {
	if all {
		return api.RBACWildcard, nil
	}
	return c.FindProjectID(ctx, project)
}

func newRBACCreateCmd(cc *clientCmd) *cobra.Command {
	var objType, action, target, project string
	var all bool
	cmd := &cobra.Command{Use: "create NETWORK", Short: "Grant a project access to a network", Args: cobra.ExactArgs(1)}
	fs := cmd.Flags()
	fs.StringVar(&objType, "type", api.RBACObjectNetwork, "type of the object: network")
	fs.StringVar(&action, "action", "", "access_as_shared (see, use and plug ports into it) or access_as_external (use as an external network)")
	fs.StringVar(&target, "target-project", "", "the project granted access (name or ID)")
	fs.BoolVar(&all, "target-all-projects", false, "grant every project access (admin only)")
	fs.StringVar(&project, "project", "", "the project owning the policy (admin only)")
	cmd.MarkFlagsMutuallyExclusive("target-project", "target-all-projects")
	_ = cmd.MarkFlagRequired("action")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if target == "" && !all {
			return errors.New("one of --target-project and --target-all-projects is required")
		}
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			if objType != api.RBACObjectNetwork {
				return errors.New("--type: vland supports RBAC policies on networks only")
			}
			n, err := c.FindNetwork(ctx, args[0])
			if err != nil {
				return err
			}
			req := client.RBACCreate{ObjectType: objType, ObjectID: n.ID, Action: action}
			if req.TargetTenant, err = rbacTarget(ctx, c, target, all); err != nil {
				return err
			}
			if req.ProjectID, err = c.FindProjectID(ctx, project); err != nil {
				return err
			}
			return cc.out.printResult(w)(c.CreateRBACPolicy(ctx, req))
		})
	}
	return cmd
}

func newRBACListCmd(cc *clientCmd) *cobra.Command {
	var long bool
	var objType, action, target string
	cmd := &cobra.Command{Use: "list", Short: "List RBAC policies", Args: cobra.NoArgs}
	fs := cmd.Flags()
	fs.BoolVar(&long, "long", false, "show more columns")
	fs.StringVar(&objType, "type", "", "only policies on objects of this type")
	fs.StringVar(&action, "action", "", "only policies with this action")
	fs.StringVar(&target, "target-project", "", "only policies granting this project (name or ID)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			q := url.Values{}
			setFilter(q, "object_type", objType)
			setFilter(q, "action", action)
			if target != "" {
				id := target
				if target != api.RBACWildcard {
					var err error
					if id, err = c.FindProjectID(ctx, target); err != nil {
						return err
					}
				}
				q.Set("target_tenant", id)
			}
			items, err := c.ListRBACPolicies(ctx, q)
			return printList(w, cc.out, items, err, pick(long, rbacLongColumns, rbacColumns))
		})
	}
	return cmd
}

func newRBACSetCmd(cc *clientCmd) *cobra.Command {
	var target string
	var all bool
	cmd := &cobra.Command{Use: "set RBAC_POLICY", Short: "Change the project an RBAC policy grants", Args: cobra.ExactArgs(1)}
	cmd.Flags().StringVar(&target, "target-project", "", "the project granted access (name or ID)")
	cmd.Flags().BoolVar(&all, "target-all-projects", false, "grant every project access (admin only)")
	cmd.MarkFlagsMutuallyExclusive("target-project", "target-all-projects")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			if target == "" && !all {
				return nil // nothing to change, as openstack
			}
			id, err := rbacTarget(ctx, c, target, all)
			if err != nil {
				return err
			}
			_, err = c.UpdateRBACPolicy(ctx, args[0], client.RBACUpdate{TargetTenant: id})
			return err
		})
	}
	return cmd
}

// rbacResource is what show and delete need to know of RBAC policies
// (referred to by ID only: they have no names).
var rbacResource = resource[api.RBACPolicy]{
	noun: "rbac_policy",
	find: func(c *client.Client, ctx context.Context, id string) (api.RBACPolicy, error) {
		return c.GetRBACPolicy(ctx, id)
	},
	id:     func(v api.RBACPolicy) string { return v.ID },
	delete: (*client.Client).DeleteRBACPolicy,
}
