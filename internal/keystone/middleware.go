package keystone

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/identity"
)

// Mode is how the Neutron API learns who is calling.
type Mode string

const (
	// ModeKeystone requires a valid X-Auth-Token issued by this service.
	ModeKeystone Mode = "keystone"
	// ModeNoAuth trusts the X-Project-Id/X-Roles headers, as Neutron does
	// behind keystonemiddleware; a request without them acts as admin.
	ModeNoAuth Mode = "noauth"
)

// ErrMode reports an unknown auth mode.
var ErrMode = fmt.Errorf("keystone: auth mode must be %q or %q", ModeKeystone, ModeNoAuth)

// ParseMode parses "keystone" or "noauth".
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeKeystone, ModeNoAuth:
		return m, nil
	}
	return "", fmt.Errorf("%w, not %q", ErrMode, s)
}

// Middleware returns the auth middleware of mode (Authenticate or NoAuth).
func (s *Service) Middleware(mode Mode) func(http.Handler) http.Handler {
	if mode == ModeNoAuth {
		return s.NoAuth
	}
	return s.Authenticate
}

// public reports whether path is served without a token: the version
// documents ("/", "/v2.0") and the identity API, which checks tokens itself.
func public(path string) bool {
	return path == "/" || path == "/v2.0" || path == "/v2.0/" || path == "/v3" || strings.HasPrefix(path, "/v3/")
}

// Authenticate requires a valid X-Auth-Token on every non-public path and
// puts the token's identity.Identity into the request context; otherwise it
// answers 401 in Neutron's error format.
func (s *Service) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.Verify(r.Header.Get("X-Auth-Token"))
		if err == nil {
			next.ServeHTTP(w, r.WithContext(identity.WithContext(r.Context(), id)))
			return
		}
		if public(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Keystone uri="`+s.rootURL(r)+`/v3"`)
		writeNeutronUnauthorized(w)
	})
}

// NoAuth takes the caller from keystonemiddleware's headers: X-Project-Id
// (or X-Tenant-Id), X-Project-Name, X-User-Id, X-User-Name and X-Roles (a
// comma list; default "member" when a project is named). A request naming
// no project is the bootstrap admin on the "admin" project: that is what
// `openstack --os-auth-type none` sends (X-Auth-Token: notused). A valid
// vland token, when present, is honoured instead of the headers.
func (s *Service) NoAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.Verify(r.Header.Get("X-Auth-Token"))
		if err != nil {
			id = s.headerIdentity(r.Header)
		}
		next.ServeHTTP(w, r.WithContext(identity.WithContext(r.Context(), id)))
	})
}

func (s *Service) headerIdentity(h http.Header) identity.Identity {
	project := h.Get("X-Project-Id")
	if project == "" {
		project = h.Get("X-Tenant-Id")
	}
	if project == "" {
		return identity.Identity{
			UserID: UserID(AdminUser), UserName: AdminUser,
			ProjectID: s.admin.ID, ProjectName: s.admin.Name,
			Roles: []string{AdminRole, MemberRole, ReaderRole},
		}
	}
	id := identity.Identity{
		UserID: h.Get("X-User-Id"), UserName: h.Get("X-User-Name"),
		ProjectID: project, ProjectName: h.Get("X-Project-Name"),
		Roles: splitRoles(h.Get("X-Roles")),
	}
	if len(id.Roles) == 0 {
		id.Roles = []string{MemberRole}
	}
	if id.ProjectName == "" && project == s.admin.ID {
		id.ProjectName = s.admin.Name
	}
	return id
}

func splitRoles(s string) []string {
	var roles []string
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	return roles
}

func writeNeutronUnauthorized(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(api.ErrorBody{NeutronError: api.NeutronError{
		Type:    "HTTPUnauthorized",
		Message: "Authentication required: a valid X-Auth-Token is needed",
	}})
}
