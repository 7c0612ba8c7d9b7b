package client

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// tokenAnswer is the part of Keystone's POST /v3/auth/tokens answer the
// client uses.
type tokenAnswer struct {
	Token struct {
		ExpiresAt string `json:"expires_at"`
		User      struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"user"`
		Project *struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"project"`
		Roles []struct {
			Name string `json:"name"`
		} `json:"roles"`
		Catalog []catalogEntry `json:"catalog"`
	} `json:"token"`
}

type catalogEntry struct {
	Type      string `json:"type"`
	Endpoints []struct {
		Interface string `json:"interface"`
		URL       string `json:"url"`
	} `json:"endpoints"`
}

// authenticateLocked sets token, endpoint and scope according to the auth
// type. c.mu must be held.
func (c *Client) authenticateLocked(ctx context.Context) error {
	c.endpoint = trimURL(c.cfg.URL)
	switch c.cfg.AuthType {
	case AuthNone:
		c.token = ""
		return nil
	case AuthToken:
		c.token = c.cfg.Token
		if c.endpoint != "" {
			return nil // a fixed token is used as-is, as `openstack --os-token` does
		}
		return c.keystoneLocked(ctx, tokenAuthBody(c.cfg))
	default:
		return c.keystoneLocked(ctx, passwordAuthBody(c.cfg))
	}
}

// keystoneLocked asks Keystone for a token and keeps it, its scope and, if
// no URL was configured, the network endpoint from the catalog.
func (c *Client) keystoneLocked(ctx context.Context, body any) error {
	var ans tokenAnswer
	hdr, err := c.sendHeader(ctx, http.MethodPost, identityURL(c.cfg.AuthURL)+"/auth/tokens", nil, "", body, &ans)
	if err != nil {
		return fmt.Errorf("authenticate at %s: %w", c.cfg.AuthURL, err)
	}
	tok := hdr.Get("X-Subject-Token")
	if tok == "" {
		return fmt.Errorf("authenticate at %s: %w: no X-Subject-Token in the answer", c.cfg.AuthURL, ErrUnauthorized)
	}
	c.token = tok
	c.scope = scopeOf(ans)
	if c.endpoint == "" {
		ep, err := networkEndpoint(ans.Token.Catalog)
		if err != nil {
			return err
		}
		c.endpoint = ep
	}
	return nil
}

func scopeOf(ans tokenAnswer) Scope {
	s := Scope{UserID: ans.Token.User.ID, UserName: ans.Token.User.Name}
	if p := ans.Token.Project; p != nil {
		s.ProjectID, s.ProjectName = p.ID, p.Name
	}
	for _, r := range ans.Token.Roles {
		s.Roles = append(s.Roles, r.Name)
	}
	return s
}

// networkEndpoint picks the public (else any) endpoint of the "network"
// service. Catalog URLs are the unversioned root; a trailing /v2.0 is cut
// in case a deployment lists the versioned one.
func networkEndpoint(catalog []catalogEntry) (string, error) {
	var found string
	for _, e := range catalog {
		if e.Type != "network" {
			continue
		}
		for _, ep := range e.Endpoints {
			if found == "" || ep.Interface == "public" {
				found = ep.URL
			}
		}
	}
	if found == "" {
		return "", fmt.Errorf("%w: the Keystone catalog has no network endpoint; set --os-url", ErrConfig)
	}
	return strings.TrimSuffix(trimURL(found), "/v2.0"), nil
}

// identityURL makes sure the auth URL ends in /v3.
func identityURL(authURL string) string {
	u := trimURL(authURL)
	if !strings.HasSuffix(u, "/v3") {
		u += "/v3"
	}
	return u
}

func passwordAuthBody(cfg Config) any {
	user := map[string]any{
		"name":     cfg.Username,
		"password": cfg.Password,
		"domain":   map[string]any{"name": "Default"},
	}
	identity := map[string]any{
		"methods":  []string{"password"},
		"password": map[string]any{"user": user},
	}
	return authBody(identity, cfg.ProjectName)
}

func tokenAuthBody(cfg Config) any {
	identity := map[string]any{
		"methods": []string{"token"},
		"token":   map[string]any{"id": cfg.Token},
	}
	return authBody(identity, cfg.ProjectName)
}

func authBody(identity map[string]any, project string) any {
	auth := map[string]any{"identity": identity}
	if project != "" {
		auth["scope"] = map[string]any{"project": map[string]any{
			"name": project, "domain": map[string]any{"name": "Default"},
		}}
	}
	return map[string]any{"auth": auth}
}
