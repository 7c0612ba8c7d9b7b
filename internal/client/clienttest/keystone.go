package clienttest

import (
	"encoding/json"
	"net/http"
)

// keystone answers /v3/auth/tokens and /v3/projects for the admin user.
func (f *Fake) keystone(w http.ResponseWriter, r *http.Request, parts []string) {
	switch {
	case len(parts) == 2 && parts[0] == "auth" && parts[1] == "tokens" && r.Method == http.MethodPost:
		f.issueToken(w, r)
	case len(parts) >= 1 && parts[0] == "projects":
		if !f.tokens[r.Header.Get("X-Auth-Token")] {
			keystoneError(w, 401, "The request you have made requires authentication.")
			return
		}
		f.projectsAPI(w, r, parts[1:])
	default:
		keystoneError(w, 404, "The resource could not be found.")
	}
}

func (f *Fake) issueToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Auth struct {
			Identity struct {
				Password struct {
					User struct{ Name, Password string }
				}
			}
		}
	}
	_ = json.NewDecoder(r.Body).Decode(&in)
	u := in.Auth.Identity.Password.User
	if u.Name != AdminUser || u.Password != AdminPassword {
		keystoneError(w, 401, "The request you have made requires authentication.")
		return
	}
	tok := newID()
	f.tokens[tok] = true
	w.Header().Set("X-Subject-Token", tok)
	writeJSON(w, 201, object{"token": object{
		"expires_at": "2099-01-01T00:00:00.000000Z",
		"methods":    []string{"password"},
		"user":       object{"id": "admin-user-id", "name": AdminUser},
		"project":    object{"id": defaultProject, "name": "admin"},
		"roles":      []object{{"id": "r", "name": "admin"}},
		"catalog": []object{{"type": "network", "name": "neutron", "endpoints": []object{
			{"interface": "public", "url": f.URL, "region": "RegionOne", "region_id": "RegionOne"},
		}}},
	}})
}

func (f *Fake) projectsAPI(w http.ResponseWriter, r *http.Request, rest []string) {
	switch {
	case len(rest) == 1 && r.Method == http.MethodGet:
		p, ok := f.projects[rest[0]]
		if !ok {
			keystoneError(w, 404, "Could not find project: "+rest[0]+".")
			return
		}
		writeJSON(w, 200, object{"project": p})
	case r.Method == http.MethodGet:
		out := []object{}
		for _, p := range f.projects {
			if name := r.URL.Query().Get("name"); name == "" || p["name"] == name {
				out = append(out, p)
			}
		}
		writeJSON(w, 200, object{"projects": out})
	case r.Method == http.MethodPost:
		var in struct{ Project object }
		_ = json.NewDecoder(r.Body).Decode(&in)
		p := in.Project
		p["id"] = newID()
		f.projects[p["id"].(string)] = p
		writeJSON(w, 201, object{"project": p})
	}
}

func keystoneError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, object{"error": object{"code": status, "title": http.StatusText(status), "message": msg}})
}

// RevokeTokens forgets every token issued, as a token expiry would.
func (f *Fake) RevokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tokens)
}

// Count returns how many requests "METHOD /path" the fake received.
func (f *Fake) Count(methodPath string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Requests[methodPath]
}
