package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// fakeWrites records the forwarded request and answers as told.
type fakeWrites struct {
	online bool
	got    ForwardRequest
	out    ForwardResult
	err    error
}

func (f *fakeWrites) Online() bool { return f.online }

func (f *fakeWrites) Forward(_ context.Context, req ForwardRequest) (ForwardResult, error) {
	f.got = req
	return f.out, f.err
}

// TestForwardWrite: offline → 503 with Retry-After; online → the uplink's
// code and body (YAML bodies converted to JSON, the caller's token passed
// on); a local API status is sent as is; a transport failure is a 503.
func TestForwardWrite(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	cmJSON := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"ns","resourceVersion":"7"}}`
	cases := []struct {
		name       string
		fw         *fakeWrites
		method     string
		path, ct   string
		body       string
		wantCode   int
		wantBody   string
		wantHeader [2]string
	}{
		{"offline", &fakeWrites{}, http.MethodPost, "/api/v1/namespaces/ns/configmaps", "application/json", `{}`,
			503, `"reason":"ServiceUnavailable"`, [2]string{"Retry-After", "5"}},
		{"created", &fakeWrites{online: true, out: ForwardResult{Code: 201, Body: []byte(cmJSON)}}, http.MethodPost,
			"/api/v1/namespaces/ns/configmaps", "application/yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
			201, `"resourceVersion":"7"`, [2]string{}},
		{"status patch", &fakeWrites{online: true, out: ForwardResult{Code: 200, Body: []byte(cmJSON)}}, http.MethodPatch,
			"/api/v1/namespaces/ns/pods/p/status", "application/merge-patch+json", `{"status":{}}`,
			200, `"kind":"ConfigMap"`, [2]string{}},
		{"local conflict", &fakeWrites{online: true, err: apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "c", errors.New("stale"))},
			http.MethodPut, "/api/v1/namespaces/ns/configmaps/c", "application/json", cmJSON, 409, `"reason":"Conflict"`, [2]string{}},
		{"cloud unreachable", &fakeWrites{online: true, err: errors.New("dial tcp: connection refused")},
			http.MethodDelete, "/api/v1/namespaces/ns/configmaps/c", "", "", 503, "connection refused", [2]string{"Retry-After", "5"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.h.writes = tc.fw
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			r.Header.Set("Authorization", "Bearer tok")
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			if w.Code != tc.wantCode {
				t.Fatalf("code %d, want %d: %s", w.Code, tc.wantCode, w.Body)
			}
			mustContain(t, w.Body.String(), tc.wantBody)
			if tc.wantHeader[0] != "" && w.Header().Get(tc.wantHeader[0]) != tc.wantHeader[1] {
				t.Fatalf("%s = %q, want %q", tc.wantHeader[0], w.Header().Get(tc.wantHeader[0]), tc.wantHeader[1])
			}
			if tc.fw.online && tc.fw.got.BearerToken != "tok" {
				t.Fatalf("forwarded token %q", tc.fw.got.BearerToken)
			}
		})
	}
	fw := &fakeWrites{online: true, out: ForwardResult{Code: 201, Body: []byte(cmJSON)}}
	e.h.writes = fw
	r := httptest.NewRequest(http.MethodPost, "/api/v1/namespaces/ns/configmaps", strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"))
	r.Header.Set("Content-Type", "application/yaml")
	e.h.ServeHTTP(httptest.NewRecorder(), r)
	if fw.got.ContentType != MediaTypeJSON || !strings.HasPrefix(string(fw.got.Body), "{") || fw.got.Namespace != "ns" {
		t.Fatalf("YAML create forwarded as %+v", fw.got)
	}
}
