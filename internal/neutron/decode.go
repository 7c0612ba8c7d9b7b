package neutron

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// readBody reads and parses a JSON object body. Oversized bodies are 413,
// anything that is not a JSON object 400.
func readBody(r *http.Request) (map[string]json.RawMessage, error) {
	b, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, transportErr(errTooLarge, "Request is too large.")
	}
	if err != nil {
		return nil, badRequest("Malformed request body: could not read it")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, badRequest("Resource body required")
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(b, &body); err != nil || body == nil {
		return nil, badRequest("Malformed request body")
	}
	return body, nil
}

// unwrap returns the resource objects of a create body: one under the
// singular key, or several (bulk) under the plural key.
func unwrap(body map[string]json.RawMessage, singular, plural string, allowBulk bool) ([]map[string]json.RawMessage, bool, error) {
	if raw, ok := body[plural]; ok && allowBulk {
		var items []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, true, badRequest(fmt.Sprintf("Invalid format for '%s': expected a list of objects", plural))
		}
		if len(items) == 0 {
			return nil, true, badRequest("Resources required")
		}
		for _, it := range items {
			if it == nil {
				return nil, true, badRequest(fmt.Sprintf("Invalid format for '%s': expected a list of objects", plural))
			}
		}
		return items, true, nil
	}
	raw, ok := body[singular]
	if !ok {
		return nil, false, badRequest(fmt.Sprintf("Unable to find '%s' in request body", singular))
	}
	var item map[string]json.RawMessage
	if err := json.Unmarshal(raw, &item); err != nil || item == nil {
		return nil, false, badRequest(fmt.Sprintf("Invalid format for '%s': expected an object", singular))
	}
	return []map[string]json.RawMessage{item}, false, nil
}

// setter stores one attribute's raw JSON value into a request.
type setter[R any] func(r *R, name string, raw json.RawMessage) error

// attr is one attribute of a resource: whether POST and PUT may set it,
// and how its value is converted.
type attr[R any] struct {
	post, put bool
	set       setter[R]
}

// decodeAttrs fills a request from one resource object, rejecting unknown
// attributes, attributes the operation may not set, and bad values.
func decodeAttrs[R any](item map[string]json.RawMessage, table map[string]attr[R], create bool) (R, error) {
	var req R
	var unknown []string
	for name := range item {
		if _, ok := table[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return req, badRequest(fmt.Sprintf("Unrecognized attribute(s) '%s'", strings.Join(unknown, ", ")))
	}
	names := make([]string, 0, len(item))
	for name := range item {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		a := table[name]
		switch {
		case create && !a.post:
			return req, badRequest(fmt.Sprintf("Attribute '%s' not allowed in POST", name))
		case !create && !a.put:
			return req, badRequest(fmt.Sprintf("Cannot update read-only attribute %s", name))
		}
		if err := a.set(&req, name, item[name]); err != nil {
			return req, err
		}
	}
	return req, nil
}
