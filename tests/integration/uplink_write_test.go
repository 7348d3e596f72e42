package integration

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/edgecore/edgecore/hack/kubeapiserver"
)

// TestUplinkWrites: a ServiceAccount token minted by the real
// kube-apiserver (TokenRequest) creates and patches a ConfigMap through
// lwserver; the cloud has it; an edge GET right after returns it with the
// edge resourceVersion the write answered; a stale edge precondition gets a
// local 409, a current one goes through; a write RBAC denies gets the
// cloud's 403.
func TestUplinkWrites(t *testing.T) {
	c := sharedCloud(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := c.namespace(t, "uplink-write")
	node := "write-a"
	if err := c.EnsureServiceAccount(ctx, ns, "writer"); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm-writer"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}}},
	}
	if _, err := c.admin.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm-writer"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "cm-writer"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "writer", Namespace: ns}},
	}
	if _, err := c.admin.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	token, err := c.ServiceAccountToken(ctx, ns, "writer")
	if err != nil {
		t.Fatal(err)
	}

	e := startAPI(t, Options{Config: uplinkConfig(c.nodeKubeconfig(t, node, ""), node)})
	eventually(t, 15*time.Second, "checker online", func() (bool, string) {
		v := edgeMetric(t, e, "edgecore_uplink_online")
		return v == "1", v
	})
	rc := restConfig(e)
	rc.BearerToken = token
	edge := kubernetes.NewForConfigOrDie(rc)
	cms := edge.CoreV1().ConfigMaps(ns)

	created, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "w1"}, Data: map[string]string{"k": "v1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create through the edge: %v", err)
	}
	inCloud, err := c.admin.CoreV1().ConfigMaps(ns).Get(ctx, "w1", metav1.GetOptions{})
	if err != nil || inCloud.Data["k"] != "v1" {
		t.Fatalf("cloud after an edge create: %v %v", inCloud, err)
	}
	got, err := cms.Get(ctx, "w1", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("edge GET right after the create: %v", err)
	}
	if got.ResourceVersion != created.ResourceVersion || got.Data["k"] != "v1" {
		t.Fatalf("edge GET after create: rv %s data %v; the create answered rv %s", got.ResourceVersion, got.Data, created.ResourceVersion)
	}

	patched, err := cms.Patch(ctx, "w1", types.MergePatchType, []byte(`{"data":{"k":"v2"}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("patch through the edge: %v", err)
	}
	if inCloud, err = c.admin.CoreV1().ConfigMaps(ns).Get(ctx, "w1", metav1.GetOptions{}); err != nil || inCloud.Data["k"] != "v2" {
		t.Fatalf("cloud after an edge patch: %v %v", inCloud, err)
	}
	if got, err = cms.Get(ctx, "w1", metav1.GetOptions{}); err != nil || got.ResourceVersion != patched.ResourceVersion || got.Data["k"] != "v2" {
		t.Fatalf("edge GET after patch: %v %v (patch answered rv %s)", got, err, patched.ResourceVersion)
	}

	// An update with the create's (now stale) edge resourceVersion: 409,
	// decided locally; with the current one it goes through.
	stale := created.DeepCopy()
	stale.Data["k"] = "stale"
	if _, err := cms.Update(ctx, stale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("update with a stale edge resourceVersion: %v, want 409 Conflict", err)
	}
	cur := got.DeepCopy()
	cur.Data["k"] = "v3"
	updated, err := cms.Update(ctx, cur, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update with the current edge resourceVersion: %v", err)
	}
	if got, err = cms.Get(ctx, "w1", metav1.GetOptions{}); err != nil || got.ResourceVersion != updated.ResourceVersion || got.Data["k"] != "v3" {
		t.Fatalf("edge GET after update: %v %v", got, err)
	}

	// The token may not write Secrets: the cloud's 403.
	_, err = edge.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "system:serviceaccount:"+ns+":writer") {
		t.Fatalf("secret create by a token without the right: %v, want the cloud's 403", err)
	}

	// A local x509 admin writes as the node: the cloud's RBAC (the node may
	// only read) answers 403 naming the node.
	_, err = kubernetes.NewForConfigOrDie(restConfig(e)).CoreV1().ConfigMaps(ns).Create(ctx,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "by-admin"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "system:node:"+node) {
		t.Fatalf("create by a local x509 admin: %v, want the cloud's 403 for the node", err)
	}

	// Delete goes through and leaves the edge without the object.
	if err := cms.Delete(ctx, "w1", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete through the edge: %v", err)
	}
	if _, err := cms.Get(ctx, "w1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("edge GET after delete: %v, want 404", err)
	}
}

// TestUplinkTokenOffline: the issuer keys the uplink copied verify a
// TokenRequest token on the edge while the link is cut; the token reads
// what its RBAC (synced Roles and RoleBindings) allows and nothing else.
func TestUplinkTokenOffline(t *testing.T) {
	c := sharedCloud(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := c.namespace(t, "uplink-token")
	node := "token-a"
	if err := c.EnsureServiceAccount(ctx, ns, "reader"); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch"}}},
	}
	if _, err := c.admin.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "cm-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "reader", Namespace: ns}},
	}
	if _, err := c.admin.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.mustCreateCM(t, ns, "c1", "v1")
	if _, err := c.admin.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "s1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := podOn(ns, "p", node, "c1", "s1")
	pod.Spec.ServiceAccountName = "reader"
	if _, err := c.admin.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	token, err := c.ServiceAccountToken(ctx, ns, "reader")
	if err != nil {
		t.Fatal(err)
	}

	cloudURL, _ := url.Parse(c.URL)
	proxy := newTCPProxy(t, cloudURL.Host)
	cfg := uplinkConfig(c.nodeKubeconfig(t, node, proxy.addr), node)
	e := startAPI(t, Options{Config: cfg})
	jwks := filepath.Join(e.DataDir, "cloud", "openid", "v1", "jwks.json")
	admin := kubernetes.NewForConfigOrDie(restConfig(e))
	eventually(t, 30*time.Second, "edge synced and issuer keys copied", func() (bool, string) {
		_, err := os.Stat(jwks)
		got := edgeCMValues(admin, ns)
		return err == nil && got == "c1=v1", fmt.Sprintf("configmaps %s, keys: %v", got, err)
	})

	// Restart with token verification from the copied keys, the link cut.
	proxy.Cut()
	e.opts.Config = cfg + fmt.Sprintf("  lwServer:\n    authentication:\n      serviceAccountKeyFiles: [%s]\n      serviceAccountIssuers: [%s]\n", jwks, kubeapiserver.Issuer)
	e.Restart()
	rc := restConfig(e)
	rc.CertData, rc.KeyData, rc.CertFile, rc.KeyFile = nil, nil, "", ""
	rc.BearerToken = token
	asPod := kubernetes.NewForConfigOrDie(rc)
	eventually(t, 20*time.Second, "token verified offline", func() (bool, string) {
		cm, err := asPod.CoreV1().ConfigMaps(ns).Get(ctx, "c1", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return cm.Data["k"] == "v1", fmt.Sprint(cm.Data)
	})
	if _, err := asPod.CoreV1().Secrets(ns).Get(ctx, "s1", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("secret read by a token RBAC does not allow it: %v, want 403", err)
	}
	if v := edgeMetric(t, e, "edgecore_uplink_online"); v != "0" {
		t.Fatalf("edgecore_uplink_online = %q, want 0 (the link is cut)", v)
	}
}
