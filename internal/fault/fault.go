// Package fault is the client-facing error of vland's Neutron API: a kind
// and the message Neutron gives. The kind is a sentinel error owned by the
// package whose rule was broken (fault's own generic ones below, ipam's,
// segment's, service's); internal/neutron turns each kind into an HTTP
// status and Neutron error type in one table, so there is exactly one path
// from a broken rule to the wire.
package fault

import (
	"errors"
	"fmt"
)

// Generic kinds, used by every package that validates requests.
var (
	// ErrBadRequest is an attribute that fails validation (400
	// HTTPBadRequest, "Invalid input for <attr>. Reason: ...").
	ErrBadRequest = errors.New("fault: bad request")
	// ErrInvalidInput is a request the plugin refuses (400 InvalidInput,
	// "Invalid input for operation: ...").
	ErrInvalidInput = errors.New("fault: invalid input")
)

// Error is a client-facing error: Kind (matched with errors.Is) and the
// message shown to the client.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

// New builds an *Error of the given kind.
func New(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// BadAttr is Neutron's attribute validation failure.
func BadAttr(attr, format string, args ...any) error {
	return &Error{Kind: ErrBadRequest, Message: fmt.Sprintf("Invalid input for %s. Reason: %s.", attr, fmt.Sprintf(format, args...))}
}

// InvalidInput is Neutron's InvalidInput: "Invalid input for operation: ...".
func InvalidInput(format string, args ...any) error {
	return &Error{Kind: ErrInvalidInput, Message: "Invalid input for operation: " + fmt.Sprintf(format, args...) + "."}
}
