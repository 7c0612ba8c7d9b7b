package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors. APIError and ResolveError match them with errors.Is, so
// callers can test the kind of failure without looking at status codes.
var (
	// ErrNotFound: the resource does not exist (HTTP 404, or no name match).
	ErrNotFound = errors.New("client: not found")
	// ErrConflict: the server refused because of a conflicting state
	// (HTTP 409), e.g. an IP address already in use.
	ErrConflict = errors.New("client: conflict")
	// ErrAmbiguous: a name matched more than one resource.
	ErrAmbiguous = errors.New("client: ambiguous name")
	// ErrUnauthorized: the credentials or token were refused (HTTP 401).
	ErrUnauthorized = errors.New("client: unauthorized")
	// ErrConfig: the configuration cannot work (missing URL, bad auth type).
	ErrConfig = errors.New("client: bad configuration")
)

// APIError is an error answer from the API or Keystone. Message is the
// server's own message (Neutron's NeutronError.message or Keystone's
// error.message) and is what the CLI shows.
type APIError struct {
	Status    int
	Type      string
	Message   string
	RequestID string
}

// Error returns the server's message, or the HTTP status if it sent none.
func (e *APIError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
}

// Is maps HTTP statuses onto the package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	}
	return false
}

// decodeAPIError builds an APIError from an error answer. Like the
// openstack client, it takes the first top-level object of a JSON body that
// carries a "message": {"NeutronError": {...}} from Neutron, {"error":
// {...}} from Keystone.
func decodeAPIError(status int, reqID string, body []byte) *APIError {
	e := &APIError{Status: status, RequestID: reqID}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return e
	}
	for _, key := range []string{"NeutronError", "error"} {
		if raw, ok := top[key]; ok && fillAPIError(e, raw) {
			return e
		}
	}
	for _, raw := range top {
		if fillAPIError(e, raw) {
			return e
		}
	}
	return e
}

func fillAPIError(e *APIError, raw json.RawMessage) bool {
	var inner struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &inner) != nil || inner.Message == "" {
		return false
	}
	e.Message = inner.Message
	e.Type = inner.Type
	if e.Type == "" {
		e.Type = inner.Title
	}
	return true
}

// ResolveError says a name or ID could not be turned into exactly one
// resource. It matches ErrNotFound (no match) or ErrAmbiguous (several).
type ResolveError struct {
	Kind    string // "network", "subnet", ...
	Ref     string // the name or ID the caller gave
	Matches int
}

func (e *ResolveError) Error() string {
	if e.Matches > 1 {
		return fmt.Sprintf("more than one %s exists with the name %q; use its ID", e.Kind, e.Ref)
	}
	return fmt.Sprintf("no %s found for %q", e.Kind, e.Ref)
}

// Is reports ErrNotFound or ErrAmbiguous depending on the match count.
func (e *ResolveError) Is(target error) bool {
	if e.Matches > 1 {
		return target == ErrAmbiguous
	}
	return target == ErrNotFound
}
