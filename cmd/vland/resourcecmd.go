package main

import (
	"context"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vland/vland/internal/client"
)

// resource describes one API collection for the commands that are the same
// for every resource: show and delete.
type resource[T any] struct {
	noun   string // "network"
	find   func(c *client.Client, ctx context.Context, ref string) (T, error)
	id     func(T) string
	delete func(c *client.Client, ctx context.Context, id string) error
}

func newShowCmd[T any](cc *clientCmd, r resource[T]) *cobra.Command {
	upper := strings.ToUpper(r.noun)
	return &cobra.Command{
		Use: "show " + upper, Short: "Show a " + r.noun + " (name or ID)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				v, err := r.find(c, ctx, args[0])
				if err != nil {
					return err
				}
				return cc.out.printOne(w, v)
			})
		},
	}
}

func newDeleteCmd[T any](cc *clientCmd, r resource[T]) *cobra.Command {
	upper := strings.ToUpper(r.noun)
	return &cobra.Command{
		Use: "delete " + upper + " [" + upper + " ...]", Short: "Delete " + r.noun + "s (names or IDs)", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
				find := func(ctx context.Context, ref string) (string, error) {
					v, err := r.find(c, ctx, ref)
					return r.id(v), err
				}
				del := func(ctx context.Context, id string) error { return r.delete(c, ctx, id) }
				return deleteEach(ctx, cmd.ErrOrStderr(), r.noun, args, find, del)
			})
		},
	}
}
