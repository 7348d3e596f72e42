package auth

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// bootstrapPolicy is the part of kube-apiserver's (v1.37) bootstrap RBAC
// policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy) that grants
// groups every cluster has reads and self-inspection (the roles of
// kube-apiserver's own components are left out). A stored object of the same name replaces
// its bootstrap counterpart (a cluster may have reconciled it differently).
func bootstrapPolicy() ([]rbacv1.ClusterRole, []rbacv1.ClusterRoleBinding) {
	roles := []rbacv1.ClusterRole{
		clusterRole("cluster-admin",
			rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
			rbacv1.PolicyRule{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}),
		clusterRole("system:discovery", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{
			"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
			"/readyz", "/version", "/version/"}}),
		clusterRole("system:basic-user",
			rbacv1.PolicyRule{Verbs: []string{"create"}, APIGroups: []string{"authorization.k8s.io"},
				Resources: []string{"selfsubjectaccessreviews", "selfsubjectrulesreviews"}},
			rbacv1.PolicyRule{Verbs: []string{"create"}, APIGroups: []string{"authentication.k8s.io"},
				Resources: []string{"selfsubjectreviews"}}),
		clusterRole("system:public-info-viewer", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{
			"/healthz", "/livez", "/readyz", "/version", "/version/"}}),
		clusterRole("system:monitoring",
			rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{
				"/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz", "/livez/*", "/readyz/*", "/healthz/*"}},
			rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"nodes/metrics"}}),
		// ClusterTrustBundle is GA (on by default) in v1.37.
		clusterRole("system:cluster-trust-bundle-discovery", rbacv1.PolicyRule{Verbs: []string{"get", "list", "watch"},
			APIGroups: []string{"certificates.k8s.io"}, Resources: []string{"clustertrustbundles"}}),
		clusterRole("system:service-account-issuer-discovery", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{
			"/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"}}),
	}
	bindings := []rbacv1.ClusterRoleBinding{
		clusterRoleBinding("cluster-admin", GroupMasters),
		clusterRoleBinding("system:discovery", GroupAuthenticated),
		clusterRoleBinding("system:basic-user", GroupAuthenticated),
		clusterRoleBinding("system:public-info-viewer", GroupAuthenticated, GroupUnauthenticated),
		clusterRoleBinding("system:monitoring", GroupMonitoring),
		clusterRoleBinding("system:service-account-issuer-discovery", GroupServiceAccounts),
		clusterRoleBinding("system:cluster-trust-bundle-discovery", GroupServiceAccounts),
	}
	return roles, bindings
}

func clusterRole(name string, rules ...rbacv1.PolicyRule) rbacv1.ClusterRole {
	return rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
}

func clusterRoleBinding(role string, groups ...string) rbacv1.ClusterRoleBinding {
	b := rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
	}
	for _, g := range groups {
		b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: g})
	}
	return b
}
