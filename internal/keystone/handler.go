package keystone

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
)

// Routes mounts the Keystone v3 API (everything under /v3) on mux. None of
// it goes through the Neutron auth middleware: these handlers check tokens
// themselves.
func (s *Service) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v3", s.version)
	mux.HandleFunc("GET /v3/{$}", s.version)
	mux.HandleFunc("POST /v3/auth/tokens", s.createToken)
	mux.HandleFunc("GET /v3/auth/tokens", s.validateToken)
	mux.HandleFunc("HEAD /v3/auth/tokens", s.validateToken)
	mux.HandleFunc("GET /v3/auth/projects", s.authProjects)
	mux.HandleFunc("GET /v3/projects", s.listProjects)
	mux.HandleFunc("GET /v3/projects/{id}", s.getProject)
	mux.HandleFunc("POST /v3/projects", s.createProject)
	mux.HandleFunc("DELETE /v3/projects/{id}", s.deleteProject)
	mux.HandleFunc("GET /v3/domains", s.listDomains)
	mux.HandleFunc("GET /v3/domains/{id}", s.getDomain)
	mux.HandleFunc("/v3/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "The resource could not be found.")
	})
}

// Handler is the Keystone v3 API as a handler of its own (for mounting at
// "/v3" and "/v3/" on another router).
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Routes(mux)
	return mux
}

// version answers GET /v3 with the version document clients discover.
func (s *Service) version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": map[string]any{
		"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
		"links": []map[string]string{{"rel": "self", "href": s.rootURL(r) + "/v3/"}},
		"media-types": []map[string]string{{
			"base": "application/json", "type": "application/vnd.openstack.identity-v3+json",
		}},
	}})
}

// createToken is POST /v3/auth/tokens: password or token authentication,
// scoped to a project.
func (s *Service) createToken(w http.ResponseWriter, r *http.Request) {
	var req authRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "Malformed authentication request: "+err.Error())
		return
	}
	c, err := s.authenticate(r, &req)
	if err != nil {
		s.log.Info("authentication failed", "remote", r.RemoteAddr, "err", err)
		writeErr(w, r, s, err)
		return
	}
	tok, c, err := s.issue(s.users[c.UserName], Project{ID: c.ProjectID, Name: c.ProjectName}, c.Roles, c.Methods)
	if err != nil {
		writeErr(w, r, s, err)
		return
	}
	w.Header().Set("X-Subject-Token", tok)
	writeJSON(w, http.StatusCreated, s.tokenDoc(c, s.rootURL(r)))
}

// authenticate checks the identity of req and resolves its scope; the
// returned claims are not signed yet.
func (s *Service) authenticate(r *http.Request, req *authRequest) (Claims, error) {
	id := req.Auth.Identity
	var u User
	var method string
	switch {
	case slices.Contains(id.Methods, "password"):
		pu := id.Password.User
		if !pu.Domain.isDefault() {
			return Claims{}, ErrUnauthorized
		}
		var err error
		if u, err = s.checkPassword(pu.Name, pu.ID, pu.Password); err != nil {
			return Claims{}, err
		}
		method = "password"
	case slices.Contains(id.Methods, "token"):
		old, err := s.signer.verify(id.Token.ID)
		if err != nil {
			return Claims{}, ErrUnauthorized
		}
		var ok bool
		if u, ok = s.users[old.UserName]; !ok {
			return Claims{}, ErrUnauthorized
		}
		method = "token"
	default:
		return Claims{}, ErrUnauthorized
	}
	pid, pname, err := req.projectScope()
	if err != nil {
		return Claims{}, errors.Join(ErrUnauthorized, err)
	}
	pr, roles, err := s.scope(r.Context(), u, pid, pname)
	if err != nil {
		return Claims{}, err
	}
	return Claims{UserName: u.Name, ProjectID: pr.ID, ProjectName: pr.Name, Roles: roles, Methods: []string{method}}, nil
}

// validateToken is GET/HEAD /v3/auth/tokens: the caller (X-Auth-Token)
// checks X-Subject-Token; 404 if the subject is invalid or expired.
func (s *Service) validateToken(w http.ResponseWriter, r *http.Request) {
	caller, err := s.signer.verify(r.Header.Get("X-Auth-Token"))
	if err != nil {
		writeErr(w, r, s, ErrUnauthorized)
		return
	}
	subject, err := s.signer.verify(r.Header.Get("X-Subject-Token"))
	if err != nil {
		writeError(w, http.StatusNotFound, "Could not find token.")
		return
	}
	if caller.UserID != subject.UserID && !slices.Contains(caller.Roles, AdminRole) {
		writeErr(w, r, s, ErrForbidden)
		return
	}
	w.Header().Set("X-Subject-Token", r.Header.Get("X-Subject-Token"))
	writeJSON(w, http.StatusOK, s.tokenDoc(subject, s.rootURL(r)))
}
