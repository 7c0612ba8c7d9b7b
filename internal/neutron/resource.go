package neutron

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/service"
)

// resource serves one Neutron collection: T is the wire type, R the
// create/update request.
type resource[T, R any] struct {
	singular, plural string
	path             string // URL collection name when it is not plural
	attrs            map[string]attr[R]
	known            map[string]bool // filterable and sortable attributes
	create           func(context.Context, []R) ([]T, error)
	get              func(context.Context, string) (T, error)
	list             func(context.Context) ([]T, error)
	update           func(context.Context, string, R, int64) (T, error)
	remove           func(context.Context, string, int64) error
}

// register mounts the collection's routes under /v2.0.
func (res *resource[T, R]) register(mux *http.ServeMux) {
	base := "/v2.0/" + res.plural
	if res.path != "" {
		base = "/v2.0/" + res.path
	}
	mux.HandleFunc("GET "+base, res.handleList)
	mux.HandleFunc("GET "+base+"/{id}", res.handleGet)
	if res.create != nil {
		mux.HandleFunc("POST "+base, res.handleCreate)
		mux.HandleFunc("PUT "+base+"/{id}", res.handleUpdate)
		mux.HandleFunc("DELETE "+base+"/{id}", res.handleDelete)
	}
}

// hidden is what policy hides from this caller.
func (res *resource[T, R]) hidden(r *http.Request) []string {
	who, _ := identity.FromContext(r.Context())
	return service.Hidden(who, res.singular)
}

func (res *resource[T, R]) handleList(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query(), res.known)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items, err := res.list(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	hidden := res.hidden(r)
	objs := make([]object, 0, len(items))
	for i := range items {
		o, err := toObject(items[i], hidden)
		if err != nil {
			writeError(w, r, err)
			return
		}
		ok, err := q.match(o)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if ok {
			objs = append(objs, o)
		}
	}
	q.sort(objs)
	page, links, err := q.paginate(r, objs)
	if err != nil {
		writeError(w, r, err)
		return
	}
	for i := range page {
		page[i] = q.project(page[i])
	}
	body := map[string]any{res.plural: page}
	if len(links) > 0 {
		body[res.plural+"_links"] = links
	}
	writeJSON(w, http.StatusOK, body)
}

func (res *resource[T, R]) handleGet(w http.ResponseWriter, r *http.Request) {
	item, err := res.get(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	res.writeOne(w, r, http.StatusOK, item, r.URL.Query()["fields"])
}

func (res *resource[T, R]) writeOne(w http.ResponseWriter, r *http.Request, status int, item T, fields []string) {
	hidden := res.hidden(r)
	if len(fields) == 0 {
		// The common case (creates, updates, plain shows) skips the
		// generic map conversion.
		v, err := hide(item, hidden)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, status, map[string]any{res.singular: v})
		return
	}
	o, err := toObject(item, hidden)
	if err != nil {
		writeError(w, r, err)
		return
	}
	q := query{fields: fields}
	writeJSON(w, status, map[string]any{res.singular: q.project(o)})
}

func (res *resource[T, R]) handleCreate(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items, bulk, err := unwrap(body, res.singular, res.plural, true)
	if err != nil {
		writeError(w, r, err)
		return
	}
	reqs := make([]R, len(items))
	for i, it := range items {
		if reqs[i], err = decodeAttrs(it, res.attrs, true); err != nil {
			writeError(w, r, err)
			return
		}
	}
	created, err := res.create(r.Context(), reqs)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !bulk {
		res.writeOne(w, r, http.StatusCreated, created[0], nil)
		return
	}
	hidden := res.hidden(r)
	out := make([]object, len(created))
	for i := range created {
		if out[i], err = toObject(created[i], hidden); err != nil {
			writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusCreated, map[string]any{res.plural: out})
}

func (res *resource[T, R]) handleUpdate(w http.ResponseWriter, r *http.Request) {
	rev, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items, _, err := unwrap(body, res.singular, res.plural, false)
	if err != nil {
		writeError(w, r, err)
		return
	}
	req, err := decodeAttrs(items[0], res.attrs, false)
	if err != nil {
		writeError(w, r, err)
		return
	}
	item, err := res.update(r.Context(), r.PathValue("id"), req, rev)
	if err != nil {
		writeError(w, r, err)
		return
	}
	res.writeOne(w, r, http.StatusOK, item, nil)
}

func (res *resource[T, R]) handleDelete(w http.ResponseWriter, r *http.Request) {
	rev, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := res.remove(r.Context(), r.PathValue("id"), rev); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNoContent)
}

// ifMatch parses "If-Match: revision_number=N"; -1 when absent.
func ifMatch(r *http.Request) (int64, error) {
	h := r.Header.Get("If-Match")
	if h == "" {
		return -1, nil
	}
	for _, part := range strings.Split(h, ",") {
		v, ok := strings.CutPrefix(strings.TrimSpace(part), "revision_number=")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			break
		}
		return n, nil
	}
	return -1, badRequest(fmt.Sprintf("If-Match header must be of the form revision_number=N, not '%s'", h))
}
