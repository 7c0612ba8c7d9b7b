package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

// outputFlags select how client commands print: an openstack-style table
// (default), or the API objects as JSON or YAML, optionally cut down to
// some columns (-c, matched against column titles or API keys).
type outputFlags struct {
	format  string
	columns []string
}

func addOutputFlags(cmd *cobra.Command, persistent bool) *outputFlags {
	o := &outputFlags{}
	fs := cmd.Flags()
	if persistent {
		fs = cmd.PersistentFlags()
	}
	fs.StringVarP(&o.format, "output", "o", "table", "output format: table, json or yaml")
	fs.StringVarP(&o.format, "format", "f", "table", "alias of --output")
	fs.StringArrayVarP(&o.columns, "column", "c", nil, "show only this column or field (repeatable)")
	return o
}

// listColumn is one column of a list: its title and the API key it shows.
// format, if set, renders the value instead of cellText.
type listColumn struct {
	title  string
	key    string
	format func(any) string
}

// jsonObject turns an API object into its JSON form, keeping numbers exact.
func jsonObject(v any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// printOne prints one object: Field|Value table or the object as JSON/YAML.
func (o *outputFlags) printOne(w io.Writer, v any) error {
	m, err := jsonObject(v)
	if err != nil {
		return err
	}
	m = selectKeys(m, o.columns)
	if o.format != "table" {
		return o.encode(w, m)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows := make([][]string, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, []string{k, cellText(m[k])})
	}
	return renderASCIITable(w, []string{"Field", "Value"}, rows)
}

// printObjects prints objects as a table with cols, or as a JSON/YAML list.
func printObjects[T any](w io.Writer, o *outputFlags, items []T, cols []listColumn) error {
	maps := make([]map[string]any, 0, len(items))
	for _, it := range items {
		m, err := jsonObject(it)
		if err != nil {
			return err
		}
		maps = append(maps, m)
	}
	if o.format != "table" {
		keys := o.columnKeys(cols)
		for i, m := range maps {
			maps[i] = selectKeys(m, keys)
		}
		return o.encode(w, maps)
	}
	cols = o.selectColumns(cols)
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.title
	}
	rows := make([][]string, 0, len(maps))
	for _, m := range maps {
		row := make([]string, len(cols))
		for i, c := range cols {
			if c.format != nil {
				row[i] = c.format(m[c.key])
			} else {
				row[i] = cellText(m[c.key])
			}
		}
		rows = append(rows, row)
	}
	return renderASCIITable(w, header, rows)
}

func (o *outputFlags) encode(w io.Writer, v any) error {
	switch o.format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(yamlPlain(v)); err != nil {
			return err
		}
		return enc.Close()
	}
	return fmt.Errorf("unknown output format %q (want table, json or yaml)", o.format)
}

// yamlPlain turns json.Number into plain numbers so YAML does not quote them.
func yamlPlain(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = yamlPlain(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = yamlPlain(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = yamlPlain(e)
		}
		return out
	}
	return v
}

// columnKeys turns -c names, column titles or API keys, into API keys.
func (o *outputFlags) columnKeys(cols []listColumn) []string {
	keys := make([]string, 0, len(o.columns))
	for _, want := range o.columns {
		key := want
		for _, c := range cols {
			if strings.EqualFold(c.title, want) {
				key = c.key
			}
		}
		keys = append(keys, key)
	}
	return keys
}

// selectKeys keeps the given keys (all if none) of a JSON object.
func selectKeys(m map[string]any, keys []string) map[string]any {
	if len(keys) == 0 {
		return m
	}
	out := map[string]any{}
	for _, c := range keys {
		if v, ok := m[c]; ok {
			out[c] = v
		}
	}
	return out
}

// selectColumns keeps the columns named by -c, by title or API key, in the
// order given.
func (o *outputFlags) selectColumns(cols []listColumn) []listColumn {
	if len(o.columns) == 0 {
		return cols
	}
	var out []listColumn
	for _, want := range o.columns {
		for _, c := range cols {
			if strings.EqualFold(c.title, want) || c.key == want {
				out = append(out, c)
			}
		}
	}
	return out
}

// renderASCIITable draws an ASCII table like the openstack client's.
func renderASCIITable(w io.Writer, header []string, rows [][]string) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}

// printResult prints what a create or update returned, or passes its error
// on: cc.out.printResult(w)(c.CreateNetwork(ctx, req)).
func (o *outputFlags) printResult(w io.Writer) func(any, error) error {
	return func(v any, err error) error {
		if err != nil {
			return err
		}
		return o.printOne(w, v)
	}
}

// printList prints what a list returned, or passes its error on.
func printList[T any](w io.Writer, o *outputFlags, items []T, err error, cols []listColumn) error {
	if err != nil {
		return err
	}
	return printObjects(w, o, items, cols)
}

// pick returns a if cond, else b.
func pick[T any](cond bool, a, b T) T {
	if cond {
		return a
	}
	return b
}
