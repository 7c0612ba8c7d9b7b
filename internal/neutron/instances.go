package neutron

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/vland/vland/api"
)

// instanceAPI is the admin-only instance records API (not Neutron's: the
// compute layer's stand-in for Nova, see docs/metadata.md).
type instanceAPI interface {
	CreateInstance(ctx context.Context, in api.Instance) (api.Instance, error)
	GetInstance(ctx context.Context, id string) (api.Instance, error)
	ListInstances(ctx context.Context) ([]api.Instance, error)
	DeleteInstance(ctx context.Context, id string) error
}

// registerInstances mounts /vland/instances.
func registerInstances(mux *http.ServeMux, svc instanceAPI) {
	mux.HandleFunc("POST /vland/instances", func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		var in api.Instance
		dec := json.NewDecoder(bytes.NewReader(body["instance"]))
		dec.DisallowUnknownFields()
		if raw, ok := body["instance"]; !ok || len(raw) == 0 || dec.Decode(&in) != nil {
			writeError(w, r, badRequest("Invalid input: an 'instance' object with id, name, hostname, project_id, availability_zone, user_data (base64), meta is required."))
			return
		}
		out, err := svc.CreateInstance(r.Context(), in)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"instance": out})
	})
	mux.HandleFunc("GET /vland/instances", func(w http.ResponseWriter, r *http.Request) {
		out, err := svc.ListInstances(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"instances": out})
	})
	mux.HandleFunc("GET /vland/instances/{id}", func(w http.ResponseWriter, r *http.Request) {
		out, err := svc.GetInstance(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"instance": out})
	})
	mux.HandleFunc("DELETE /vland/instances/{id}", func(w http.ResponseWriter, r *http.Request) {
		if err := svc.DeleteInstance(r.Context(), r.PathValue("id")); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
