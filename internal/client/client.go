// Package client is a Go client for vland's Neutron v2.0 API and its
// Keystone v3 endpoint. The vland CLI, the lab and the end-to-end tests use
// it. A Client is safe for concurrent use; it authenticates lazily on the
// first request and keeps the token in memory, re-authenticating once when
// a password-authenticated token is refused.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Client talks to one vland deployment.
type Client struct {
	cfg  Config
	http *http.Client

	mu       sync.Mutex
	authDone bool
	token    string
	endpoint string // network API root, without /v2.0
	scope    Scope
}

// Scope is what the token says about the caller. It is empty in no-auth
// mode and when a fixed token was used as-is.
type Scope struct {
	UserID      string
	UserName    string
	ProjectID   string
	ProjectName string
	Roles       []string
}

// Option changes how New builds a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests through hc.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// New checks cfg and returns a Client; it does no I/O. cfg is completed
// with Config.WithDefaults first.
func New(cfg Config, opts ...Option) (*Client, error) {
	cfg = cfg.WithDefaults()
	// People paste the versioned URL; the client adds /v2.0 itself.
	cfg.URL = strings.TrimSuffix(trimURL(cfg.URL), "/v2.0")
	switch cfg.AuthType {
	case AuthNone:
	case AuthToken:
		if cfg.Token == "" {
			return nil, fmt.Errorf("%w: auth type token needs a token (--os-token, OS_TOKEN)", ErrConfig)
		}
	case AuthPassword:
		if cfg.Username == "" || cfg.AuthURL == "" {
			return nil, fmt.Errorf("%w: password auth needs a username and an auth URL", ErrConfig)
		}
	default:
		return nil, fmt.Errorf("%w: unknown auth type %q (want none, password or token)", ErrConfig, cfg.AuthType)
	}
	c := &Client{cfg: cfg, http: &http.Client{Timeout: 60 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Config returns the completed configuration the Client runs with.
func (c *Client) Config() Config { return c.cfg }

// Authenticate gets a token (password auth) and the network endpoint if
// that is not yet done. Requests call it themselves; calling it first only
// surfaces credential errors early.
func (c *Client) Authenticate(ctx context.Context) error {
	_, _, err := c.credentials(ctx)
	return err
}

// Scope returns the caller's identity as the token states it.
func (c *Client) Scope(ctx context.Context) (Scope, error) {
	if _, _, err := c.credentials(ctx); err != nil {
		return Scope{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.scope, nil
}

// Endpoint returns the root URL of the network API (without /v2.0).
func (c *Client) Endpoint(ctx context.Context) (string, error) {
	_, ep, err := c.credentials(ctx)
	return ep, err
}

// credentials returns the token and endpoint, authenticating if needed.
func (c *Client) credentials(ctx context.Context) (token, endpoint string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.authDone {
		if err := c.authenticateLocked(ctx); err != nil {
			return "", "", err
		}
		c.authDone = true
	}
	return c.token, c.endpoint, nil
}

// invalidate forgets a refused token so the next request authenticates
// again; it reports whether that can help (only password auth can renew).
func (c *Client) invalidate() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg.AuthType != AuthPassword {
		return false
	}
	c.authDone = false
	return true
}

// neutron sends one request to the network API. path starts with
// "/v2.0/". in, if not nil, is sent as JSON; out, if not nil, receives the
// JSON answer.
func (c *Client) neutron(ctx context.Context, method, path string, query url.Values, in, out any) error {
	return c.withToken(ctx, func(token, endpoint string) error {
		return c.send(ctx, method, endpoint+path, query, token, in, out)
	})
}

// identity sends one request to Keystone; path is relative to /v3.
func (c *Client) identity(ctx context.Context, method, path string, query url.Values, in, out any) error {
	return c.withToken(ctx, func(token, _ string) error {
		return c.send(ctx, method, identityURL(c.cfg.AuthURL)+path, query, token, in, out)
	})
}

// withToken runs call with the current credentials, and once more with
// fresh ones if the token was refused and can be renewed.
func (c *Client) withToken(ctx context.Context, call func(token, endpoint string) error) error {
	for attempt := 0; ; attempt++ {
		token, endpoint, err := c.credentials(ctx)
		if err != nil {
			return err
		}
		err = call(token, endpoint)
		if errors.Is(err, ErrUnauthorized) && attempt == 0 && c.invalidate() {
			continue
		}
		return err
	}
}

// send performs one HTTP exchange and decodes the answer or the error.
func (c *Client) send(ctx context.Context, method, rawURL string, query url.Values, token string, in, out any) error {
	_, err := c.sendHeader(ctx, method, rawURL, query, token, in, out)
	return err
}

// sendHeader is send that also returns the answer's headers (Keystone puts
// the new token in X-Subject-Token).
func (c *Client) sendHeader(ctx context.Context, method, rawURL string, query url.Values, token string, in, out any) (http.Header, error) {
	req, err := newRequest(ctx, method, rawURL, query, token, in)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error repeats method and URL; keep its cause only.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("%s %s: %w", method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, req.URL.Redacted(), err)
	}
	if resp.StatusCode >= 400 {
		return resp.Header, decodeAPIError(resp.StatusCode, resp.Header.Get("X-Openstack-Request-Id"), body)
	}
	if out != nil && len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			return resp.Header, fmt.Errorf("%s %s: decode answer: %w", method, req.URL.Redacted(), err)
		}
	}
	return resp.Header, nil
}

func newRequest(ctx context.Context, method, rawURL string, query url.Values, token string, in any) (*http.Request, error) {
	if len(query) > 0 {
		rawURL += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "vland-client")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	return req, nil
}

func trimURL(u string) string { return strings.TrimRight(u, "/") }
