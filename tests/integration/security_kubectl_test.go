package integration

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/pki"
)

// kubectlAs runs the pinned kubectl with kubeconfig and returns stdout,
// stderr and the exit code (can-i answers "no" with exit code 1).
func kubectlAs(t *testing.T, kubeconfig string, args ...string) (string, string, int) {
	t.Helper()
	home := t.TempDir()
	all := append([]string{"--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(home, "cache"), "--request-timeout", "20s"}, args...)
	cmd := exec.Command(kubectlPath(t), all...)
	cmd.Env = append(os.Environ(), "HOME="+home, "KUBECONFIG="+kubeconfig)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// tokenKubeconfig is a kubeconfig for e with a bearer token (as a pod's
// ServiceAccount would be configured), trusting the run's CA.
func tokenKubeconfig(t *testing.T, e *Edgecore, token string) string {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(sharedPKI, pki.CACert))
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"apiVersion": "v1", "kind": "Config", "current-context": "sa",
		"clusters": []any{map[string]any{"name": "edge", "cluster": map[string]any{"server": e.URL(), "certificate-authority-data": ca}}},
		"users":    []any{map[string]any{"name": "sa", "user": map[string]any{"token": token}}},
		"contexts": []any{map[string]any{"name": "sa", "context": map[string]any{"cluster": "edge", "user": "sa"}}},
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSecurityKubectlAuth: kubectl auth whoami / can-i / can-i --list are
// answered locally, for the admin kubeconfig and for a ServiceAccount
// token, as a kube-apiserver with the same roles answers them.
func TestSecurityKubectlAuth(t *testing.T) {
	e, c := securityFixture(t, "")
	injectCLI(t, e, podReaderBinding("team", "app")...)
	admin := e.KubeconfigPath()
	sa := tokenKubeconfig(t, e, c.podToken(t, "team", "app", "web", nil))
	waitFor(t, 5*time.Second, "the RoleBinding", func() bool {
		out, _, code := kubectlAs(t, sa, "auth", "can-i", "list", "pods", "-n", "team")
		return code == 0 && strings.TrimSpace(out) == "yes"
	})

	var who authenticationv1.SelfSubjectReview
	out, errOut, code := kubectlAs(t, admin, "auth", "whoami", "-o", "json")
	if err := json.Unmarshal([]byte(out), &who); code != 0 || err != nil {
		t.Fatalf("admin whoami: %d %v %s %s", code, err, out, errOut)
	}
	if u := who.Status.UserInfo; u.Username != pki.AdminUser || strings.Join(u.Groups, ",") != "system:masters,system:authenticated" {
		t.Fatalf("admin whoami: %+v", u)
	}
	out, _, code = kubectlAs(t, sa, "auth", "whoami", "-o", "json")
	if err := json.Unmarshal([]byte(out), &who); code != 0 || err != nil {
		t.Fatalf("sa whoami: %d %v %s", code, err, out)
	}
	u := who.Status.UserInfo
	if u.Username != "system:serviceaccount:team:app" || u.UID != "sa-uid-app" ||
		strings.Join(u.Groups, ",") != "system:serviceaccounts,system:serviceaccounts:team,system:authenticated" ||
		len(u.Extra["authentication.kubernetes.io/pod-name"]) != 1 || u.Extra["authentication.kubernetes.io/pod-name"][0] != "web" {
		t.Fatalf("sa whoami: %+v", u)
	}

	for _, tc := range []struct {
		kubeconfig string
		args       []string
		want       string
	}{
		{admin, []string{"list", "secrets", "-A"}, "yes"},
		{admin, []string{"delete", "deployments.apps", "-n", "x"}, "yes"},
		{admin, []string{"get", "/metrics"}, "yes"},
		{sa, []string{"list", "pods", "-n", "team"}, "yes"},
		{sa, []string{"watch", "configmaps", "-n", "team"}, "yes"},
		{sa, []string{"list", "pods", "-n", "other"}, "no"},
		{sa, []string{"list", "secrets", "-n", "team"}, "no"},
		{sa, []string{"delete", "pods", "-n", "team"}, "no"},
		{sa, []string{"get", "/apis"}, "yes"},
		{sa, []string{"get", "/metrics"}, "no"},
		// Resolved through discovery (the review groups are listed), with
		// no "the server doesn't have a resource type" warning; -A: they are
		// cluster-scoped (kubectl warns about the kubeconfig's namespace
		// otherwise, as it does against kube-apiserver).
		{sa, []string{"create", "selfsubjectaccessreviews", "-A"}, "yes"},
		{sa, []string{"create", "selfsubjectreviews.authentication.k8s.io", "-A"}, "yes"},
	} {
		out, errOut, code := kubectlAs(t, tc.kubeconfig, append([]string{"auth", "can-i"}, tc.args...)...)
		wantCode := 0
		if tc.want == "no" {
			wantCode = 1
		}
		if strings.TrimSpace(out) != tc.want || code != wantCode || strings.Contains(errOut, "Warning") {
			t.Errorf("can-i %v (%s): %q exit %d, want %q (stderr %q)", tc.args, filepath.Base(filepath.Dir(tc.kubeconfig)), out, code, tc.want, errOut)
		}
	}

	out, errOut, code = kubectlAs(t, sa, "auth", "can-i", "--list", "-n", "team")
	if code != 0 {
		t.Fatalf("can-i --list: %d %s", code, errOut)
	}
	for _, want := range []string{
		"pods                                            []                  []               [get list watch]",
		"selfsubjectaccessreviews.authorization.k8s.io   []                  []               [create]",
		"[/healthz] [] [get]",
	} {
		if !containsFields(out, want) {
			t.Errorf("can-i --list lacks %q:\n%s", want, out)
		}
	}
	if containsFields(out, "secrets []") {
		t.Errorf("can-i --list shows secrets:\n%s", out)
	}
	out, _, _ = kubectlAs(t, admin, "auth", "can-i", "--list")
	if !containsFields(out, "*.* [] [] [*]") || !containsFields(out, "[*] [] [*]") {
		t.Errorf("admin can-i --list:\n%s", out)
	}
}

// containsFields reports whether some line of out has want's
// whitespace-separated fields as a run of its own fields.
func containsFields(out, want string) bool {
	w := strings.Join(strings.Fields(want), " ")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(" "+strings.Join(strings.Fields(line), " ")+" ", " "+w+" ") {
			return true
		}
	}
	return false
}
