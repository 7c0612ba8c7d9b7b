package keystone

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// caller verifies the request's X-Auth-Token, answering 401 if it is bad.
func (s *Service) caller(w http.ResponseWriter, r *http.Request) (Claims, bool) {
	c, err := s.signer.verify(r.Header.Get("X-Auth-Token"))
	if err != nil {
		writeErr(w, r, s, ErrUnauthorized)
		return Claims{}, false
	}
	return c, true
}

func (c Claims) isAdmin() bool { return slices.Contains(c.Roles, AdminRole) }

// visible reports whether the caller may see project p: admins see every
// project, others only the one their token is scoped to.
func (c Claims) visible(p Project) bool { return c.isAdmin() || p.ID == c.ProjectID }

// listProjects is GET /v3/projects[?name=N][&domain_id=D].
func (s *Service) listProjects(w http.ResponseWriter, r *http.Request) {
	c, ok := s.caller(w, r)
	if !ok {
		return
	}
	s.writeProjects(w, r, c)
}

// authProjects is GET /v3/auth/projects: the projects the caller's user can
// scope a token to.
func (s *Service) authProjects(w http.ResponseWriter, r *http.Request) {
	c, ok := s.caller(w, r)
	if !ok {
		return
	}
	s.writeProjects(w, r, c)
}

func (s *Service) writeProjects(w http.ResponseWriter, r *http.Request, c Claims) {
	all, err := s.projects.list(r.Context())
	if err != nil {
		writeErr(w, r, s, err)
		return
	}
	q := r.URL.Query()
	root := s.rootURL(r)
	out := []map[string]any{}
	for _, p := range all {
		if !c.visible(p) || (q.Has("name") && q.Get("name") != p.Name) ||
			(q.Has("domain_id") && q.Get("domain_id") != p.DomainID) {
			continue
		}
		out = append(out, projectDoc(p, root))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"projects": out,
		"links":    map[string]any{"self": root + r.URL.RequestURI(), "previous": nil, "next": nil},
	})
}

// getProject is GET /v3/projects/{id}. Clients try a name here first and
// fall back to listing with ?name= on 404. A project the caller may not
// see is not found, as a missing one: project ids derive from names, so
// a different answer would tell which names exist.
func (s *Service) getProject(w http.ResponseWriter, r *http.Request) {
	c, ok := s.caller(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	p, err := s.projects.get(r.Context(), id)
	if err == nil && !c.visible(p) {
		err = fmt.Errorf("%w: %s", ErrProjectNotFound, id)
	}
	if err != nil {
		writeErr(w, r, s, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"project": projectDoc(p, s.rootURL(r))})
}

// createProject is POST /v3/projects (admin only) -> 201.
func (s *Service) createProject(w http.ResponseWriter, r *http.Request) {
	c, ok := s.caller(w, r)
	if !ok {
		return
	}
	if !c.isAdmin() {
		writeErr(w, r, s, ErrForbidden)
		return
	}
	var req struct {
		Project struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			DomainID    string `json:"domain_id"`
		} `json:"project"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "Malformed project request: "+err.Error())
		return
	}
	if d := req.Project.DomainID; d != "" && d != DefaultDomainID {
		writeErr(w, r, s, errors.Join(ErrBadProject, errors.New("only the default domain exists")))
		return
	}
	p, err := s.projects.create(r.Context(), req.Project.Name, req.Project.Description)
	if err != nil {
		writeErr(w, r, s, err)
		return
	}
	s.log.Info("project created", "id", p.ID, "name", p.Name, "by", c.UserName)
	writeJSON(w, http.StatusCreated, map[string]any{"project": projectDoc(p, s.rootURL(r))})
}

// deleteProject is DELETE /v3/projects/{id} (admin only) -> 204. Like
// Keystone it does not cascade: the project's networks, subnets and ports
// stay (admins still see and can delete them). The bootstrap admin project
// cannot be deleted: the admin user and noauth requests act in it.
func (s *Service) deleteProject(w http.ResponseWriter, r *http.Request) {
	c, ok := s.caller(w, r)
	if !ok {
		return
	}
	if !c.isAdmin() {
		writeErr(w, r, s, ErrForbidden)
		return
	}
	id := r.PathValue("id")
	if id == s.admin.ID {
		writeError(w, http.StatusForbidden, "The bootstrap admin project cannot be deleted.")
		return
	}
	if err := s.projects.delete(r.Context(), id); err != nil {
		writeErr(w, r, s, err)
		return
	}
	s.log.Info("project deleted", "id", id, "by", c.UserName)
	w.WriteHeader(http.StatusNoContent)
}

// listDomains and getDomain show the one default domain, for clients that
// resolve --project-domain or --user-domain.
func (s *Service) listDomains(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.caller(w, r); !ok {
		return
	}
	ds := []map[string]any{}
	if n := r.URL.Query().Get("name"); n == "" || n == DefaultDomainName {
		ds = append(ds, domainDoc(s.rootURL(r)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"domains": ds})
}

func (s *Service) getDomain(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.caller(w, r); !ok {
		return
	}
	if id := r.PathValue("id"); id != DefaultDomainID {
		writeError(w, http.StatusNotFound, "Could not find domain: "+id+".")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"domain": domainDoc(s.rootURL(r))})
}

func domainDoc(root string) map[string]any {
	return map[string]any{
		"id": DefaultDomainID, "name": DefaultDomainName, "description": "The default domain",
		"enabled": true, "tags": []string{}, "options": map[string]any{},
		"links": map[string]string{"self": root + "/v3/domains/" + DefaultDomainID},
	}
}
