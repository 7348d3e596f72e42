package auth

import (
	"context"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
)

func res(verb, group, resource, sub, ns, name string) authorizer.AttributesRecord {
	return authorizer.AttributesRecord{Verb: verb, APIGroup: group, APIVersion: "v1", Resource: resource,
		Subresource: sub, Namespace: ns, Name: name, ResourceRequest: true}
}

func nonRes(verb, path string) authorizer.AttributesRecord {
	return authorizer.AttributesRecord{Verb: verb, Path: path}
}

// TestRuleAllows covers every rule form of kube-apiserver's RBAC.
func TestRuleAllows(t *testing.T) {
	r := func(verbs, groups, resources, names, urls []string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names, NonResourceURLs: urls}
	}
	s := func(v ...string) []string { return v }
	cases := []struct {
		name string
		rule rbacv1.PolicyRule
		a    authorizer.AttributesRecord
		want bool
	}{
		{"verb exact", r(s("get"), s(""), s("pods"), nil, nil), res("get", "", "pods", "", "ns", "p"), true},
		{"verb other", r(s("get"), s(""), s("pods"), nil, nil), res("list", "", "pods", "", "ns", ""), false},
		{"verb *", r(s("*"), s(""), s("pods"), nil, nil), res("watch", "", "pods", "", "ns", ""), true},
		{"group exact", r(s("get"), s("apps"), s("deployments"), nil, nil), res("get", "apps", "deployments", "", "ns", "d"), true},
		{"group other", r(s("get"), s("apps"), s("deployments"), nil, nil), res("get", "extensions", "deployments", "", "ns", "d"), false},
		{"group core is not apps", r(s("get"), s(""), s("deployments"), nil, nil), res("get", "apps", "deployments", "", "ns", "d"), false},
		{"group *", r(s("get"), s("*"), s("deployments"), nil, nil), res("get", "apps", "deployments", "", "ns", "d"), true},
		{"resource other", r(s("get"), s(""), s("pods"), nil, nil), res("get", "", "secrets", "", "ns", "s"), false},
		{"resource *", r(s("get"), s(""), s("*"), nil, nil), res("get", "", "secrets", "", "ns", "s"), true},
		{"resource * covers subresources", r(s("get"), s(""), s("*"), nil, nil), res("get", "", "pods", "log", "ns", "p"), true},
		{"resource without subresource", r(s("get"), s(""), s("pods"), nil, nil), res("get", "", "pods", "log", "ns", "p"), false},
		{"resource/subresource", r(s("get"), s(""), s("pods/log"), nil, nil), res("get", "", "pods", "log", "ns", "p"), true},
		{"resource/subresource other", r(s("get"), s(""), s("pods/log"), nil, nil), res("get", "", "pods", "status", "ns", "p"), false},
		{"resource/subresource not the resource", r(s("get"), s(""), s("pods/log"), nil, nil), res("get", "", "pods", "", "ns", "p"), false},
		{"*/subresource", r(s("get"), s(""), s("*/status"), nil, nil), res("get", "", "pods", "status", "ns", "p"), true},
		{"*/subresource other", r(s("get"), s(""), s("*/status"), nil, nil), res("get", "", "pods", "log", "ns", "p"), false},
		{"*/subresource not the resource", r(s("get"), s(""), s("*/status"), nil, nil), res("get", "", "pods", "", "ns", "p"), false},
		{"pods/* is not special", r(s("get"), s(""), s("pods/*"), nil, nil), res("get", "", "pods", "log", "ns", "p"), false},
		{"resourceName match", r(s("get"), s(""), s("configmaps"), s("a", "b"), nil), res("get", "", "configmaps", "", "ns", "b"), true},
		{"resourceName other", r(s("get"), s(""), s("configmaps"), s("a"), nil), res("get", "", "configmaps", "", "ns", "c"), false},
		{"resourceName denies list", r(s("list"), s(""), s("configmaps"), s("a"), nil), res("list", "", "configmaps", "", "ns", ""), false},
		{"resource rule ignores paths", r(s("get"), s("*"), s("*"), nil, nil), nonRes("get", "/healthz"), false},
		{"url exact", r(s("get"), nil, nil, nil, s("/healthz")), nonRes("get", "/healthz"), true},
		{"url other", r(s("get"), nil, nil, nil, s("/healthz")), nonRes("get", "/livez"), false},
		{"url exact is not a prefix", r(s("get"), nil, nil, nil, s("/api")), nonRes("get", "/api/v1"), false},
		{"url trailing *", r(s("get"), nil, nil, nil, s("/apis/*")), nonRes("get", "/apis/apps/v1"), true},
		{"url trailing * needs the prefix", r(s("get"), nil, nil, nil, s("/apis/*")), nonRes("get", "/apis"), false},
		{"url *", r(s("get"), nil, nil, nil, s("*")), nonRes("get", "/metrics"), true},
		{"url verb", r(s("get"), nil, nil, nil, s("*")), nonRes("post", "/metrics"), false},
		{"url rule ignores resources", r(s("*"), nil, nil, nil, s("*")), res("get", "", "pods", "", "ns", ""), false},
	}
	for _, c := range cases {
		if got := RuleAllows(c.a, &c.rule); got != c.want {
			t.Errorf("%s: RuleAllows = %v, want %v", c.name, got, c.want)
		}
	}
}

func userInfo(name string, groups ...string) user.Info {
	return &user.DefaultInfo{Name: name, Groups: append(groups, GroupAuthenticated)}
}

func saUser(ns, name string) user.Info {
	return &user.DefaultInfo{Name: ServiceAccountUserPrefix + ns + ":" + name,
		Groups: []string{GroupServiceAccounts, GroupServiceAccounts + ":" + ns, GroupAuthenticated}}
}

// rbacFixture stores one object of every RBAC kind and form.
func rbacFixture(t *testing.T) (*fakeStore, *RBAC) {
	t.Helper()
	s := newFakeStore()
	om := func(ns, n string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: n} }
	ref := func(kind, name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
	}
	s.put(t, gvrClusterRoles, "", "pod-reader", &rbacv1.ClusterRole{ObjectMeta: om("", "pod-reader"),
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"pods"}}}})
	s.put(t, gvrRoles, "team", "cm-a", &rbacv1.Role{ObjectMeta: om("team", "cm-a"),
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a"}}}})
	s.put(t, gvrClusterRoleBindings, "", "alice-pods", &rbacv1.ClusterRoleBinding{ObjectMeta: om("", "alice-pods"),
		RoleRef: ref("ClusterRole", "pod-reader"), Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "alice"}}})
	// A RoleBinding that references a ClusterRole: pods in "team" only.
	s.put(t, gvrRoleBindings, "team", "devs-pods", &rbacv1.RoleBinding{ObjectMeta: om("team", "devs-pods"),
		RoleRef: ref("ClusterRole", "pod-reader"), Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: "devs"}}})
	// A ServiceAccount subject without namespace takes the binding's.
	s.put(t, gvrRoleBindings, "team", "sa-cm", &rbacv1.RoleBinding{ObjectMeta: om("team", "sa-cm"),
		RoleRef: ref("Role", "cm-a"), Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "app"}}})
	s.put(t, gvrRoleBindings, "team", "dangling", &rbacv1.RoleBinding{ObjectMeta: om("team", "dangling"),
		RoleRef: ref("Role", "missing"), Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "carol"}}})
	a, err := NewRBAC(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return s, a
}

// TestRBACAuthorize covers subjects (User, Group, ServiceAccount), binding
// kinds (ClusterRoleBinding, RoleBinding → ClusterRole / Role), the
// bootstrap roles and kube-apiserver's reason for dangling references.
func TestRBACAuthorize(t *testing.T) {
	_, a := rbacFixture(t)
	with := func(u user.Info, r authorizer.AttributesRecord) authorizer.AttributesRecord { r.User = u; return r }
	cases := []struct {
		name   string
		a      authorizer.AttributesRecord
		want   bool
		reason string
	}{
		{"user via ClusterRoleBinding, any namespace", with(userInfo("alice"), res("list", "", "pods", "", "other", "")), true, ""},
		{"user via ClusterRoleBinding, cluster scope", with(userInfo("alice"), res("list", "", "pods", "", "", "")), true, ""},
		{"user, verb not granted", with(userInfo("alice"), res("delete", "", "pods", "", "x", "p")), false, ""},
		{"user, other user", with(userInfo("bob"), res("list", "", "pods", "", "x", "")), false, ""},
		{"group via RoleBinding→ClusterRole, its namespace", with(userInfo("bob", "devs"), res("list", "", "pods", "", "team", "")), true, ""},
		{"group via RoleBinding, other namespace", with(userInfo("bob", "devs"), res("list", "", "pods", "", "other", "")), false, ""},
		{"group via RoleBinding, cluster scope", with(userInfo("bob", "devs"), res("list", "", "pods", "", "", "")), false, ""},
		{"serviceaccount via RoleBinding→Role, named", with(saUser("team", "app"), res("get", "", "configmaps", "", "team", "a")), true, ""},
		{"serviceaccount, other name", with(saUser("team", "app"), res("get", "", "configmaps", "", "team", "b")), false, ""},
		{"serviceaccount of other namespace", with(saUser("other", "app"), res("get", "", "configmaps", "", "team", "a")), false, ""},
		{"serviceaccount, secrets", with(saUser("team", "app"), res("get", "", "secrets", "", "team", "s")), false, ""},
		{"system:masters is cluster-admin", with(userInfo("root", GroupMasters), res("delete", "apps", "deployments", "", "x", "d")), true, ""},
		{"system:masters, any path", with(userInfo("root", GroupMasters), nonRes("get", "/metrics")), true, ""},
		{"authenticated: discovery", with(userInfo("bob"), nonRes("get", "/apis/apps/v1")), true, ""},
		{"authenticated: selfsubjectaccessreviews", with(userInfo("bob"), res("create", "authorization.k8s.io", "selfsubjectaccessreviews", "", "", "")), true, ""},
		{"authenticated: selfsubjectreviews", with(userInfo("bob"), res("create", "authentication.k8s.io", "selfsubjectreviews", "", "", "")), true, ""},
		{"authenticated: not /metrics", with(userInfo("bob"), nonRes("get", "/metrics")), false, ""},
		{"anonymous: /healthz", with(AnonymousUser(), nonRes("get", "/healthz")), true, ""},
		{"anonymous: /version", with(AnonymousUser(), nonRes("get", "/version")), true, ""},
		{"anonymous: not /api", with(AnonymousUser(), nonRes("get", "/api")), false, ""},
		{"anonymous: no pods", with(AnonymousUser(), res("list", "", "pods", "", "team", "")), false, ""},
		{"system:monitoring: /metrics", with(userInfo("prometheus", GroupMonitoring), nonRes("get", "/metrics")), true, ""},
		{"system:monitoring: /readyz/*", with(userInfo("prometheus", GroupMonitoring), nonRes("get", "/readyz/store")), true, ""},
		{"serviceaccounts: clustertrustbundles", with(saUser("x", "y"), res("list", "certificates.k8s.io", "clustertrustbundles", "", "", "")), true, ""},
		{"serviceaccounts: issuer discovery", with(saUser("x", "y"), nonRes("get", "/openid/v1/jwks")), true, ""},
		{"dangling role reference", with(userInfo("carol"), res("get", "", "pods", "", "team", "p")), false,
			`RBAC: role.rbac.authorization.k8s.io "missing" not found`},
	}
	for _, c := range cases {
		d, reason, err := a.Authorize(context.Background(), c.a)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := d == authorizer.DecisionAllow; got != c.want || reason != c.reason {
			t.Errorf("%s: allowed=%v reason=%q, want %v %q", c.name, got, reason, c.want, c.reason)
		}
	}
}

// TestRBACFollowsEvents: a binding that arrives, a role that changes and
// a binding that goes take effect at the next request, with no store read.
func TestRBACFollowsEvents(t *testing.T) {
	s, a := rbacFixture(t)
	dave := userInfo("dave")
	listPods := res("list", "", "pods", "", "team", "")
	listPods.User = dave
	allowed := func() bool {
		d, _, _ := a.Authorize(context.Background(), listPods)
		return d == authorizer.DecisionAllow
	}
	if allowed() {
		t.Fatal("dave allowed before any binding")
	}
	gets := s.gets
	ev := s.put(t, gvrRoleBindings, "team", "dave", &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "dave"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "pod-reader"}, Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "dave"}}})
	a.Publish([]event.Event{ev})
	if !allowed() {
		t.Fatal("dave not allowed after the RoleBinding arrived")
	}
	a.Publish([]event.Event{s.put(t, gvrClusterRoles, "", "pod-reader", &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}})})
	if allowed() {
		t.Fatal("list still allowed after the ClusterRole lost it")
	}
	a.Publish([]event.Event{s.del(gvrClusterRoles, "", "pod-reader")})
	_, reason, _ := a.Authorize(context.Background(), listPods)
	if !strings.Contains(reason, `clusterrole.rbac.authorization.k8s.io "pod-reader" not found`) {
		t.Fatalf("reason %q", reason)
	}
	if s.gets != gets {
		t.Fatalf("authorization read the store %d times", s.gets-gets)
	}
	// Events from before the load are ignored (the load had them).
	old := ev
	old.Revision = 0
	a.Publish([]event.Event{s.del(gvrRoleBindings, "team", "dave")})
	a.Publish([]event.Event{old})
	rules, _ := a.RulesFor(dave, "team")
	for _, r := range rules {
		if slices.Contains(r.Resources, "pods") {
			t.Fatalf("dave still has %v after the binding was deleted", r)
		}
	}
}

// TestRBACStoredOverridesBootstrap: a stored ClusterRoleBinding of a
// bootstrap name replaces the built-in one.
func TestRBACStoredOverridesBootstrap(t *testing.T) {
	s := newFakeStore()
	s.put(t, gvrClusterRoleBindings, "", "system:public-info-viewer", &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "system:public-info-viewer"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:public-info-viewer"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: GroupAuthenticated}}})
	a, err := NewRBAC(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	anon := nonRes("get", "/healthz")
	anon.User = AnonymousUser()
	if d, _, _ := a.Authorize(context.Background(), anon); d == authorizer.DecisionAllow {
		t.Fatal("anonymous still allowed /healthz after the stored binding dropped system:unauthenticated")
	}
}

func TestForbiddenWording(t *testing.T) {
	cases := []struct {
		a    authorizer.AttributesRecord
		want string
	}{
		{res("list", "", "pods", "", "default", ""), `pods is forbidden: User "u" cannot list resource "pods" in API group "" in the namespace "default"`},
		{res("get", "", "secrets", "", "default", "s1"), `secrets "s1" is forbidden: User "u" cannot get resource "secrets" in API group "" in the namespace "default"`},
		{res("list", "apps", "deployments", "", "", ""), `deployments.apps is forbidden: User "u" cannot list resource "deployments" in API group "apps" at the cluster scope`},
		{res("get", "", "pods", "log", "ns", "p"), `pods "p" is forbidden: User "u" cannot get resource "pods/log" in API group "" in the namespace "ns"`},
		{nonRes("get", "/metrics"), `forbidden: User "u" cannot get path "/metrics"`},
	}
	for _, c := range cases {
		c.a.User = userInfo("u")
		err := Forbidden(c.a, "")
		if err.ErrStatus.Message != c.want || err.ErrStatus.Code != 403 || err.ErrStatus.Reason != metav1.StatusReasonForbidden {
			t.Errorf("got %d %s %q\nwant %q", err.ErrStatus.Code, err.ErrStatus.Reason, err.ErrStatus.Message, c.want)
		}
	}
}
