package lwserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/auth"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// newTestServer is a server whose in-process Handler sees every request as
// an admin (system:masters): these tests are about serving, not security.
func newTestServer(t testing.TB, cfg Config) (*Server, *dao.Store) {
	t.Helper()
	return newTestServerAuth(t, cfg, adminAuthenticator{})
}

// newTestServerAuth is newTestServer with authn (nil = the configured
// authentication: client certificates, tokens, anonymous).
func newTestServerAuth(t testing.TB, cfg Config, authn auth.Authenticator) (*Server, *dao.Store) {
	t.Helper()
	dir := t.TempDir()
	st, err := dao.Open(filepath.Join(dir, "edgecore.db"), dao.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(cfg, Deps{Mapper: kube.NewMapper(), Store: metaclient.New(st), Registry: prometheus.NewRegistry(),
		DataDir: dir, Authenticator: authn})
	if err != nil {
		t.Fatal(err)
	}
	st.SetSubscriber(s.Subscriber())
	return s, st
}

type adminAuthenticator struct{}

func (adminAuthenticator) AuthenticateRequest(*http.Request) (user.Info, bool, error) {
	return &user.DefaultInfo{Name: "test-admin", Groups: []string{auth.GroupMasters, auth.GroupAuthenticated}}, true, nil
}

func decodeStatus(t *testing.T, body []byte) metav1.Status {
	t.Helper()
	var s metav1.Status
	if err := json.Unmarshal(body, &s); err != nil || s.Kind != "Status" {
		t.Fatalf("not a Status (%v): %s", err, body)
	}
	return s
}

// TestPanicRecovery: a panic in a handler is a 500 Status and the server
// keeps serving.
func TestPanicRecovery(t *testing.T) {
	s, _ := newTestServer(t, DefaultConfig())
	h := Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			panic("boom")
		}
		w.WriteHeader(204)
	}), WithPanicRecovery(s.handler.WriteError), WithRequestInfo(s.handler.InfoFactory(), s.handler.WriteError))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Fatalf("code %d", resp.StatusCode)
	}
	st := decodeStatus(t, body)
	if st.Reason != metav1.StatusReasonInternalError || !strings.Contains(st.Message, "boom") {
		t.Fatalf("%+v", st)
	}
	resp, err = http.Get(srv.URL + "/ok")
	if err != nil || resp.StatusCode != 204 {
		t.Fatal(err, resp)
	}
}

func TestBodyLimitAndMetrics(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxRequestBodyBytes = 10
	s, st := newTestServer(t, cfg)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	// declared length over the limit
	resp, err := http.Post(srv.URL+"/api/v1/namespaces/default/pods", "application/json", strings.NewReader(strings.Repeat("x", 100)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("code %d %s", resp.StatusCode, body)
	}
	if s := decodeStatus(t, body); s.Reason != metav1.StatusReasonRequestEntityTooLarge {
		t.Fatalf("%+v", s)
	}
	// chunked body over the limit
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/namespaces/default/pods", io.MultiReader(strings.NewReader(strings.Repeat("y", 100))))
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = -1
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: code %d %s", resp.StatusCode, body)
	}

	_ = st.Update(context.Background(), func(tx dao.Tx) error {
		_, err := tx.Put(dao.PutRequest{Key: dao.Key{GVR: kube.CRDResource, Name: "x"}, Kind: "CustomResourceDefinition",
			Object: map[string]interface{}{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": map[string]interface{}{"name": "x"}}})
		return err
	})
	for _, p := range []string{"/api/v1/pods", "/api/v1/namespaces/x/pods/nope", "/api/v1/evil-" + strings.Repeat("z", 10)} {
		resp, err = http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err = http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`lwserver_requests_total{code="200",group="",resource="pods",verb="list",version="v1"} 1`,
		`lwserver_requests_total{code="404",group="",resource="pods",verb="get",version="v1"} 1`,
		`lwserver_requests_total{code="404",group="",resource="unknown",verb="list",version=""} 1`,
		`lwserver_requests_total{code="413",group="",resource="pods",verb="create",version="v1"} 2`,
		`lwserver_request_duration_seconds_bucket{group="",resource="pods",verb="list",version="v1",le="+Inf"} 1`,
		`lwserver_store_objects{group="apiextensions.k8s.io",resource="customresourcedefinitions",version="v1"} 1`,
		`lwserver_store_revision 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s\n%s", want, body)
		}
	}
}

func TestStartShutdown(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Address = "127.0.0.1:0"
	s, _ := newTestServerAuth(t, cfg, nil)
	if s.Name() != "lwserver" || s.Group() != "meta" || !s.Enable() {
		t.Fatal("module identity")
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Start(); close(done) }()
	resp, err := kubeconfigClient(t, s.KubeconfigPath()).Get("https://" + s.Addr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatal(resp.StatusCode, resp.Proto)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Start did not return")
	}
	select {
	case <-s.handler.Stopping():
	default:
		t.Fatal("handlers not told to stop")
	}
}

// kubeconfigClient is an HTTP client configured from a kubeconfig file as
// kubectl would be (HTTP/2 when the server offers it).
func kubeconfigClient(t testing.TB, path string) *http.Client {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
