package auth

import (
	"context"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// The self reviews kubectl auth whoami / can-i / can-i --list send, answered
// from the same authenticator and authorizer as the requests themselves
// (kube-apiserver's registry/authentication/selfsubjectreview and
// registry/authorization/selfsubject{access,rules}review).

// SelfSubjectReview answers `kubectl auth whoami`.
func SelfSubjectReview(u user.Info) *authenticationv1.SelfSubjectReview {
	r := &authenticationv1.SelfSubjectReview{}
	r.Status.UserInfo = authenticationv1.UserInfo{Username: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups()}
	if extra := u.GetExtra(); len(extra) > 0 {
		r.Status.UserInfo.Extra = map[string]authenticationv1.ExtraValue{}
		for k, v := range extra {
			r.Status.UserInfo.Extra[k] = v
		}
	}
	return r
}

// SelfSubjectAccessReview answers `kubectl auth can-i VERB RESOURCE`.
func SelfSubjectAccessReview(ctx context.Context, az Authorizer, u user.Info, in *authorizationv1.SelfSubjectAccessReview) *authorizationv1.SelfSubjectAccessReview {
	a := authorizer.AttributesRecord{User: u}
	if ra := in.Spec.ResourceAttributes; ra != nil {
		a.Verb, a.Namespace, a.APIGroup, a.APIVersion = ra.Verb, ra.Namespace, ra.Group, ra.Version
		a.Resource, a.Subresource, a.Name, a.ResourceRequest = ra.Resource, ra.Subresource, ra.Name, true
	} else if nra := in.Spec.NonResourceAttributes; nra != nil {
		a.Verb, a.Path = nra.Verb, nra.Path
	}
	out := in.DeepCopy()
	decision, reason, err := az.Authorize(ctx, a)
	out.Status = authorizationv1.SubjectAccessReviewStatus{
		Allowed: decision == authorizer.DecisionAllow,
		Denied:  decision == authorizer.DecisionDeny,
		Reason:  reason,
	}
	if err != nil {
		out.Status.EvaluationError = err.Error()
	}
	return out
}

// RuleLister lists the rules that apply to a user in a namespace.
type RuleLister interface {
	RulesFor(u user.Info, namespace string) ([]rbacv1.PolicyRule, []error)
}

// SelfSubjectRulesReview answers `kubectl auth can-i --list`.
func SelfSubjectRulesReview(rl RuleLister, u user.Info, in *authorizationv1.SelfSubjectRulesReview) *authorizationv1.SelfSubjectRulesReview {
	out := in.DeepCopy()
	rules, errs := rl.RulesFor(u, in.Spec.Namespace)
	st := authorizationv1.SubjectRulesReviewStatus{
		ResourceRules:    []authorizationv1.ResourceRule{},
		NonResourceRules: []authorizationv1.NonResourceRule{},
	}
	for _, r := range rules {
		if len(r.Resources) > 0 {
			st.ResourceRules = append(st.ResourceRules, authorizationv1.ResourceRule{
				Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames})
		}
		if len(r.NonResourceURLs) > 0 {
			st.NonResourceRules = append(st.NonResourceRules, authorizationv1.NonResourceRule{
				Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
		}
	}
	if len(errs) > 0 {
		st.EvaluationError = rbacReason(errs)
	}
	out.Status = st
	return out
}
