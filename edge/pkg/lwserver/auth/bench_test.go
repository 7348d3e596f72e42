package auth

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// benchRBAC is a store with the bindings of a real cluster's size: 60
// ClusterRoleBindings and 5 RoleBindings in each of 20 namespaces.
func benchRBAC(b *testing.B) (*fakeStore, *RBAC) {
	s := newFakeStore()
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "reader"}
	s.put(b, gvrClusterRoles, "", "reader", &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
		Rules: []rbacv1.PolicyRule{
			{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}},
			{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"pods", "services"}}}})
	for i := 0; i < 60; i++ {
		s.put(b, gvrClusterRoleBindings, "", fmt.Sprint("crb-", i), &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("crb-", i)},
			RoleRef: ref, Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: fmt.Sprint("user-", i)}}})
	}
	for n := 0; n < 20; n++ {
		ns := fmt.Sprint("ns-", n)
		for i := 0; i < 5; i++ {
			s.put(b, gvrRoleBindings, ns, fmt.Sprint("rb-", i), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprint("rb-", i)},
				RoleRef: ref, Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: fmt.Sprint("sa-", i)}}})
		}
	}
	a, err := NewRBAC(context.Background(), s)
	if err != nil {
		b.Fatal(err)
	}
	return s, a
}

// BenchmarkAuthnAuthz is one request's authentication and authorization,
// as the chain runs them, for a client certificate and for a
// ServiceAccount token (kept-alive clients: verification results cached).
// Target (docs/security.md): ≤ 20 µs per request.
func BenchmarkAuthnAuthz(b *testing.B) {
	_, rbac := benchRBAC(b)
	info := &request.RequestInfo{IsResourceRequest: true, Verb: "list", APIVersion: "v1", Resource: "pods", Namespace: "ns-3"}
	run := func(b *testing.B, authn Authenticator, setup func(r *http.Request)) {
		r := httptest.NewRequest("GET", "/api/v1/namespaces/ns-3/pods", nil)
		setup(r)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			u, ok, err := authn.AuthenticateRequest(r)
			if err != nil || !ok {
				b.Fatal(err)
			}
			a := Attributes(u, info, r.URL.Path)
			if d, _, _ := rbac.Authorize(r.Context(), a); d != authorizer.DecisionAllow {
				b.Fatal("denied")
			}
		}
	}
	b.Run("x509", func(b *testing.B) {
		ca, admin := testCA(b)
		pool := x509.NewCertPool()
		pool.AddCert(ca.Cert)
		authn := &Union{Authenticators: []Authenticator{NewX509(func() *x509.CertPool { return pool }, nil)}}
		run(b, authn, func(r *http.Request) { r.TLS = certRequest(admin.Cert).TLS })
	})
	b.Run("serviceaccount-token", func(b *testing.B) {
		f := newTokenFixture(b)
		f.store.put(b, gvrPods, "ns-3", "web", map[string]any{"metadata": map[string]any{"name": "web", "namespace": "ns-3", "uid": "pod-uid"}})
		claims := boundClaims()
		claims["sub"] = "system:serviceaccount:ns-3:sa-2"
		k := claims["kubernetes.io"].(map[string]any)
		k["namespace"], k["serviceaccount"] = "ns-3", map[string]any{"name": "sa-2", "uid": "u"}
		tok := sign(b, f.key, jose.RS256, claims)
		authn := &Union{Authenticators: []Authenticator{f.tokens}}
		run(b, authn, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) })
	})
}
