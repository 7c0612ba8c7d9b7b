package neutron

import (
	"context"
	"net/http"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/service"
)

// QuotaAPI is what the quotas extension needs from the service.
type QuotaAPI interface {
	ListQuotas(ctx context.Context) ([]api.Quota, error)
	GetQuota(ctx context.Context, project string) (api.Quota, error)
	DefaultQuota(ctx context.Context, project string) (api.Quota, error)
	QuotaDetails(ctx context.Context, project string) (api.QuotaDetails, error)
	UpdateQuota(ctx context.Context, project string, r service.QuotaRequest) (api.Quota, error)
	DeleteQuota(ctx context.Context, project string) error
}

type quotaReq = service.QuotaRequest

// quotaAttrs are the limits PUT accepts (integers, or strings holding
// one, as convert_to_int).
var quotaAttrs = map[string]attr[quotaReq]{
	"network":    rw(bind(integer(false), func(r *quotaReq) *service.Opt[int] { return &r.Network })),
	"subnet":     rw(bind(integer(false), func(r *quotaReq) *service.Opt[int] { return &r.Subnet })),
	"port":       rw(bind(integer(false), func(r *quotaReq) *service.Opt[int] { return &r.Port })),
	"router":     rw(bind(integer(false), func(r *quotaReq) *service.Opt[int] { return &r.Router })),
	"floatingip": rw(bind(integer(false), func(r *quotaReq) *service.Opt[int] { return &r.FloatingIP })),

	"security_group":      rw(bind(integer(false), func(r *quotaReq) *service.Opt[int] { return &r.SecurityGroup })),
	"security_group_rule": rw(bind(integer(false), func(r *quotaReq) *service.Opt[int] { return &r.SecurityGroupRule })),
}

// registerQuotas mounts /v2.0/quotas (extensions quotas, quota_details).
// openstacksdk asks for the details as .../details.json.
func registerQuotas(mux *http.ServeMux, svc QuotaAPI) {
	one := func(get func(context.Context, string) (api.Quota, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			q, err := get(r.Context(), r.PathValue("project"))
			if err != nil {
				writeError(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"quota": q})
		}
	}
	details := func(w http.ResponseWriter, r *http.Request) {
		d, err := svc.QuotaDetails(r.Context(), r.PathValue("project"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"quota": d})
	}
	mux.HandleFunc("GET /v2.0/quotas", func(w http.ResponseWriter, r *http.Request) {
		qs, err := svc.ListQuotas(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"quotas": qs})
	})
	mux.HandleFunc("GET /v2.0/quotas/{project}", one(svc.GetQuota))
	mux.HandleFunc("GET /v2.0/quotas/{project}/default", one(svc.DefaultQuota))
	mux.HandleFunc("GET /v2.0/quotas/{project}/details", details)
	mux.HandleFunc("GET /v2.0/quotas/{project}/details.json", details)
	mux.HandleFunc("PUT /v2.0/quotas/{project}", func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		items, _, err := unwrap(body, "quota", "quotas", false)
		if err != nil {
			writeError(w, r, err)
			return
		}
		req, err := decodeAttrs(items[0], quotaAttrs, false)
		if err != nil {
			writeError(w, r, err)
			return
		}
		q, err := svc.UpdateQuota(r.Context(), r.PathValue("project"), req)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"quota": q})
	})
	mux.HandleFunc("DELETE /v2.0/quotas/{project}", func(w http.ResponseWriter, r *http.Request) {
		if err := svc.DeleteQuota(r.Context(), r.PathValue("project")); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
