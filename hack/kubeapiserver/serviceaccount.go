package kubeapiserver

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// EnsureNamespace creates namespace ns (if missing) and its "default"
// ServiceAccount, which kube-controller-manager would create and which the
// ServiceAccount admission plugin requires before it admits a pod there.
// It is idempotent.
func (s *Server) EnsureNamespace(ctx context.Context, ns string) error {
	cs, err := kubernetes.NewForConfig(s.Admin)
	if err != nil {
		return err
	}
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return s.EnsureServiceAccount(ctx, ns, "default")
}

// EnsureServiceAccount creates ServiceAccount ns/name unless it exists.
func (s *Server) EnsureServiceAccount(ctx context.Context, ns, name string) error {
	cs, err := kubernetes.NewForConfig(s.Admin)
	if err != nil {
		return err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	_, err = cs.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create serviceaccount %s/%s: %w", ns, name, err)
	}
	return nil
}

// ServiceAccountToken mints a token for ServiceAccount ns/name through the
// TokenRequest API (as kubelet does for a pod's projected token), valid for
// an hour, with the cluster's default audience unless audiences are given.
func (s *Server) ServiceAccountToken(ctx context.Context, ns, name string, audiences ...string) (string, error) {
	cs, err := kubernetes.NewForConfig(s.Admin)
	if err != nil {
		return "", err
	}
	expiry := int64(3600)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences: audiences, ExpirationSeconds: &expiry,
	}}
	out, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, tr, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for serviceaccount %s/%s: %w", ns, name, err)
	}
	return out.Status.Token, nil
}
