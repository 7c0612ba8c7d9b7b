package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Project is a Keystone v3 project.
type Project struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DomainID    string `json:"domain_id"`
	Description string `json:"description"`
	Enabled     bool   `json:"enabled"`
}

// ListProjects lists Keystone projects, only those called name if name is
// not empty (GET /v3/projects?name=).
func (c *Client) ListProjects(ctx context.Context, name string) ([]Project, error) {
	var q url.Values
	if name != "" {
		q = url.Values{"name": {name}}
	}
	var out struct {
		Projects []Project `json:"projects"`
	}
	if err := c.identity(ctx, http.MethodGet, "/projects", q, nil, &out); err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return out.Projects, nil
}

// CreateProject creates a project in the default domain (admin only).
func (c *Client) CreateProject(ctx context.Context, name string) (Project, error) {
	in := map[string]any{"project": map[string]any{"name": name, "domain_id": "default", "enabled": true}}
	var out struct {
		Project Project `json:"project"`
	}
	if err := c.identity(ctx, http.MethodPost, "/projects", nil, in, &out); err != nil {
		return Project{}, fmt.Errorf("create project %q: %w", name, err)
	}
	return out.Project, nil
}

// FindProject resolves a project name or ID: by name first (names are what
// people type), then by ID.
func (c *Client) FindProject(ctx context.Context, nameOrID string) (Project, error) {
	all, err := c.ListProjects(ctx, nameOrID)
	if err != nil {
		return Project{}, err
	}
	var matches []Project
	for _, p := range all {
		if p.Name == nameOrID {
			matches = append(matches, p)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
	default:
		return Project{}, &ResolveError{Kind: "project", Ref: nameOrID, Matches: len(matches)}
	}
	var out struct {
		Project Project `json:"project"`
	}
	err = c.identity(ctx, http.MethodGet, "/projects/"+url.PathEscape(nameOrID), nil, nil, &out)
	var apiErr *APIError
	if errors.As(err, &apiErr) && (apiErr.Status == http.StatusNotFound || apiErr.Status == http.StatusBadRequest) {
		return Project{}, &ResolveError{Kind: "project", Ref: nameOrID}
	}
	if err != nil {
		return Project{}, fmt.Errorf("get project %q: %w", nameOrID, err)
	}
	return out.Project, nil
}

// ProjectID turns a project name or ID into the ID to put in a request's
// project_id, for an admin acting on a project's behalf. A project that
// does not exist yet is created ("projects named on first use are
// created"). Without Keystone (auth type none) the reference is the ID.
func (c *Client) ProjectID(ctx context.Context, nameOrID string) (string, error) {
	if c.cfg.AuthType == AuthNone || nameOrID == "" {
		return nameOrID, nil
	}
	p, err := c.FindProject(ctx, nameOrID)
	var rerr *ResolveError
	if errors.As(err, &rerr) && rerr.Matches == 0 {
		p, err = c.CreateProject(ctx, nameOrID)
	}
	if err != nil {
		return "", err
	}
	return p.ID, nil
}

// FindProjectID is ProjectID without creating anything: it fails with
// ErrNotFound for an unknown project (for filters, which must not have side
// effects). Without Keystone the reference is the ID.
func (c *Client) FindProjectID(ctx context.Context, nameOrID string) (string, error) {
	if c.cfg.AuthType == AuthNone || nameOrID == "" {
		return nameOrID, nil
	}
	p, err := c.FindProject(ctx, nameOrID)
	return p.ID, err
}
