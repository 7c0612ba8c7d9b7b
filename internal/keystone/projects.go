package keystone

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/vland/vland/internal/store"
)

// Project errors.
var (
	ErrProjectNotFound = errors.New("keystone: project not found")
	ErrProjectExists   = errors.New("keystone: project already exists")
	ErrBadProject      = errors.New("keystone: invalid project")
)

// DefaultDomainID and DefaultDomainName name the only domain vland has.
const (
	DefaultDomainID   = "default"
	DefaultDomainName = "Default"
)

// Project is a Keystone project as the store keeps it (JSON at
// store.ProjectKey(ID)).
type Project struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DomainID    string `json:"domain_id"`
	Description string `json:"description"`
	Enabled     bool   `json:"enabled"`
}

// ProjectID is the id of the project called name: 32 hex digits (like
// Keystone's uuid4().hex) derived from the name. Deriving it makes the name
// unique across every server with one compare-and-create on the id's key,
// and keeps "admin"'s id the same across restarts and servers.
func ProjectID(name string) string {
	return derivedID("project", name)
}

// derivedID is a stable 32-hex-digit id for a named object of some kind.
func derivedID(kind, name string) string {
	sum := sha256.Sum256([]byte("vland/" + kind + "/" + DefaultDomainID + "/" + name))
	return hex.EncodeToString(sum[:16])
}

// projects reads and writes projects in the store.
type projects struct{ st store.Store }

// create stores a new project; ErrProjectExists if the name is taken.
func (p projects) create(ctx context.Context, name, description string) (Project, error) {
	if name == "" || len(name) > 64 {
		return Project{}, fmt.Errorf("%w: name must be 1 to 64 characters", ErrBadProject)
	}
	pr := Project{ID: ProjectID(name), Name: name, DomainID: DefaultDomainID, Description: description, Enabled: true}
	val, err := json.Marshal(pr)
	if err != nil {
		return Project{}, fmt.Errorf("keystone: encode project: %w", err)
	}
	key := store.ProjectKey(pr.ID)
	_, err = p.st.Txn(ctx, []store.Cond{{Key: key}}, []store.Op{{Key: key, Value: val}})
	if errors.Is(err, store.ErrConflict) {
		return Project{}, fmt.Errorf("%w: %q", ErrProjectExists, name)
	}
	if err != nil {
		return Project{}, fmt.Errorf("keystone: create project %q: %w", name, err)
	}
	return pr, nil
}

// ensure creates the project unless it exists (several servers starting at
// once all succeed, one of them creates it).
func (p projects) ensure(ctx context.Context, name string) (Project, error) {
	pr, err := p.create(ctx, name, "")
	if errors.Is(err, ErrProjectExists) {
		return p.get(ctx, ProjectID(name))
	}
	return pr, err
}

// get returns the project with id.
func (p projects) get(ctx context.Context, id string) (Project, error) {
	kv, err := p.st.Get(ctx, store.ProjectKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return Project{}, fmt.Errorf("%w: %s", ErrProjectNotFound, id)
	}
	if err != nil {
		return Project{}, fmt.Errorf("keystone: get project: %w", err)
	}
	var pr Project
	if err := json.Unmarshal(kv.Value, &pr); err != nil {
		return Project{}, fmt.Errorf("keystone: decode project %s: %w", id, err)
	}
	return pr, nil
}

// byName returns the project called name.
func (p projects) byName(ctx context.Context, name string) (Project, error) {
	pr, err := p.get(ctx, ProjectID(name))
	if err == nil && pr.Name != name {
		return Project{}, fmt.Errorf("%w: %s", ErrProjectNotFound, name)
	}
	return pr, err
}

// delete removes the project with id; ErrProjectNotFound if there is none.
func (p projects) delete(ctx context.Context, id string) error {
	key := store.ProjectKey(id)
	kv, err := p.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrProjectNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("keystone: get project: %w", err)
	}
	_, err = p.st.Txn(ctx, []store.Cond{{Key: key, ModRevision: kv.ModRevision}}, []store.Op{{Key: key, Delete: true}})
	if errors.Is(err, store.ErrConflict) { // deleted (or re-created) meanwhile
		return fmt.Errorf("%w: %s", ErrProjectNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("keystone: delete project %s: %w", id, err)
	}
	return nil
}

// list returns every project, sorted by name.
func (p projects) list(ctx context.Context) ([]Project, error) {
	kvs, _, err := p.st.List(ctx, store.ProjectsPrefix)
	if err != nil {
		return nil, fmt.Errorf("keystone: list projects: %w", err)
	}
	out := make([]Project, 0, len(kvs))
	for _, kv := range kvs {
		var pr Project
		if err := json.Unmarshal(kv.Value, &pr); err != nil {
			return nil, fmt.Errorf("keystone: decode project %s: %w", kv.Key, err)
		}
		out = append(out, pr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
