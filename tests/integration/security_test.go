package integration

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/pki"
)

// securityFixture: edgecore verifying the test cluster's tokens, with pod
// team/web (ServiceAccount app), a configmap and a secret in team.
func securityFixture(t *testing.T, extraConfig string) (*Edgecore, *saCluster) {
	t.Helper()
	c := newSACluster(t)
	e := startAPI(t, Options{Config: c.config(extraConfig)})
	MustOK(t, e.Inject(
		podMsg("insert", "team", "web", nil, "Running"),
		Msg("insert", "team/configmap/settings", map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "settings", "namespace": "team", "uid": "cm-uid"}, "data": map[string]any{"a": "1"}}),
		Msg("insert", "team/secret/db", map[string]any{"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": "db", "namespace": "team", "uid": "s-uid"}, "data": map[string]any{"password": "c2VjcmV0"}}),
	))
	return e, c
}

// TestSecurityInClusterClient: a client configured as rest.InClusterConfig()
// configures one, with its pod's projected token: 403 with kube's wording
// until a RoleBinding arrives through `edgecore inject`, then it lists pods
// (no restart), still gets 403 for Secrets, and runs a SharedInformer
// factory whose informers share one HTTP/2 connection.
func TestSecurityInClusterClient(t *testing.T) {
	e, c := securityFixture(t, "")
	cfg := inClusterConfig(t, e, c.podToken(t, "team", "app", "web", nil))
	var dials atomic.Int32
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	protos := &protoLog{}
	cfg.Wrap(protos.wrap)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()

	const podsDenied = `pods is forbidden: User "system:serviceaccount:team:app" cannot list resource "pods" in API group "" in the namespace "team"`
	_, err := cs.CoreV1().Pods("team").List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) || err.Error() != podsDenied {
		t.Fatalf("before any RoleBinding: %v\nwant 403 %q", err, podsDenied)
	}
	injectCLI(t, e, podReaderBinding("team", "app")...)
	var pods *corev1.PodList
	waitFor(t, 5*time.Second, "the RoleBinding to take effect", func() bool {
		pods, err = cs.CoreV1().Pods("team").List(ctx, metav1.ListOptions{})
		return err == nil
	})
	if len(pods.Items) != 1 || pods.Items[0].Name != "web" {
		t.Fatalf("pods: %+v", pods.Items)
	}
	_, err = cs.CoreV1().Secrets("team").List(ctx, metav1.ListOptions{})
	const secretsDenied = `secrets is forbidden: User "system:serviceaccount:team:app" cannot list resource "secrets" in API group "" in the namespace "team"`
	if !apierrors.IsForbidden(err) || err.Error() != secretsDenied {
		t.Fatalf("secrets: %v\nwant 403 %q", err, secretsDenied)
	}
	_, err = cs.CoreV1().Pods("other").List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("pods of another namespace: %v", err)
	}

	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace("team"))
	podInf, cmInf := factory.Core().V1().Pods().Informer(), factory.Core().V1().ConfigMaps().Informer()
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, podInf.HasSynced, cmInf.HasSynced) {
		t.Fatal("informers did not sync")
	}
	MustOK(t, e.Inject(podMsg("insert", "team", "api", nil, "Running"),
		Msg("insert", "team/configmap/more", map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "more", "namespace": "team"}})))
	waitFor(t, 10*time.Second, "both informers to see the new objects", func() bool {
		_, podOK, _ := podInf.GetStore().GetByKey("team/api")
		_, cmOK, _ := cmInf.GetStore().GetByKey("team/more")
		return podOK && cmOK
	})
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections dialed; an HTTP/2 client shares one", n)
	}
	if p := protos.all(); len(p) != 1 || p[0] != "HTTP/2.0" {
		t.Errorf("protocols used: %v, want HTTP/2.0 only", p)
	}
}

// protoLog records the protocol of every response a client got.
type protoLog struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (p *protoLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		if err == nil {
			p.mu.Lock()
			if p.seen == nil {
				p.seen = map[string]bool{}
			}
			p.seen[resp.Proto] = true
			p.mu.Unlock()
		}
		return resp, err
	})
}

func (p *protoLog) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for k := range p.seen {
		out = append(out, k)
	}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestSecurityUnauthorized: bad credentials get kube-apiserver's 401 Status
// (never anonymous): an expired token, one signed by another key, a wrong
// audience, a wrong issuer, the token of a deleted pod, garbage; and a
// client certificate from another CA.
func TestSecurityUnauthorized(t *testing.T) {
	e, c := securityFixture(t, "")
	injectCLI(t, e, podReaderBinding("team", "app")...)
	url := e.URL() + "/api/v1/namespaces/team/pods"
	client := tokenClient()
	valid := c.podToken(t, "team", "app", "web", nil)
	waitFor(t, 5*time.Second, "the valid token to list pods", func() bool { return getStatus(t, client, url, valid).Code == 200 })

	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"expired": c.podToken(t, "team", "app", "web", func(m map[string]any) {
			m["exp"], m["iat"], m["nbf"] = time.Now().Add(-2*time.Minute).Unix(), time.Now().Add(-time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
		}),
		"other key":      signToken(t, otherKey, map[string]any{"iss": saIssuer, "aud": []string{saIssuer}, "sub": "system:serviceaccount:team:app", "exp": time.Now().Add(time.Hour).Unix()}),
		"wrong audience": c.podToken(t, "team", "app", "web", func(m map[string]any) { m["aud"] = []string{"https://vault.example"} }),
		"wrong issuer":   c.podToken(t, "team", "app", "web", func(m map[string]any) { m["iss"] = "https://other-cluster" }),
		"garbage":        "not-a-jwt",
	}
	for name, tok := range cases {
		if st := getStatus(t, client, url, tok); st.Code != 401 || st.Reason != metav1.StatusReasonUnauthorized || st.Message != "Unauthorized" {
			t.Errorf("%s: %d %s %q, want 401 Unauthorized", name, st.Code, st.Reason, st.Message)
		}
	}
	// The bound pod is deleted (the deletion reaches the node): its token
	// stops working at once, although it was verified and cached before.
	MustOK(t, e.Inject(Msg("delete", "team/pod/web", nil)))
	if st := getStatus(t, client, url, valid); st.Code != 401 {
		t.Errorf("token of a deleted pod: %d %s", st.Code, st.Message)
	}
	// No credentials: anonymous, which RBAC allows /healthz only.
	if st := getStatus(t, client, url, ""); st.Code != 403 || !strings.Contains(st.Message, `User "system:anonymous" cannot list resource "pods"`) {
		t.Errorf("anonymous: %d %q", st.Code, st.Message)
	}
	if st := getStatus(t, client, e.URL()+"/healthz", ""); st.Code != 200 {
		t.Errorf("anonymous /healthz: %d", st.Code)
	}
	// A client certificate from a CA edgecore does not trust.
	foreign := pki.Dir{Path: t.TempDir()}
	ca, _ := foreign.EnsureCA()
	cert, _ := foreign.EnsureAdmin(ca)
	tc, _ := cert.TLS()
	cfg := adminTLS.Clone()
	cfg.Certificates = []tls.Certificate{tc}
	fc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
	if st := getStatus(t, fc, url, ""); st.Code != 401 {
		t.Errorf("foreign client certificate: %d %q", st.Code, st.Message)
	}
}

// TestSecurityPlainHTTPRefused: the TLS port answers plain HTTP with Go's
// 400 and no data; the optional insecure listener refuses a non-loopback
// address at start and, on loopback, is anonymous.
func TestSecurityPlainHTTPRefused(t *testing.T) {
	insecure := freeAddr(t)
	e := startAPI(t, Options{Config: "modules:\n  lwServer:\n    insecureAddress: " + insecure + "\n"})
	MustOK(t, e.Inject(podMsg("insert", "default", "p", nil, "Running")))
	plain := &http.Client{Timeout: 10 * time.Second}
	resp, err := plain.Get("http://" + e.Addr + "/api/v1/pods")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != 400 || !strings.Contains(body, "HTTP request to an HTTPS server") || strings.Contains(body, "PodList") {
		t.Fatalf("plain HTTP on the TLS port: %d %q", resp.StatusCode, body)
	}
	resp, err = plain.Get("http://" + insecure + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("insecure /healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", "http://"+insecure+"/api/v1/pods", nil)
	req.Header.Set("Authorization", "Bearer anything") // ignored: the listener is anonymous
	resp, err = plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 403 || !strings.Contains(body, `User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" at the cluster scope`) {
		t.Fatalf("insecure pods: %d %s", resp.StatusCode, body)
	}

	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:10551"} {
		out, code := runEdgecore(t, "modules:\n  lwServer:\n    insecureAddress: \""+addr+"\"\n")
		if code == 0 || !strings.Contains(out, "is not a loopback address") {
			t.Errorf("insecureAddress %s: exit %d\n%s", addr, code, tail(out, 5))
		}
	}
}

// TestSecurityPKIReuse: edgecore's own pki and kubeconfig are created on
// first start (kubeconfig 0600) and reused on the next.
func TestSecurityPKIReuse(t *testing.T) {
	e := startAPI(t, Options{OwnPKI: true})
	files := []string{"pki/" + pki.CACert, "pki/" + pki.ServingCert, "pki/" + pki.AdminCert, "kubeconfig"}
	before := readFiles(t, e.DataDir, files...)
	if m := fileMode(t, e.KubeconfigPath()); m != 0o600 {
		t.Fatalf("kubeconfig mode %o", m)
	}
	if code, _, _ := httpDoClient(t, e.HTTPClient(), "GET", e.URL()+"/api/v1/pods"); code != 200 {
		t.Fatalf("admin from the written kubeconfig: %d", code)
	}
	e.Restart()
	waitFor(t, 10*time.Second, "restart", func() bool {
		code, _, _ := httpDoClient(t, e.HTTPClient(), "GET", e.URL()+"/readyz")
		return code == 200
	})
	after := readFiles(t, e.DataDir, files...)
	for _, f := range files {
		if before[f] != after[f] {
			t.Errorf("%s changed across a restart", f)
		}
	}
	// AdminClient trusts the run's shared CA, not this edgecore's own.
	if _, err := AdminClient.Get(e.URL() + "/readyz"); err == nil || !errors.As(err, new(*tls.CertificateVerificationError)) {
		t.Errorf("a client trusting another CA: %v", err)
	}
}
