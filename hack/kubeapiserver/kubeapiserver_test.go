package kubeapiserver

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestStartListNamespaces starts the real control plane, lists namespaces as
// admin, admits a pod after EnsureNamespace, checks that RBAC denies an
// unprivileged client certificate and that a minted ServiceAccount token
// authenticates, then restarts kube-apiserver alone and stops everything.
func TestStartListNamespaces(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := Start(ctx, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	}()
	admin := kubernetes.NewForConfigOrDie(s.Admin)
	nss, err := admin.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !hasNamespace(nss.Items, "kube-system") {
		t.Fatalf("namespaces %v lack kube-system", nss.Items)
	}
	if err := s.EnsureNamespace(ctx, "team-a"); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "team-a"},
		Spec:       corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	if _, err := admin.CoreV1().Pods("team-a").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("pod after EnsureNamespace: %v", err)
	}

	nobody, err := s.ClientConfig("nobody")
	if err != nil {
		t.Fatal(err)
	}
	_, err = kubernetes.NewForConfigOrDie(nobody).CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("user without bindings listing namespaces: got %v, want 403 from RBAC", err)
	}

	token, err := s.ServiceAccountToken(ctx, "team-a", "default")
	if err != nil {
		t.Fatal(err)
	}
	asSA := &rest.Config{Host: s.URL, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: s.ServingCA}}
	_, err = kubernetes.NewForConfigOrDie(asSA).CoreV1().Secrets("team-a").List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "system:serviceaccount:team-a:default") {
		t.Fatalf("serviceaccount token listing secrets: got %v, want 403 naming the serviceaccount", err)
	}

	if err := s.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	if err := s.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().Namespaces().Get(ctx, "team-a", metav1.GetOptions{}); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func hasNamespace(items []corev1.Namespace, name string) bool {
	for _, ns := range items {
		if ns.Name == name {
			return true
		}
	}
	return false
}
