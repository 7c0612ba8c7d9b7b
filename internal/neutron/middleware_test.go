package neutron

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vland/vland/api"
)

func TestRecoverAnswersNeutron500(t *testing.T) {
	h := Chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), RequestID, Recover, LimitBody)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v2.0/networks", nil))
	var body api.ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 500 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if body.NeutronError.Type != "HTTPInternalServerError" || strings.Contains(body.NeutronError.Message, "boom") {
		t.Fatalf("error body leaks or is wrong: %+v", body)
	}
	if !strings.HasPrefix(rec.Header().Get(requestIDHeader), "req-") {
		t.Fatalf("no request id: %v", rec.Header())
	}
}

func TestIfMatch(t *testing.T) {
	for h, want := range map[string]int64{"": -1, "revision_number=3": 3, "x=1, revision_number=7": 7, "revision_number=x": -2, "*": -2} {
		r := httptest.NewRequest("PUT", "/", nil)
		if h != "" {
			r.Header.Set("If-Match", h)
		}
		got, err := ifMatch(r)
		if want == -2 {
			if err == nil {
				t.Errorf("%q: no error", h)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%q: %d %v, want %d", h, got, err, want)
		}
	}
}
