package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/pki"
)

// saIssuer is the cluster's --service-account-issuer in these tests.
const saIssuer = "https://kubernetes.default.svc.cluster.local"

// saCluster stands for the cloud cluster's ServiceAccount token signer: its
// key, written where edgecore's config points (as the node would receive
// the cluster's public key).
type saCluster struct {
	key     *rsa.PrivateKey
	keyFile string
}

func newSACluster(t *testing.T) *saCluster {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "sa.pub")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &saCluster{key: key, keyFile: f}
}

// config is edgecore's config for verifying this cluster's tokens.
func (c *saCluster) config(extra string) string {
	return "modules:\n  lwServer:\n    authentication:\n      anonymous: true\n      serviceAccountKeyFiles: [" + c.keyFile +
		"]\n      serviceAccountIssuers: [" + saIssuer + "]\n" + extra
}

// podToken is a projected token as kube-apiserver issues it to pod
// ns/pod (uid from watchPod) for ServiceAccount ns/sa; mutate may change
// claims.
func (c *saCluster) podToken(t *testing.T, ns, sa, pod string, mutate func(map[string]any)) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{
		"iss": saIssuer, "aud": []string{saIssuer}, "sub": "system:serviceaccount:" + ns + ":" + sa,
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nbf": now.Unix(), "jti": "jti-" + pod,
		"kubernetes.io": map[string]any{
			"namespace":      ns,
			"serviceaccount": map[string]any{"name": sa, "uid": "sa-uid-" + sa},
			"pod":            map[string]any{"name": pod, "uid": "uid-" + ns + "-" + pod},
		},
	}
	if mutate != nil {
		mutate(claims)
	}
	return signToken(t, c.key, claims)
}

func signToken(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// inClusterConfig builds a rest.Config exactly as rest.InClusterConfig()
// does (it reads fixed paths under /var/run/secrets, so the same steps
// are taken here with the test's files): https host and port from
// KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT, the CA file, and the
// token file (client-go re-reads it as it rotates).
func inClusterConfig(t *testing.T, e *Edgecore, token string) *rest.Config {
	t.Helper()
	host, port, err := net.SplitHostPort(e.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", host)
	t.Setenv("KUBERNETES_SERVICE_PORT", port)
	dir := t.TempDir()
	tokenFile, caFile := filepath.Join(dir, "token"), filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(filepath.Join(sharedPKI, pki.CACert))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	return &rest.Config{
		Host:            "https://" + net.JoinHostPort(os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")),
		TLSClientConfig: rest.TLSClientConfig{CAFile: caFile},
		BearerTokenFile: tokenFile,
	}
}

// tokenClient is an HTTPS client that trusts the shared CA and presents
// no client certificate (credentials go in headers).
func tokenClient() *http.Client {
	cfg := adminTLS.Clone()
	cfg.Certificates = nil
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}, Timeout: 20 * time.Second}
}

// getStatus GETs url with the bearer token and decodes the answer's
// Status (Code 200 when it is not one).
func getStatus(t *testing.T, c *http.Client, url, token string) metav1.Status {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st metav1.Status
	if resp.StatusCode == http.StatusOK {
		return metav1.Status{Code: http.StatusOK}
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.Kind != "Status" || int(st.Code) != resp.StatusCode {
		t.Fatalf("GET %s: %d, not a Status (%v)", url, resp.StatusCode, err)
	}
	return st
}

// injectCLI sends messages through `edgecore inject`, as an operator or
// the cloud's tooling would, and checks every reply is OK.
func injectCLI(t *testing.T, e *Edgecore, msgs ...Message) {
	t.Helper()
	var in bytes.Buffer
	for _, m := range msgs {
		in.Write(m.Line)
		in.WriteByte('\n')
	}
	cmd := exec.Command(EdgecoreBinary(), "inject", "--data-dir", e.DataDir)
	cmd.Stdin = &in
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("edgecore inject: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), `"operation":"response"`); n != len(msgs) {
		t.Fatalf("edgecore inject: %d OK replies for %d messages:\n%s", n, len(msgs), out)
	}
}

// rbacObjects are a ClusterRole reading pods and configmaps and a
// RoleBinding granting it to ServiceAccount ns/sa in ns.
func podReaderBinding(ns, sa string) []Message {
	role := map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
		"metadata": map[string]any{"name": "pod-reader", "uid": "cr-1"},
		"rules":    []any{map[string]any{"apiGroups": []string{""}, "resources": []string{"pods", "configmaps"}, "verbs": []string{"get", "list", "watch"}}}}
	binding := map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
		"metadata": map[string]any{"name": sa + "-reads", "namespace": ns, "uid": "rb-1"},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "pod-reader"},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": sa}}}
	return []Message{Msg("insert", "null/clusterrole/pod-reader", role), Msg("insert", ns+"/rolebinding/"+sa+"-reads", binding)}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// httpDoClient is one request with c; code, content type, body.
func httpDoClient(t *testing.T, c *http.Client, method, url string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", nil
	}
	b := readAll(t, resp)
	return resp.StatusCode, resp.Header.Get("Content-Type"), []byte(b)
}

// runEdgecore runs the binary with config until it exits (it is expected
// to refuse to start) and returns its output and exit code.
func runEdgecore(t *testing.T, config string) (string, int) {
	t.Helper()
	dir := t.TempDir()
	cf := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cf, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, EdgecoreBinary(), "--data-dir", dir, "--config", cf, "--lwserver-address", freeAddr(t))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

func readFiles(t *testing.T, dir string, names ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = string(b)
	}
	return out
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}
