// Package identity is who is making a request: the user, the project it is
// scoped to and its roles. The auth middleware (internal/keystone) puts it
// in the request context; the API and its policy read it from there.
package identity

import (
	"context"
	"slices"
)

// Identity is the caller of one request.
type Identity struct {
	UserID      string
	UserName    string
	ProjectID   string
	ProjectName string
	Roles       []string
}

// The default roles of Keystone and Neutron. Each implies the ones below
// it (Keystone's implied roles): admin > member > reader. Any other role
// grants nothing.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleReader = "reader"
)

// IsAdmin reports whether the caller has the admin role (Neutron's
// "context_is_admin"): it may do everything, in every project.
func (i Identity) IsAdmin() bool { return slices.Contains(i.Roles, RoleAdmin) }

// IsMember reports whether the caller may create, change and delete its
// project's resources.
func (i Identity) IsMember() bool { return i.IsAdmin() || slices.Contains(i.Roles, RoleMember) }

// IsReader reports whether the caller may read its project's resources.
func (i Identity) IsReader() bool { return i.IsMember() || slices.Contains(i.Roles, RoleReader) }

type ctxKey struct{}

// WithContext returns ctx carrying id.
func WithContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the identity in ctx; ok is false if there is none.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok
}
