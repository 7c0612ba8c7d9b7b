package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// resource describes one Neutron collection: its JSON wrapper keys and how
// to read a member's name, so that the CRUD and name resolution code is
// written once for networks, subnets, ports and agents.
type resource[T any] struct {
	single, plural string
	name           func(T) string
	coll           string // the collection in URLs when it is not plural
}

func (r resource[T]) path(id string) string {
	coll := r.plural
	if r.coll != "" {
		coll = r.coll
	}
	if id == "" {
		return "/v2.0/" + coll
	}
	return "/v2.0/" + coll + "/" + url.PathEscape(id)
}

func (r resource[T]) create(ctx context.Context, c *Client, req any) (T, error) {
	return r.exchange(ctx, c, http.MethodPost, "", req)
}

func (r resource[T]) get(ctx context.Context, c *Client, id string) (T, error) {
	return r.exchange(ctx, c, http.MethodGet, id, nil)
}

func (r resource[T]) update(ctx context.Context, c *Client, id string, req any) (T, error) {
	return r.exchange(ctx, c, http.MethodPut, id, req)
}

func (r resource[T]) delete(ctx context.Context, c *Client, id string) error {
	if err := c.neutron(ctx, http.MethodDelete, r.path(id), nil, nil, nil); err != nil {
		return fmt.Errorf("delete %s %s: %w", r.single, id, err)
	}
	return nil
}

// exchange sends {"<single>": req} (if req is not nil) and unwraps the
// {"<single>": {...}} answer.
func (r resource[T]) exchange(ctx context.Context, c *Client, method, id string, req any) (T, error) {
	var in any
	if req != nil {
		in = map[string]any{r.single: req}
	}
	var out map[string]json.RawMessage
	var v T
	if err := c.neutron(ctx, method, r.path(id), nil, in, &out); err != nil {
		return v, err
	}
	raw, ok := out[r.single]
	if !ok {
		return v, fmt.Errorf("%s %s: answer has no %q object", method, r.path(id), r.single)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("decode %s: %w", r.single, err)
	}
	return v, nil
}

// list returns the members matching filters (Neutron query parameters such
// as name, network_id, project_id; repeated values are ORed by the server).
func (r resource[T]) list(ctx context.Context, c *Client, filters url.Values) ([]T, error) {
	var out map[string]json.RawMessage
	if err := c.neutron(ctx, http.MethodGet, r.path(""), filters, nil, &out); err != nil {
		return nil, err
	}
	raw, ok := out[r.plural]
	if !ok {
		return nil, fmt.Errorf("list %s: answer has no %q array", r.plural, r.plural)
	}
	var vs []T
	if err := json.Unmarshal(raw, &vs); err != nil {
		return nil, fmt.Errorf("decode %s: %w", r.plural, err)
	}
	return vs, nil
}

// find resolves a name or ID the way the openstack client does: GET by ID
// first; on 404 (or 400, for a malformed ID) list ?name= and require exactly
// one member with that exact name.
func (r resource[T]) find(ctx context.Context, c *Client, ref string) (T, error) {
	var zero T
	if ref == "" {
		return zero, &ResolveError{Kind: r.single, Ref: ref}
	}
	v, err := r.get(ctx, c, ref)
	var apiErr *APIError
	if err == nil || !errors.As(err, &apiErr) || (apiErr.Status != http.StatusNotFound && apiErr.Status != http.StatusBadRequest) {
		return v, err
	}
	all, err := r.list(ctx, c, url.Values{"name": {ref}})
	if err != nil {
		return zero, err
	}
	var matches []T
	for _, m := range all {
		if r.name(m) == ref { // a server that ignores the filter must not fool us
			matches = append(matches, m)
		}
	}
	if len(matches) != 1 {
		return zero, &ResolveError{Kind: r.single, Ref: ref, Matches: len(matches)}
	}
	return matches[0], nil
}
