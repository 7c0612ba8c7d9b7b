package client

import (
	"context"
	"net/http"
	"net/url"
)

// Tags returns the tags of one resource of a collection ("networks",
// "subnets", "ports").
func (c *Client) Tags(ctx context.Context, collection, id string) ([]string, error) {
	var out struct {
		Tags []string `json:"tags"`
	}
	err := c.neutron(ctx, http.MethodGet, tagsPath(collection, id), nil, nil, &out)
	return out.Tags, err
}

// SetTags replaces every tag of a resource (an empty list removes them
// all) and returns the tags it now has.
func (c *Client) SetTags(ctx context.Context, collection, id string, tags []string) ([]string, error) {
	if tags == nil {
		tags = []string{}
	}
	var out struct {
		Tags []string `json:"tags"`
	}
	err := c.neutron(ctx, http.MethodPut, tagsPath(collection, id), nil, map[string]any{"tags": tags}, &out)
	return out.Tags, err
}

func tagsPath(collection, id string) string {
	return "/v2.0/" + collection + "/" + url.PathEscape(id) + "/tags"
}
