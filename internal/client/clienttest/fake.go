// Package clienttest is a small in-memory stand-in for vland's API (Neutron
// v2.0 networks, subnets, ports, agents, plus a Keystone v3 with one admin
// user) for tests of the client that must not depend on the real server.
// It keeps objects as JSON maps and implements only what a client can
// observe: IDs, defaults, name filters, IP allocation, 404 and 409 answers.
package clienttest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
)

type object = map[string]any

// Fake is the fake server. Its zero value is not usable; call New.
type Fake struct {
	*httptest.Server

	// Requests counts requests by "METHOD /path".
	mu       sync.Mutex
	Requests map[string]int
	colls    map[string]map[string]object // plural -> id -> object
	projects map[string]object
	tokens   map[string]bool
}

// Admin credentials the fake Keystone accepts.
const (
	AdminUser     = "admin"
	AdminPassword = "secret"
)

// New starts a fake on 127.0.0.1 and stops it when the test ends.
func New(t interface{ Cleanup(func()) }) *Fake {
	f := &Fake{
		Requests: map[string]int{},
		colls:    map[string]map[string]object{"networks": {}, "subnets": {}, "ports": {}, "agents": {}},
		projects: map[string]object{},
		tokens:   map[string]bool{},
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// AddAgent registers a host agent as `agent list` shows it.
func (f *Fake) AddAgent(host string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := newID()
	f.colls["agents"][id] = object{"id": id, "host": host, "agent_type": "Open vSwitch agent",
		"binary": "vland-agent", "alive": true, "admin_state_up": true}
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Requests[r.Method+" "+r.URL.Path]++
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case parts[0] == "v3":
		f.keystone(w, r, parts[1:])
	case parts[0] == "v2.0" && len(parts) >= 2 && f.colls[parts[1]] != nil:
		if !f.authorized(r) {
			writeJSON(w, 401, object{"error": object{"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}})
			return
		}
		f.neutron(w, r, parts[1], parts[2:])
	default:
		neutronError(w, 404, "HTTPNotFound", "The resource could not be found.")
	}
}

// authorized accepts no token (no-auth mode) or a token the fake issued.
func (f *Fake) authorized(r *http.Request) bool {
	tok := r.Header.Get("X-Auth-Token")
	return tok == "" || f.tokens[tok]
}

func (f *Fake) neutron(w http.ResponseWriter, r *http.Request, coll string, rest []string) {
	single := strings.TrimSuffix(coll, "s")
	if len(rest) == 0 {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, 200, object{coll: f.list(coll, r)})
		case http.MethodPost:
			body, ok := decode(w, r, single)
			if !ok {
				return
			}
			obj, status, err := f.create(coll, body)
			if err != nil {
				neutronError(w, status, "BadRequest", err.Error())
				return
			}
			writeJSON(w, 201, object{single: obj})
		}
		return
	}
	obj, ok := f.colls[coll][rest[0]]
	if !ok {
		neutronError(w, 404, strings.ToUpper(single[:1])+single[1:]+"NotFound",
			fmt.Sprintf("%s %s could not be found.", single, rest[0]))
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, 200, object{single: obj})
	case http.MethodPut:
		body, ok := decode(w, r, single)
		if !ok {
			return
		}
		for k, v := range body {
			obj[k] = v
		}
		writeJSON(w, 200, object{single: obj})
	case http.MethodDelete:
		if status, err := f.delete(coll, obj); err != nil {
			neutronError(w, status, "Conflict", err.Error())
			return
		}
		w.WriteHeader(204)
	}
}

// list filters on every query parameter by its string value.
func (f *Fake) list(coll string, r *http.Request) []object {
	out := []object{}
	for _, o := range f.colls[coll] {
		match := true
		for k, vs := range r.URL.Query() {
			if k != "fields" && fmt.Sprint(o[k]) != vs[0] {
				match = false
			}
		}
		if match {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]["id"]) < fmt.Sprint(out[j]["id"]) })
	return out
}

func decode(w http.ResponseWriter, r *http.Request, single string) (object, bool) {
	var in map[string]object
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in[single] == nil {
		neutronError(w, 400, "BadRequest", "Failed to parse request. Required attribute '"+single+"' not specified")
		return nil, false
	}
	return in[single], true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func neutronError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, object{"NeutronError": object{"type": typ, "message": msg, "detail": ""}})
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// SetPortStatus changes a port's status, as a host agent's report would.
func (f *Fake) SetPortStatus(id, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.colls["ports"][id]; ok {
		p["status"] = status
	}
}
