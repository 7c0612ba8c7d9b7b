package neutron

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/vland/vland/internal/fault"
)

// tagAPI is what the tag routes need from the service (standard-attr-tag).
type tagAPI interface {
	Tags(ctx context.Context, resource, id string) ([]string, error)
	HasTag(ctx context.Context, resource, id, tag string) error
	ReplaceTags(ctx context.Context, resource, id string, tags []string) ([]string, error)
	AddTag(ctx context.Context, resource, id, tag string) error
	RemoveTag(ctx context.Context, resource, id, tag string) error
}

// registerTags mounts Neutron's tag routes under each taggable collection:
//
//	GET    /v2.0/{plural}/{id}/tags        200 {"tags": [...]}
//	PUT    /v2.0/{plural}/{id}/tags        200 {"tags": [...]}, replaces all
//	DELETE /v2.0/{plural}/{id}/tags        204, removes all
//	GET    /v2.0/{plural}/{id}/tags/{tag}  204, or 404 TagNotFound
//	PUT    /v2.0/{plural}/{id}/tags/{tag}  201, adds one
//	DELETE /v2.0/{plural}/{id}/tags/{tag}  204, or 404 TagNotFound
func registerTags(mux *http.ServeMux, svc tagAPI, plurals ...string) {
	for _, plural := range plurals {
		base := "/v2.0/" + plural + "/{id}/tags"
		mux.HandleFunc("GET "+base, func(w http.ResponseWriter, r *http.Request) {
			tags, err := svc.Tags(r.Context(), plural, r.PathValue("id"))
			writeTags(w, r, tags, err)
		})
		mux.HandleFunc("PUT "+base, func(w http.ResponseWriter, r *http.Request) {
			tags, err := readTags(r)
			if err == nil {
				tags, err = svc.ReplaceTags(r.Context(), plural, r.PathValue("id"), tags)
			}
			writeTags(w, r, tags, err)
		})
		mux.HandleFunc("DELETE "+base, func(w http.ResponseWriter, r *http.Request) {
			_, err := svc.ReplaceTags(r.Context(), plural, r.PathValue("id"), nil)
			writeEmpty(w, r, http.StatusNoContent, err)
		})
		mux.HandleFunc("GET "+base+"/{tag}", func(w http.ResponseWriter, r *http.Request) {
			writeEmpty(w, r, http.StatusNoContent, svc.HasTag(r.Context(), plural, r.PathValue("id"), r.PathValue("tag")))
		})
		mux.HandleFunc("PUT "+base+"/{tag}", func(w http.ResponseWriter, r *http.Request) {
			writeEmpty(w, r, http.StatusCreated, svc.AddTag(r.Context(), plural, r.PathValue("id"), r.PathValue("tag")))
		})
		mux.HandleFunc("DELETE "+base+"/{tag}", func(w http.ResponseWriter, r *http.Request) {
			writeEmpty(w, r, http.StatusNoContent, svc.RemoveTag(r.Context(), plural, r.PathValue("id"), r.PathValue("tag")))
		})
	}
}

// readTags parses a {"tags": [...]} body (Neutron's validate_tags; the
// service checks lengths and duplicates).
func readTags(r *http.Request) ([]string, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	raw, ok := body["tags"]
	if !ok {
		return nil, fault.InvalidInput("Invalid tags body")
	}
	var items []any
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		return nil, fault.InvalidInput("'%s' is not a list", shown(raw))
	}
	tags := make([]string, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, fault.InvalidInput("'%v' is not a valid string", it)
		}
		tags[i] = s
	}
	return tags, nil
}

func writeTags(w http.ResponseWriter, r *http.Request, tags []string, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tags": tags})
}

func writeEmpty(w http.ResponseWriter, r *http.Request, status int, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
}

// tagFilters are the list filters on tags; each takes comma-separated
// tags, and repeating a filter adds to its tags.
var tagFilters = map[string]bool{"tags": true, "tags-any": true, "not-tags": true, "not-tags-any": true}

// matchTags applies one tag filter to an object's tags: tags (has all),
// tags-any (has one), not-tags (lacks one), not-tags-any (has none).
func matchTags(filter string, have any, values []string) bool {
	list, _ := have.([]any)
	has := func(t string) bool { return slices.Contains(list, any(t)) }
	var want []string
	for _, v := range values {
		want = append(want, strings.Split(v, ",")...)
	}
	all, anyOf := !slices.ContainsFunc(want, func(t string) bool { return !has(t) }), slices.ContainsFunc(want, has)
	switch filter {
	case "tags":
		return all
	case "tags-any":
		return anyOf
	case "not-tags":
		return !all
	default: // not-tags-any
		return !anyOf
	}
}
