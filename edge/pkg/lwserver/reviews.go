package lwserver

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/auth"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/handlers"
)

// Self reviews (kubectl auth whoami / can-i / can-i --list) are answered
// here, from the same authenticator and authorizer as every request: they
// are how an operator debugs RBAC on a node that is offline. The chain has
// authorized the create already (system:basic-user).

// Review paths.
const (
	pathSelfSubjectReviews       = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
	pathSelfSubjectAccessReviews = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
	pathSelfSubjectRulesReviews  = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
)

// routeReviews adds the review endpoints to mux.
func routeReviews(mux *http.ServeMux, h *handlers.Handler, sec *security) {
	serve := func(gv schema.GroupVersion, answer func(r *http.Request, in runtime.Object) (runtime.Object, error)) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			in, err := decodeBody(h, r)
			if err != nil {
				h.WriteError(w, r, err)
				return
			}
			out, err := answer(r, in)
			if err != nil {
				h.WriteError(w, r, err)
				return
			}
			writeCreated(w, r, h, gv, out)
		})
	}
	authnGV := authenticationv1.SchemeGroupVersion
	authzGV := authorizationv1.SchemeGroupVersion
	mux.Handle("POST "+pathSelfSubjectReviews, serve(authnGV, func(r *http.Request, in runtime.Object) (runtime.Object, error) {
		if _, ok := in.(*authenticationv1.SelfSubjectReview); !ok {
			return nil, wrongKind(in, "SelfSubjectReview")
		}
		u, _ := request.UserFrom(r.Context())
		out := auth.SelfSubjectReview(u)
		out.TypeMeta.Kind, out.TypeMeta.APIVersion = "SelfSubjectReview", authnGV.String()
		return out, nil
	}))
	mux.Handle("POST "+pathSelfSubjectAccessReviews, serve(authzGV, func(r *http.Request, in runtime.Object) (runtime.Object, error) {
		review, ok := in.(*authorizationv1.SelfSubjectAccessReview)
		if !ok {
			return nil, wrongKind(in, "SelfSubjectAccessReview")
		}
		if review.Spec.ResourceAttributes == nil && review.Spec.NonResourceAttributes == nil {
			return nil, handlers.ErrBadRequest("SelfSubjectAccessReview: exactly one of resourceAttributes or nonResourceAttributes must be set")
		}
		u, _ := request.UserFrom(r.Context())
		out := auth.SelfSubjectAccessReview(r.Context(), sec.rbac, u, review)
		out.TypeMeta.Kind, out.TypeMeta.APIVersion = "SelfSubjectAccessReview", authzGV.String()
		return out, nil
	}))
	mux.Handle("POST "+pathSelfSubjectRulesReviews, serve(authzGV, func(r *http.Request, in runtime.Object) (runtime.Object, error) {
		review, ok := in.(*authorizationv1.SelfSubjectRulesReview)
		if !ok {
			return nil, wrongKind(in, "SelfSubjectRulesReview")
		}
		u, _ := request.UserFrom(r.Context())
		out := auth.SelfSubjectRulesReview(sec.rbac, u, review)
		out.TypeMeta.Kind, out.TypeMeta.APIVersion = "SelfSubjectRulesReview", authzGV.String()
		return out, nil
	}))
}

func wrongKind(in runtime.Object, want string) error {
	return handlers.ErrBadRequest(fmt.Sprintf("the body is a %s, not a %s", in.GetObjectKind().GroupVersionKind().Kind, want))
}

// decodeBody decodes a JSON, YAML or protobuf body into its typed object.
func decodeBody(h *handlers.Handler, r *http.Request) (runtime.Object, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, handlers.ErrEntityTooLarge(mbe.Limit)
		}
		return nil, handlers.ErrBadRequest(fmt.Sprintf("reading the body: %v", err))
	}
	obj, _, err := h.Codecs().UniversalDeserializer().Decode(b, nil, nil)
	if err != nil {
		return nil, handlers.ErrBadRequest(fmt.Sprintf("decoding the body: %v", err))
	}
	return obj, nil
}

// writeCreated writes obj with 201, in the media type the client accepts.
func writeCreated(w http.ResponseWriter, r *http.Request, h *handlers.Handler, gv schema.GroupVersion, obj runtime.Object) {
	_, info, err := negotiation.NegotiateOutputMediaType(r, h.Codecs(), negotiation.DefaultEndpointRestrictions)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	b, err := h.EncodeObject(info, gv, obj)
	if err != nil {
		h.WriteError(w, r, handlers.ErrInternal(err))
		return
	}
	w.Header().Set("Content-Type", info.MediaType)
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(b)
}
