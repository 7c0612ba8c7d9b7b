package main

import (
	"context"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vland/vland/internal/client"
)

// tagFlags are the openstack client's --tag and --no-tag options of
// create and set: on create the tags to create with (--no-tag: none); on
// set --tag adds to the current tags and --no-tag removes them first.
type tagFlags struct {
	tags []string
}

func addTagFlags(cmd *cobra.Command, noun string) *tagFlags {
	f := &tagFlags{}
	fs := cmd.Flags()
	fs.StringArrayVar(&f.tags, "tag", nil, "tag to add to the "+noun+" (repeatable)")
	if cmd.Name() == "set" {
		fs.Bool("no-tag", false, "remove every tag first (with --tag: replace the tags)")
	} else {
		fs.Bool("no-tag", false, "no tags (default)")
		cmd.MarkFlagsMutuallyExclusive("tag", "no-tag")
	}
	return f
}

// changed reports whether set was asked to change the tags.
func (f *tagFlags) changed(cmd *cobra.Command) bool {
	return cmd.Flags().Changed("tag") || cmd.Flags().Changed("no-tag")
}

// apply is set's tag change: one PUT of the whole list, only if it differs
// from the current tags (as the openstack client does).
func (f *tagFlags) apply(ctx context.Context, cmd *cobra.Command, c *client.Client, collection, id string, current []string) error {
	if !f.changed(cmd) {
		return nil
	}
	next := extendList(cmd, "tag", "no-tag", current, f.tags)
	var tags []string
	for _, t := range *next {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	if sameSet(tags, current) {
		return nil
	}
	_, err := c.SetTags(ctx, collection, id, tags)
	return err
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// tagFilters are list's --tags, --any-tags, --not-tags and --not-any-tags
// (comma-separated tags, as in the openstack client).
type tagFilters struct {
	all, anyOf, notAll, notAny []string
}

func addTagFilters(cmd *cobra.Command, nouns string) *tagFilters {
	f := &tagFilters{}
	fs := cmd.Flags()
	fs.StringSliceVar(&f.all, "tags", nil, "only "+nouns+" with all these tags (comma-separated)")
	fs.StringSliceVar(&f.anyOf, "any-tags", nil, "only "+nouns+" with any of these tags (comma-separated)")
	fs.StringSliceVar(&f.notAll, "not-tags", nil, "leave out "+nouns+" with all these tags (comma-separated)")
	fs.StringSliceVar(&f.notAny, "not-any-tags", nil, "leave out "+nouns+" with any of these tags (comma-separated)")
	return f
}

// set adds the tag filters to a list query.
func (f *tagFilters) set(q url.Values) {
	for key, tags := range map[string][]string{"tags": f.all, "tags-any": f.anyOf, "not-tags": f.notAll, "not-tags-any": f.notAny} {
		if len(tags) > 0 {
			q.Set(key, strings.Join(tags, ","))
		}
	}
}

// newUnsetCmd builds `unset`, which for now unsets only tags: openstack's
// --tag (remove these) and --all-tag (remove every tag).
func newUnsetCmd[T any](cc *clientCmd, r resource[T], collection string) *cobra.Command {
	var remove []string
	upper := strings.ToUpper(r.noun)
	cmd := &cobra.Command{Use: "unset " + upper, Short: "Remove tags from a " + r.noun + " (name or ID)", Args: cobra.ExactArgs(1)}
	cmd.Flags().StringArrayVar(&remove, "tag", nil, "tag to remove (repeatable)")
	cmd.Flags().Bool("all-tag", false, "remove every tag")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cc.run(cmd, func(ctx context.Context, c *client.Client, _ io.Writer) error {
			v, err := r.find(c, ctx, args[0])
			if err != nil {
				return err
			}
			current, err := c.Tags(ctx, collection, r.id(v))
			if err != nil {
				return err
			}
			var keep []string
			if !cmd.Flags().Changed("all-tag") {
				keep = slices.DeleteFunc(slices.Clone(current), func(t string) bool { return slices.Contains(remove, t) })
			}
			if sameSet(keep, current) {
				return nil
			}
			_, err = c.SetTags(ctx, collection, r.id(v), keep)
			return err
		})
	}
	return cmd
}
