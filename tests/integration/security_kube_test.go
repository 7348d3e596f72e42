package integration

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/edgecore/edgecore/hack/kubeapiserver"
)

// TestSecurityMatchesKubeAPIServer: a ServiceAccount token minted by a real
// kube-apiserver (v1.37.2) is accepted by edgecore, configured with that
// cluster's public key and issuer, and kubectl auth whoami / can-i /
// can-i --list give the same answers from both, with the same Role and
// RoleBinding (copied from the cluster to the node as the cloud would send
// them).
func TestSecurityMatchesKubeAPIServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	kas, err := kubeapiserver.Start(ctx, kubeapiserver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer kas.Stop()
	admin := kubernetes.NewForConfigOrDie(kas.Admin)
	if err := kas.EnsureNamespace(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	if err := kas.EnsureServiceAccount(ctx, "team", "app"); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: "team"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods", "pods/log"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"settings"}, Verbs: []string{"get"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "app-reads", Namespace: "team"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "reader"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "app"}}}
	if role, err = admin.RbacV1().Roles("team").Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if binding, err = admin.RbacV1().RoleBindings("team").Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sa, err := admin.CoreV1().ServiceAccounts("team").Get(ctx, "app", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	token, err := kas.ServiceAccountToken(ctx, "team", "app")
	if err != nil {
		t.Fatal(err)
	}

	keyFile := filepath.Join(t.TempDir(), "sa.pub")
	if err := os.WriteFile(keyFile, kas.ServiceAccountPublicKey, 0o600); err != nil {
		t.Fatal(err)
	}
	e := startAPI(t, Options{Config: "modules:\n  lwServer:\n    authentication:\n      serviceAccountKeyFiles: [" + keyFile +
		"]\n      serviceAccountIssuers: [\"" + kubeapiserver.Issuer + "\"]\n"})
	MustOK(t, e.Inject(Msg("insert", "team/role/reader", role), Msg("insert", "team/rolebinding/app-reads", binding),
		Msg("insert", "team/serviceaccount/app", sa)))

	kubeKC := kubeTokenKubeconfig(t, kas, token)
	edgeKC := tokenKubeconfig(t, e, token)
	var whoKube, whoEdge authenticationv1.SelfSubjectReview
	decodeJSON(t, kubectlOK(t, kubeKC, "auth", "whoami", "-o", "json"), &whoKube)
	decodeJSON(t, kubectlOK(t, edgeKC, "auth", "whoami", "-o", "json"), &whoEdge)
	if !reflect.DeepEqual(whoKube.Status.UserInfo, whoEdge.Status.UserInfo) {
		t.Errorf("whoami differs:\nkube-apiserver %+v\nedgecore       %+v", whoKube.Status.UserInfo, whoEdge.Status.UserInfo)
	}
	for _, args := range [][]string{
		{"list", "pods", "-n", "team"}, {"get", "pods/log", "-n", "team"}, {"watch", "pods", "-n", "team"},
		{"delete", "pods", "-n", "team"}, {"list", "pods", "-n", "other"}, {"list", "pods", "-A"},
		{"get", "configmaps/settings", "-n", "team"}, {"get", "configmaps/other", "-n", "team"}, {"list", "configmaps", "-n", "team"},
		{"list", "secrets", "-n", "team"}, {"get", "/healthz"}, {"get", "/apis/apps"}, {"get", "/metrics"},
		{"get", "/openid/v1/jwks"}, {"list", "nodes"},
	} {
		ko, _, kc := kubectlAs(t, kubeKC, append([]string{"auth", "can-i"}, args...)...)
		eo, _, ec := kubectlAs(t, edgeKC, append([]string{"auth", "can-i"}, args...)...)
		if strings.TrimSpace(ko) != strings.TrimSpace(eo) || kc != ec {
			t.Errorf("can-i %v: kube-apiserver %q (exit %d), edgecore %q (exit %d)", args, strings.TrimSpace(ko), kc, strings.TrimSpace(eo), ec)
		}
	}
	kubeList := sortedLines(kubectlOK(t, kubeKC, "auth", "can-i", "--list", "-n", "team"))
	edgeList := sortedLines(kubectlOK(t, edgeKC, "auth", "can-i", "--list", "-n", "team"))
	if kubeList != edgeList {
		t.Errorf("can-i --list differs:\nkube-apiserver:\n%s\nedgecore:\n%s", kubeList, edgeList)
	}
}

func kubeTokenKubeconfig(t *testing.T, kas *kubeapiserver.Server, token string) string {
	t.Helper()
	cfg := map[string]any{
		"apiVersion": "v1", "kind": "Config", "current-context": "sa",
		"clusters": []any{map[string]any{"name": "kube", "cluster": map[string]any{"server": kas.URL, "certificate-authority-data": kas.ServingCA}}},
		"users":    []any{map[string]any{"name": "sa", "user": map[string]any{"token": token}}},
		"contexts": []any{map[string]any{"name": "sa", "context": map[string]any{"cluster": "kube", "user": "sa"}}},
	}
	b, _ := json.Marshal(cfg)
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func kubectlOK(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	out, errOut, code := kubectlAs(t, kubeconfig, args...)
	if code != 0 {
		t.Fatalf("kubectl %v: exit %d\n%s", args, code, errOut)
	}
	return out
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
}

func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
