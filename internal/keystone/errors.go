package keystone

import (
	"encoding/json"
	"errors"
	"net/http"
)

// httpStatus maps the package's sentinel errors to HTTP status codes; any
// other error is a 500.
func httpStatus(err error) int {
	switch {
	case errors.Is(err, ErrUnauthorized), errors.Is(err, ErrInvalidToken):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrProjectNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrProjectExists):
		return http.StatusConflict
	case errors.Is(err, ErrBadProject):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// writeErr answers err in Keystone's error format. Internal errors are
// logged and not shown; 401s name the auth URL as Keystone does.
func writeErr(w http.ResponseWriter, r *http.Request, s *Service, err error) {
	code := httpStatus(err)
	msg := err.Error()
	switch code {
	case http.StatusInternalServerError:
		s.log.Error("identity request failed", "path", r.URL.Path, "err", err)
		msg = "An unexpected error prevented the server from fulfilling your request."
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Keystone uri="`+s.rootURL(r)+`/v3"`)
		msg = "The request you have made requires authentication."
	}
	writeError(w, code, msg)
}

// writeError writes {"error": {"code": ..., "message": ..., "title": ...}}.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{
		"code": code, "message": msg, "title": http.StatusText(code),
	}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}
