package auth

import (
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// Attributes are the authorization attributes of a request, as
// kube-apiserver's filters build them from the RequestInfo.
func Attributes(u user.Info, info *request.RequestInfo, path string) authorizer.AttributesRecord {
	a := authorizer.AttributesRecord{User: u, Path: path}
	if info == nil {
		a.Verb = "get"
		return a
	}
	a.Verb = info.Verb
	a.Namespace = info.Namespace
	a.APIGroup = info.APIGroup
	a.APIVersion = info.APIVersion
	a.Resource = info.Resource
	a.Subresource = info.Subresource
	a.Name = info.Name
	a.ResourceRequest = info.IsResourceRequest
	return a
}

// Forbidden is kube-apiserver's 403 for a denied request
// (endpoints/handlers/responsewriters.Forbidden): `pods is forbidden: User
// "x" cannot list resource "pods" in API group "" in the namespace "y"`,
// with the authorizer's reason appended when it gave one.
func Forbidden(a authorizer.Attributes, reason string) *apierrors.StatusError {
	msg := sanitizer.Replace(forbiddenMessage(a))
	if reason != "" {
		msg += ": " + reason
	}
	gr := schema.GroupResource{Group: a.GetAPIGroup(), Resource: a.GetResource()}
	return apierrors.NewForbidden(gr, a.GetName(), plainError(msg))
}

// sanitizer escapes what kube-apiserver escapes in the message.
var sanitizer = strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;")

type plainError string

func (e plainError) Error() string { return string(e) }

func forbiddenMessage(a authorizer.Attributes) string {
	name := ""
	if u := a.GetUser(); u != nil {
		name = u.GetName()
	}
	if !a.IsResourceRequest() {
		return fmt.Sprintf("User %q cannot %s path %q", name, a.GetVerb(), a.GetPath())
	}
	resource := a.GetResource()
	if sub := a.GetSubresource(); sub != "" {
		resource += "/" + sub
	}
	if ns := a.GetNamespace(); ns != "" {
		return fmt.Sprintf("User %q cannot %s resource %q in API group %q in the namespace %q", name, a.GetVerb(), resource, a.GetAPIGroup(), ns)
	}
	return fmt.Sprintf("User %q cannot %s resource %q in API group %q at the cluster scope", name, a.GetVerb(), resource, a.GetAPIGroup())
}

// Unauthorized is kube-apiserver's 401 (the cause is logged, never sent).
func Unauthorized() *apierrors.StatusError { return apierrors.NewUnauthorized("Unauthorized") }
