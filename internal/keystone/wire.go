package keystone

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// Keystone's timestamp format ("2026-01-02T15:04:05.000000Z").
const timeFormat = "2006-01-02T15:04:05.000000Z"

// authRequest is the body of POST /v3/auth/tokens.
type authRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password struct {
				User struct {
					ID       string    `json:"id"`
					Name     string    `json:"name"`
					Password string    `json:"password"`
					Domain   domainRef `json:"domain"`
				} `json:"user"`
			} `json:"password"`
			Token struct {
				ID string `json:"id"`
			} `json:"token"`
		} `json:"identity"`
		// Scope is an object ({"project": ...}) or the string "unscoped".
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

type domainRef struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// isDefault reports whether d names the default domain (or nothing).
func (d domainRef) isDefault() bool {
	return (d.ID == "" || strings.EqualFold(d.ID, DefaultDomainID)) &&
		(d.Name == "" || strings.EqualFold(d.Name, DefaultDomainName))
}

type scopeRequest struct {
	Project *struct {
		ID     string    `json:"id"`
		Name   string    `json:"name"`
		Domain domainRef `json:"domain"`
	} `json:"project"`
	Domain *domainRef      `json:"domain"`
	System json.RawMessage `json:"system"`
}

var errUnsupportedScope = errors.New("keystone: only project scope is supported")

// projectScope returns the project id or name asked for ("", "" = none).
func (a *authRequest) projectScope() (id, name string, err error) {
	raw := a.Auth.Scope
	if len(raw) == 0 || raw[0] != '{' {
		return "", "", nil
	}
	var sc scopeRequest
	if err := json.Unmarshal(raw, &sc); err != nil {
		return "", "", err
	}
	if sc.Domain != nil || len(sc.System) > 0 {
		return "", "", errUnsupportedScope
	}
	if sc.Project == nil {
		return "", "", nil
	}
	if !sc.Project.Domain.isDefault() {
		return "", "", errUnsupportedScope
	}
	return sc.Project.ID, sc.Project.Name, nil
}

type idName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type ownedRef struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Domain idName `json:"domain"`
}

type tokenBody struct {
	Methods   []string       `json:"methods"`
	User      ownedRef       `json:"user"`
	Project   ownedRef       `json:"project"`
	Roles     []idName       `json:"roles"`
	AuditIDs  []string       `json:"audit_ids"`
	ExpiresAt string         `json:"expires_at"`
	IssuedAt  string         `json:"issued_at"`
	IsDomain  bool           `json:"is_domain"`
	Catalog   []catalogEntry `json:"catalog"`
}

type catalogEntry struct {
	ID        string     `json:"id"`
	Type      string     `json:"type"`
	Name      string     `json:"name"`
	Endpoints []endpoint `json:"endpoints"`
}

type endpoint struct {
	ID        string `json:"id"`
	Interface string `json:"interface"`
	Region    string `json:"region"`
	RegionID  string `json:"region_id"`
	URL       string `json:"url"`
}

var defaultDomain = idName{ID: DefaultDomainID, Name: DefaultDomainName}

// tokenDoc renders claims as Keystone's token body with a catalog whose
// network endpoint is root (unversioned) and identity endpoint root/v3.
func (s *Service) tokenDoc(c Claims, root string) map[string]tokenBody {
	roles := make([]idName, 0, len(c.Roles))
	for _, r := range c.Roles {
		roles = append(roles, idName{ID: RoleID(r), Name: r})
	}
	methods := c.Methods
	if len(methods) == 0 {
		methods = []string{"password"}
	}
	return map[string]tokenBody{"token": {
		Methods:   methods,
		User:      ownedRef{ID: c.UserID, Name: c.UserName, Domain: defaultDomain},
		Project:   ownedRef{ID: c.ProjectID, Name: c.ProjectName, Domain: defaultDomain},
		Roles:     roles,
		AuditIDs:  []string{c.AuditID},
		ExpiresAt: c.Expires().Format(timeFormat),
		IssuedAt:  c.Issued().Format(timeFormat),
		Catalog: []catalogEntry{
			s.catalogEntry("network", "neutron", root),
			s.catalogEntry("identity", "keystone", root+"/v3"),
		},
	}}
}

func (s *Service) catalogEntry(typ, name, url string) catalogEntry {
	e := catalogEntry{ID: derivedID("service", typ), Type: typ, Name: name}
	for _, iface := range []string{"public", "internal", "admin"} {
		e.Endpoints = append(e.Endpoints, endpoint{
			ID: derivedID("endpoint", typ+"/"+iface), Interface: iface,
			Region: s.cfg.Region, RegionID: s.cfg.Region, URL: url,
		})
	}
	return e
}

// rootURL is the unversioned URL clients reach this server at: the
// configured public URL, else scheme://Host of the request.
func (s *Service) rootURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

// projectDoc renders a project as Keystone does.
func projectDoc(p Project, root string) map[string]any {
	return map[string]any{
		"id": p.ID, "name": p.Name, "domain_id": p.DomainID, "description": p.Description,
		"enabled": p.Enabled, "is_domain": false, "parent_id": p.DomainID,
		"tags": []string{}, "options": map[string]any{},
		"links": map[string]string{"self": root + "/v3/projects/" + p.ID},
	}
}
