package keystone

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

func testConfig() Config {
	return Config{
		AdminPassword: "secret",
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Projects:      []string{"demo"},
		Users: []User{
			{Name: "alice", Password: "alicepw", Project: "projectA"},
			{Name: "rita", Password: "ritapw", Project: "projectA", Roles: []string{"reader"}},
			{Name: "root2", Password: "rootpw", Project: "demo", Roles: []string{"admin"}},
		},
	}
}

func newService(t *testing.T, st store.Store, cfg Config) *Service {
	t.Helper()
	s, err := New(context.Background(), st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestServersShareSecretAndProjects(t *testing.T) {
	st := memstore.New()
	a := newService(t, st, testConfig())
	b := newService(t, st, testConfig()) // a second server on the same store
	if a.AdminProjectID() != b.AdminProjectID() || len(a.AdminProjectID()) != 32 {
		t.Fatalf("admin project ids %q vs %q", a.AdminProjectID(), b.AdminProjectID())
	}
	u, _ := a.checkPassword("alice", "", "alicepw")
	pr, roles, err := a.scope(context.Background(), u, "", "")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.issue(u, pr, roles, []string{"password"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := b.Verify(tok)
	if err != nil {
		t.Fatalf("server b rejects server a's token: %v", err)
	}
	if id.UserName != "alice" || id.ProjectName != "projectA" || id.ProjectID != ProjectID("projectA") || id.IsAdmin() {
		t.Fatalf("identity = %+v", id)
	}
	ps, err := b.Projects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if got, _ := json.Marshal(names); string(got) != `["admin","demo","projectA"]` {
		t.Fatalf("projects = %s", got)
	}
	// A store with another secret (another deployment) rejects the token.
	if _, err := newService(t, memstore.New(), testConfig()).Verify(tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("foreign server accepted token: %v", err)
	}
}

func TestPasswordAndScopeRules(t *testing.T) {
	s := newService(t, memstore.New(), testConfig())
	ctx := context.Background()
	for _, c := range []struct{ name, id, pw string }{
		{"alice", "", "wrong"}, {"nobody", "", ""}, {"nobody", "", "x"}, {"", "", ""}, {"", UserID("alice"), "x"},
	} {
		if _, err := s.checkPassword(c.name, c.id, c.pw); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("checkPassword(%q,%q,%q) = %v, want ErrUnauthorized", c.name, c.id, c.pw, err)
		}
	}
	alice, err := s.checkPassword("", UserID("alice"), "alicepw")
	if err != nil {
		t.Fatalf("login by id: %v", err)
	}
	if _, _, err := s.scope(ctx, alice, "", "demo"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("alice scoped to demo: %v", err)
	}
	if _, _, err := s.scope(ctx, alice, "", "nosuch"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("alice scoped to a missing project: %v", err)
	}
	root2, _ := s.checkPassword("root2", "", "rootpw")
	if p, _, err := s.scope(ctx, root2, ProjectID("projectA"), ""); err != nil || p.Name != "projectA" {
		t.Errorf("an admin scoping to any project: %v %v", p, err)
	}
	if _, err := s.CreateProject(ctx, "demo", ""); !errors.Is(err, ErrProjectExists) {
		t.Errorf("duplicate project: %v", err)
	}
	if _, err := s.CreateProject(ctx, "", ""); !errors.Is(err, ErrBadProject) {
		t.Errorf("empty project name: %v", err)
	}
}

// TestConcurrentStartAgreesOnSecret: servers starting at the same time on
// one store all end up with the one secret and project set that won.
func TestConcurrentStartAgreesOnSecret(t *testing.T) {
	st := memstore.New()
	const n = 8
	svcs := make([]*Service, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			s, err := New(context.Background(), st, testConfig())
			svcs[i] = s
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	u, _ := svcs[0].checkPassword("admin", "", "secret")
	pr, roles, _ := svcs[0].scope(context.Background(), u, "", "")
	tok, _, err := svcs[0].issue(u, pr, roles, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range svcs {
		if _, err := s.Verify(tok); err != nil {
			t.Fatalf("server %d rejects server 0's token: %v", i, err)
		}
	}
	if ps, _ := svcs[n-1].Projects(context.Background()); len(ps) != 3 {
		t.Fatalf("%d projects after concurrent start, want 3", len(ps))
	}
}
