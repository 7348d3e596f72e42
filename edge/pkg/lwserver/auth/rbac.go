package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/klog/v2"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// The RBAC resources the index follows.
var (
	gvrClusterRoles        = schema.GroupVersionResource{Group: rbacv1.GroupName, Version: "v1", Resource: "clusterroles"}
	gvrRoles               = schema.GroupVersionResource{Group: rbacv1.GroupName, Version: "v1", Resource: "roles"}
	gvrClusterRoleBindings = schema.GroupVersionResource{Group: rbacv1.GroupName, Version: "v1", Resource: "clusterrolebindings"}
	gvrRoleBindings        = schema.GroupVersionResource{Group: rbacv1.GroupName, Version: "v1", Resource: "rolebindings"}
)

// RBAC is the local RBAC authorizer. Its index is an immutable snapshot
// swapped atomically, so Authorize takes no lock and reads no store: the
// store's RBAC objects are loaded once (NewRBAC) and then followed through
// the committed events (Publish), rebuilding the snapshot on each RBAC
// change (they are rare and small).
type RBAC struct {
	snap atomic.Pointer[rbacSnapshot]

	mu      sync.Mutex // serialises Publish
	loadRev int64      // events at or before it are in the loaded state
	objs    map[objKey][]byte
}

type objKey struct {
	resource, namespace, name string
}

// binding is a RoleBinding or ClusterRoleBinding reduced to what
// evaluation needs.
type binding struct {
	namespace string // "" for a ClusterRoleBinding
	name      string
	roleRef   rbacv1.RoleRef
}

type rbacSnapshot struct {
	clusterRoles map[string][]rbacv1.PolicyRule
	roles        map[string][]rbacv1.PolicyRule // "namespace/name"
	// cluster holds ClusterRoleBindings, namespaced RoleBindings by
	// namespace.
	cluster    *bindingIndex
	namespaced map[string]*bindingIndex
}

// bindingIndex finds bindings by the user names and groups they name
// (ServiceAccount subjects under their user name).
type bindingIndex struct {
	users, groups map[string][]*binding
}

func newBindingIndex() *bindingIndex {
	return &bindingIndex{users: map[string][]*binding{}, groups: map[string][]*binding{}}
}

// NewRBAC loads the RBAC objects of the store. Call it before the store
// can commit anything (or subscribe first: events at or before the loaded
// revision are ignored).
func NewRBAC(ctx context.Context, store Store) (*RBAC, error) {
	a := &RBAC{objs: map[objKey][]byte{}}
	for _, gvr := range []schema.GroupVersionResource{gvrClusterRoles, gvrRoles, gvrClusterRoleBindings, gvrRoleBindings} {
		res, err := store.ListFunc(ctx, gvr, metaclient.ListOptions{}, func(_ int64, o metaclient.Object) error {
			a.objs[objKey{gvr.Resource, o.Namespace, o.Name}] = append([]byte(nil), o.Data...)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", gvr.Resource, err)
		}
		if res.Revision > a.loadRev {
			a.loadRev = res.Revision
		}
	}
	a.rebuild()
	return a, nil
}

// Publish implements event.Subscriber: RBAC changes take effect before it
// returns, so the next request sees them.
func (a *RBAC) Publish(events []event.Event) {
	changed := false
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range events {
		ev := &events[i]
		if ev.GVR.Group != rbacv1.GroupName || ev.Revision <= a.loadRev {
			continue
		}
		switch ev.GVR.Resource {
		case gvrClusterRoles.Resource, gvrRoles.Resource, gvrClusterRoleBindings.Resource, gvrRoleBindings.Resource:
		default:
			continue
		}
		k := objKey{ev.GVR.Resource, ev.Namespace, ev.Name}
		if ev.Type == watch.Deleted {
			delete(a.objs, k)
		} else {
			a.objs[k] = ev.Object
		}
		changed = true
	}
	if changed {
		a.rebuild()
	}
}

// rebuild decodes the objects into a new snapshot (a.mu held or a not yet
// shared). An object that does not decode is logged and left out.
func (a *RBAC) rebuild() {
	s := &rbacSnapshot{
		clusterRoles: map[string][]rbacv1.PolicyRule{},
		roles:        map[string][]rbacv1.PolicyRule{},
		cluster:      newBindingIndex(),
		namespaced:   map[string]*bindingIndex{},
	}
	roles, crbs := bootstrapPolicy()
	for i := range roles {
		s.clusterRoles[roles[i].Name] = roles[i].Rules
	}
	stored := map[string]bool{}
	for k := range a.objs {
		if k.resource == gvrClusterRoleBindings.Resource {
			stored[k.name] = true
		}
	}
	for i := range crbs {
		if !stored[crbs[i].Name] {
			s.addBinding("", crbs[i].Name, crbs[i].RoleRef, crbs[i].Subjects)
		}
	}
	for k, data := range a.objs {
		if err := s.add(k, data); err != nil {
			klog.ErrorS(err, "lwserver RBAC: object left out", "resource", k.resource, "namespace", k.namespace, "name", k.name)
		}
	}
	a.snap.Store(s)
}

func (s *rbacSnapshot) add(k objKey, data []byte) error {
	switch k.resource {
	case gvrClusterRoles.Resource:
		var o rbacv1.ClusterRole
		if err := json.Unmarshal(data, &o); err != nil {
			return err
		}
		s.clusterRoles[k.name] = o.Rules
	case gvrRoles.Resource:
		var o rbacv1.Role
		if err := json.Unmarshal(data, &o); err != nil {
			return err
		}
		s.roles[k.namespace+"/"+k.name] = o.Rules
	case gvrClusterRoleBindings.Resource:
		var o rbacv1.ClusterRoleBinding
		if err := json.Unmarshal(data, &o); err != nil {
			return err
		}
		s.addBinding("", k.name, o.RoleRef, o.Subjects)
	case gvrRoleBindings.Resource:
		var o rbacv1.RoleBinding
		if err := json.Unmarshal(data, &o); err != nil {
			return err
		}
		s.addBinding(k.namespace, k.name, o.RoleRef, o.Subjects)
	}
	return nil
}

func (s *rbacSnapshot) addBinding(namespace, name string, ref rbacv1.RoleRef, subjects []rbacv1.Subject) {
	b := &binding{namespace: namespace, name: name, roleRef: ref}
	idx := s.cluster
	if namespace != "" {
		if idx = s.namespaced[namespace]; idx == nil {
			idx = newBindingIndex()
			s.namespaced[namespace] = idx
		}
	}
	seen := map[string]bool{}
	for i := range subjects {
		name, group, ok := subjectName(&subjects[i], namespace)
		key := name
		if group {
			key = "g:" + name
		}
		if !ok || seen[key] {
			continue
		}
		seen[key] = true
		if group {
			idx.groups[name] = append(idx.groups[name], b)
		} else {
			idx.users[name] = append(idx.users[name], b)
		}
	}
}

// rules returns the rules a binding grants, or the error kube-apiserver
// reports for a reference it cannot resolve.
func (s *rbacSnapshot) rules(b *binding) ([]rbacv1.PolicyRule, error) {
	switch b.roleRef.Kind {
	case "ClusterRole":
		if r, ok := s.clusterRoles[b.roleRef.Name]; ok {
			return r, nil
		}
		return nil, fmt.Errorf("clusterrole.rbac.authorization.k8s.io %q not found", b.roleRef.Name)
	case "Role":
		if b.namespace != "" {
			if r, ok := s.roles[b.namespace+"/"+b.roleRef.Name]; ok {
				return r, nil
			}
		}
		return nil, fmt.Errorf("role.rbac.authorization.k8s.io %q not found", b.roleRef.Name)
	}
	return nil, fmt.Errorf("unsupported role reference kind: %q", b.roleRef.Kind)
}

// visit calls fn with the rules of every binding that applies to u in
// namespace ("" = cluster bindings only), ClusterRoleBindings first, until
// fn returns false. It returns the resolution errors met.
func (s *rbacSnapshot) visit(u user.Info, namespace string, fn func(rule *rbacv1.PolicyRule) bool) []error {
	var errs []error
	// visitAll returns false once fn asked to stop.
	visitAll := func(bs []*binding) bool {
		for _, b := range bs {
			rules, err := s.rules(b)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for i := range rules {
				if !fn(&rules[i]) {
					return false
				}
			}
		}
		return true
	}
	idx := s.cluster
	for pass := 0; pass < 2 && idx != nil; pass++ {
		if !visitAll(idx.users[u.GetName()]) {
			return errs
		}
		for _, g := range u.GetGroups() {
			if !visitAll(idx.groups[g]) {
				return errs
			}
		}
		idx = nil
		if namespace != "" {
			idx = s.namespaced[namespace]
		}
	}
	return errs
}

// Authorize implements Authorizer with kube-apiserver's RBAC semantics: an
// allow, or no opinion with the reason kube-apiserver gives (the roles a
// binding references that do not exist).
func (a *RBAC) Authorize(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	u := attrs.GetUser()
	if u == nil {
		return authorizer.DecisionNoOpinion, "", nil
	}
	allowed := false
	errs := a.snap.Load().visit(u, attrs.GetNamespace(), func(rule *rbacv1.PolicyRule) bool {
		allowed = RuleAllows(attrs, rule)
		return !allowed
	})
	if allowed {
		return authorizer.DecisionAllow, "", nil
	}
	return authorizer.DecisionNoOpinion, rbacReason(errs), nil
}

func rbacReason(errs []error) string {
	switch len(errs) {
	case 0:
		return ""
	case 1:
		return "RBAC: " + errs[0].Error()
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return "RBAC: [" + strings.Join(msgs, ", ") + "]"
}

// RulesFor lists the rules that apply to u in namespace (for
// SelfSubjectRulesReview), with the resolution errors met.
func (a *RBAC) RulesFor(u user.Info, namespace string) ([]rbacv1.PolicyRule, []error) {
	var out []rbacv1.PolicyRule
	errs := a.snap.Load().visit(u, namespace, func(rule *rbacv1.PolicyRule) bool {
		out = append(out, *rule)
		return true
	})
	return out, errs
}
