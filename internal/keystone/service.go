// Package keystone is vland's small Keystone v3: password and token
// authentication, stateless HMAC-signed tokens every server accepts,
// projects kept in the store, and the HTTP middleware that turns a request's
// token (or, in noauth mode, its X-Project-Id/X-Roles headers) into an
// identity.Identity for the Neutron API.
package keystone

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// Authentication errors.
var (
	ErrUnauthorized = errors.New("keystone: the request you have made requires authentication")
	ErrForbidden    = errors.New("keystone: forbidden")
)

// Service authenticates users, issues and verifies tokens and manages
// projects. It is safe for concurrent use.
type Service struct {
	cfg      Config
	projects projects
	signer   signer
	users    map[string]User // by name
	userIDs  map[string]string
	admin    Project
	log      *slog.Logger
}

// New builds the service on st: it loads (or creates) the shared token
// secret and ensures the admin project and every project of cfg exist.
func New(ctx context.Context, st store.Store, cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	key, err := sharedSecret(ctx, st)
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg:      cfg,
		projects: projects{st: st},
		signer:   signer{key: key, now: time.Now},
		users:    map[string]User{},
		userIDs:  map[string]string{},
		log:      slog.Default(),
	}
	if cfg.Logger != nil {
		s.log = cfg.Logger
	}
	s.log = s.log.With("component", "keystone")
	for _, u := range cfg.allUsers() {
		s.users[u.Name] = u
		s.userIDs[UserID(u.Name)] = u.Name
	}
	for _, name := range cfg.projectNames() {
		pr, err := s.projects.ensure(ctx, name)
		if err != nil {
			return nil, err
		}
		if name == AdminProject {
			s.admin = pr
		}
	}
	return s, nil
}

// UserID is the stable id of the configured user called name.
func UserID(name string) string { return derivedID("user", name) }

// RoleID is the stable id of the role called name.
func RoleID(name string) string { return derivedID("role", name) }

// AdminProjectID is the id of the bootstrap "admin" project (the project of
// noauth requests that name none).
func (s *Service) AdminProjectID() string { return s.admin.ID }

// Verify checks tok and returns the identity it carries.
func (s *Service) Verify(tok string) (identity.Identity, error) {
	c, err := s.signer.verify(tok)
	if err != nil {
		return identity.Identity{}, err
	}
	return c.identity(), nil
}

func (c Claims) identity() identity.Identity {
	return identity.Identity{
		UserID: c.UserID, UserName: c.UserName,
		ProjectID: c.ProjectID, ProjectName: c.ProjectName,
		Roles: slices.Clone(c.Roles),
	}
}

// checkPassword returns the user called name (or with id) if password
// matches; ErrUnauthorized otherwise, in constant time per candidate.
func (s *Service) checkPassword(name, id, password string) (User, error) {
	if name == "" {
		name = s.userIDs[id]
	}
	u, ok := s.users[name]
	want := sha256.Sum256([]byte(u.Password))
	got := sha256.Sum256([]byte(password))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 || !ok {
		return User{}, ErrUnauthorized
	}
	return u, nil
}

// scope returns the project u may scope to, given by id or name; empty
// means u's own project. Admins may scope to any project, others only to
// their own.
func (s *Service) scope(ctx context.Context, u User, projectID, projectName string) (Project, []string, error) {
	var pr Project
	var err error
	switch {
	case projectID != "":
		pr, err = s.projects.get(ctx, projectID)
	case projectName != "":
		pr, err = s.projects.byName(ctx, projectName)
	default:
		pr, err = s.projects.byName(ctx, u.Project)
	}
	if errors.Is(err, ErrProjectNotFound) {
		return Project{}, nil, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	if err != nil {
		return Project{}, nil, err
	}
	if pr.Name != u.Project && !slices.Contains(u.Roles, AdminRole) {
		return Project{}, nil, fmt.Errorf("%w: user %s has no role on project %s", ErrUnauthorized, u.Name, pr.Name)
	}
	return pr, u.Roles, nil
}

// issue signs a token for u scoped to pr.
func (s *Service) issue(u User, pr Project, roles, methods []string) (string, Claims, error) {
	now := s.signer.now()
	return s.signer.issue(Claims{
		UserID: UserID(u.Name), UserName: u.Name,
		ProjectID: pr.ID, ProjectName: pr.Name,
		Roles: roles, Methods: methods,
		IssuedAt: now.Unix(), ExpiresAt: now.Add(s.cfg.TokenTTL).Unix(),
	})
}

// Project returns the project with id.
func (s *Service) Project(ctx context.Context, id string) (Project, error) {
	return s.projects.get(ctx, id)
}

// ProjectByName returns the project called name.
func (s *Service) ProjectByName(ctx context.Context, name string) (Project, error) {
	return s.projects.byName(ctx, name)
}

// Projects lists every project, sorted by name.
func (s *Service) Projects(ctx context.Context) ([]Project, error) {
	return s.projects.list(ctx)
}

// CreateProject creates a project; ErrProjectExists if the name is taken.
func (s *Service) CreateProject(ctx context.Context, name, description string) (Project, error) {
	return s.projects.create(ctx, name, description)
}
