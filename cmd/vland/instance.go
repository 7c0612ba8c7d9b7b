package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/client"
)

func init() { rootCmd.AddCommand(newInstanceCmd()) }

var instanceColumns = []listColumn{
	{title: "ID", key: "id"}, {title: "Name", key: "name"}, {title: "Hostname", key: "hostname"},
	{title: "Project", key: "project_id"}, {title: "Availability Zone", key: "availability_zone"},
}

// newInstanceCmd builds `vland instance`: the admin-only instance records
// the metadata service answers from (vland's stand-in for Nova's servers;
// docs/metadata.md). A VM's port names its instance in device_id.
func newInstanceCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "instance", Short: "Instance records for the metadata service (admin; what Nova would know)"}
	cmd.AddCommand(newInstanceCreateCmd(), newInstanceListCmd(), newInstanceShowCmd(), newInstanceDeleteCmd())
	return cmd
}

func newInstanceCreateCmd() *cobra.Command {
	var in api.Instance
	var userData string
	cmd := &cobra.Command{Use: "create NAME", Short: "Record an instance (its ports get device_id = its id)", Args: cobra.ExactArgs(1)}
	cc := newClientCmd(cmd, false)
	fs := cmd.Flags()
	fs.StringVar(&in.ID, "id", "", "instance UUID (default: a new one)")
	fs.StringVar(&in.Hostname, "hostname", "", "hostname (default: from the name)")
	fs.StringVar(&in.ProjectID, "project", "", "project ID (default: the caller's)")
	fs.StringVar(&in.AvailabilityZone, "availability-zone", "", "availability zone (default nova)")
	fs.StringVar(&userData, "user-data", "", "file whose content is the instance's user data")
	fs.StringToStringVar(&in.Meta, "property", nil, "metadata key=value (meta in meta_data.json); repeatable")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		in.Name = args[0]
		if userData != "" {
			b, err := os.ReadFile(userData)
			if err != nil {
				return fmt.Errorf("--user-data: %w", err)
			}
			in.UserData = b
		}
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			out, err := c.CreateInstance(ctx, in)
			if err != nil {
				return err
			}
			return cc.out.printOne(w, out)
		})
	}
	return cmd
}

func newInstanceListCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "list", Short: "List instance records", Args: cobra.NoArgs}
	cc := newClientCmd(cmd, false)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			out, err := c.ListInstances(ctx)
			if err != nil {
				return err
			}
			return printObjects(w, cc.out, out, instanceColumns)
		})
	}
	return cmd
}

func newInstanceShowCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "show ID", Short: "Show an instance record (user_data in base64)", Args: cobra.ExactArgs(1)}
	cc := newClientCmd(cmd, false)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			out, err := c.GetInstance(ctx, args[0])
			if err != nil {
				return err
			}
			return cc.out.printOne(w, out)
		})
	}
	return cmd
}

func newInstanceDeleteCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "delete ID...", Short: "Delete instance records", Args: cobra.MinimumNArgs(1)}
	cc := newClientCmd(cmd, false)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			for _, id := range args {
				if err := c.DeleteInstance(ctx, id); err != nil {
					return fmt.Errorf("instance %s: %w", id, err)
				}
			}
			return nil
		})
	}
	return cmd
}
