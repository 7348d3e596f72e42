package lwserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// FuzzRequest drives the whole handler chain with hostile methods, paths,
// query strings and Accept headers: whatever comes in, the server answers
// with a proper response — never a 500, never an error without a Status body.
func FuzzRequest(f *testing.F) {
	seeds := []struct{ method, path, query, accept string }{
		{"GET", "/api/v1/namespaces/default/pods/p1", "", "application/json"},
		{"GET", "/api/v1/pods", "labelSelector=app%3Dweb&limit=1", ""},
		{"GET", "/api/v1/pods", "fieldSelector=spec.nodeName%3Dedge-1", "application/vnd.kubernetes.protobuf"},
		{"GET", "/api/v1/pods", "continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiJkZWZhdWx0L3AxXHUwMDAwIn0", ""},
		{"GET", "/api/v1/pods", "", "application/json;as=Table;v=v1;g=meta.k8s.io"},
		{"GET", "/api/v1/pods", "resourceVersion=99999&resourceVersionMatch=Exact", ""},
		{"GET", "/api/v1/pods", "watch=true&resourceVersion=0", ""},
		{"GET", "/apis/apps/v1/namespaces/x/deployments", "", "application/yaml"},
		{"GET", "/apis", "", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"},
		{"POST", "/api/v1/namespaces/default/pods", "", ""},
		{"DELETE", "/api/v1/namespaces/default/pods/p1", "", ""},
		{"GET", "/api/v1/namespaces/../../etc/passwd", "", ""},
		{"GET", "/api/v1/namespaces/default/pods/%00", "limit=-1", "*/*"},
		{"GET", "/apis/devices.kubeedge.io/v1/devices", "", ""},
		{"GET", "/version", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.accept)
	}
	s, st := newTestServer(f, DefaultConfig())
	seedPods(f, st)
	handler := s.Handler()

	f.Fuzz(func(t *testing.T, method, path, query, accept string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, "http://edgecore"+path, nil)
		if err != nil {
			return // not an HTTP request a client could send
		}
		req.URL.RawQuery = query
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			handler.ServeHTTP(rec, req.WithContext(ctx))
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			// A request whose client has gone must end: a stuck handler
			// holds a goroutine (and maybe a watcher slot) forever.
			t.Fatalf("%s %s?%s (Accept %q): handler still running 5 s after its context ended", method, path, query, accept)
		}

		if rec.Code >= 500 && rec.Code != http.StatusGatewayTimeout {
			t.Fatalf("%s %s?%s (Accept %q): %d %s", method, path, query, accept, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			var status struct{ Kind string }
			if err := json.Unmarshal(rec.Body.Bytes(), &status); err != nil || status.Kind != "Status" {
				t.Fatalf("%s %s?%s: %d without a Status body: %q", method, path, query, rec.Code, rec.Body.String())
			}
		}
		if rec.Code >= 400 && rec.Body.Len() == 0 {
			t.Fatalf("%s %s?%s: %d with an empty body", method, path, query, rec.Code)
		}
	})
}

func seedPods(t testing.TB, st *dao.Store) {
	t.Helper()
	pods := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	for _, name := range []string{"p1", "p2", "p3"} {
		err := st.Update(context.Background(), func(tx dao.Tx) error {
			_, err := tx.Put(dao.PutRequest{
				Key:  dao.Key{GVR: pods, Namespace: "default", Name: name},
				Kind: "Pod",
				Object: map[string]interface{}{
					"apiVersion": "v1", "kind": "Pod",
					"metadata": map[string]interface{}{"name": name, "namespace": "default", "labels": map[string]interface{}{"app": "web"}},
					"spec":     map[string]interface{}{"nodeName": "edge-1"},
				},
				Labels: map[string]string{"app": "web"},
				Fields: map[string]string{"metadata.name": name, "metadata.namespace": "default", "spec.nodeName": "edge-1"},
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
