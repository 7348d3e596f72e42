package handlers

import (
	"fmt"
	"net/http"
	"strconv"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metainternalversionscheme "k8s.io/apimachinery/pkg/apis/meta/internalversion/scheme"
	metainternalversionvalidation "k8s.io/apimachinery/pkg/apis/meta/internalversion/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/endpoints/request"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/edgecore/edgecore/edge/pkg/kube"
)

// Request is a parsed read request on a resource: get, list or watch. The
// router builds one for every resource request and hands it to the get, list
// or watch handler; everything client-visible about the request has been
// validated by then (unknown resource → 404, bad selectors → 400, invalid
// option combinations → 422, unacceptable media type → 406).
type Request struct {
	// Info is the k8s RequestInfo of the request.
	Info *request.RequestInfo
	// Verb is "get", "list" or "watch".
	Verb     string
	Resource kube.Resource
	// Namespace is the namespace from the path; "" for all namespaces and
	// for cluster-scoped resources.
	Namespace string
	// Name is the object name from the path ("" for collections). A watch
	// of a single object has Name set and Options.FieldSelector includes
	// metadata.name=Name (as kube-apiserver does).
	Name string
	// Subresource is "" or "status" (served as the object itself).
	Subresource string
	// Options are the decoded, defaulted and validated list/watch options
	// (resourceVersion, resourceVersionMatch, limit, continue,
	// timeoutSeconds, allowWatchBookmarks, sendInitialEvents). LabelSelector
	// and FieldSelector are never nil. For get only ResourceVersion is set.
	Options metainternalversion.ListOptions
	// Output is the negotiated response encoding.
	Output *Output
	// TableOptions are set when Output.Kind is OutputTable.
	TableOptions *metav1.TableOptions
}

// GroupResource of the request's resource (for error messages).
func (req *Request) GroupResource() schema.GroupResource { return req.Resource.GVR.GroupResource() }

// Labels returns the label selector, nil when it selects everything.
func (req *Request) Labels() labels.Selector {
	if req.Options.LabelSelector == nil || req.Options.LabelSelector.Empty() {
		return nil
	}
	return req.Options.LabelSelector
}

// Fields returns the field selector, nil when it selects everything.
func (req *Request) Fields() fields.Selector {
	if req.Options.FieldSelector == nil || req.Options.FieldSelector.Empty() {
		return nil
	}
	return req.Options.FieldSelector
}

// resolveResource maps the request info to a served resource and the
// namespace/name/subresource of the path, or a 404 as kube-apiserver's for a
// path it has no route for.
func (h *Handler) resolveResource(info *request.RequestInfo) (res kube.Resource, ns, name, sub string, err error) {
	gvr := schema.GroupVersionResource{Group: info.APIGroup, Version: info.APIVersion, Resource: info.Resource}
	res, ok := h.mapper.ByGVR(gvr)
	if !ok {
		return res, "", "", "", errNotFoundPath()
	}
	ns = info.Namespace
	// The name in the path (RequestInfo also copies a metadata.name field
	// selector into Name for list and watch; that is not a path name).
	if len(info.Parts) >= 2 {
		name = info.Parts[1]
	}
	if len(info.Parts) >= 3 {
		sub = info.Parts[2]
	}
	if len(info.Parts) > 3 {
		return res, "", "", "", errNotFoundPath()
	}
	if gvr.Group == "" && gvr.Resource == "namespaces" {
		// /api/v1/namespaces/{name}: RequestInfo reports the name as the namespace too.
		ns = ""
	}
	switch {
	case !res.Namespaced && ns != "":
		// no /namespaces/{ns}/ route for a cluster-scoped resource
		return res, "", "", "", errNotFoundPath()
	case res.Namespaced && ns == "" && name != "":
		// no /api/v1/pods/{name} route
		return res, "", "", "", errNotFoundPath()
	case sub != "" && sub != "status" && !(gvr.Group == "" && (objectSubresources[gvr.Resource][sub] || createSubresources[gvr.Resource][sub])):
		return res, "", "", "", errNotFoundPath()
	}
	return res, ns, name, sub, nil
}

// parseRequest builds the Request of a get, list or watch.
func (h *Handler) parseRequest(r *http.Request, info *request.RequestInfo) (*Request, error) {
	res, ns, name, sub, err := h.resolveResource(info)
	if err != nil {
		return nil, err
	}
	req := &Request{Info: info, Verb: info.Verb, Resource: res, Namespace: ns, Name: name, Subresource: sub}
	if sub != "" && req.Verb != "get" {
		return nil, errNotFoundPath()
	}

	req.Output, err = h.negotiate(r, res.BuiltIn)
	if err != nil {
		return nil, err
	}

	query := r.URL.Query()
	switch req.Verb {
	case "get":
		var opts metav1.GetOptions
		if err := metainternalversionscheme.ParameterCodec.DecodeParameters(query, metav1.SchemeGroupVersion, &opts); err != nil {
			return nil, errBadRequest(err.Error())
		}
		if _, err := parseResourceVersion(opts.ResourceVersion); err != nil {
			return nil, err
		}
		req.Options.ResourceVersion = opts.ResourceVersion
		req.Options.LabelSelector = labels.Everything()
		req.Options.FieldSelector = fields.Everything()
	case "list", "watch":
		if err := h.parseListOptions(query, req); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("parseRequest: unexpected verb %q", req.Verb)
	}

	switch req.Output.Kind {
	case OutputTable:
		opts := &metav1.TableOptions{}
		if err := metainternalversionscheme.ParameterCodec.DecodeParameters(query, metav1.SchemeGroupVersion, opts); err != nil {
			return nil, errBadRequest(err.Error())
		}
		switch errs := metav1validation.ValidateTableOptions(opts); len(errs) {
		case 0:
		case 1:
			return nil, errBadRequest(fmt.Sprintf("Unable to convert to Table as requested: %v", errs[0].Error()))
		default:
			return nil, errBadRequest(fmt.Sprintf("Unable to convert to Table as requested: %v", errs))
		}
		req.TableOptions = opts
	case OutputPartialObjectMetadata:
		if req.Verb == "list" {
			return nil, notAcceptable(fmt.Sprintf("you requested PartialObjectMetadata, but the requested object is a list (%s)", h.goListType(res)))
		}
	case OutputPartialObjectMetadataList:
		if req.Verb == "get" {
			return nil, notAcceptable(fmt.Sprintf("you requested PartialObjectMetadataList, but the requested object is not a list (%s)", h.goType(res)))
		}
	}
	return req, nil
}

// parseListOptions decodes, defaults and validates list/watch options as
// kube-apiserver's listOpts does (handlers/get.go).
func (h *Handler) parseListOptions(query map[string][]string, req *Request) error {
	opts := metainternalversion.ListOptions{}
	if err := metainternalversionscheme.ParameterCodec.DecodeParameters(query, metav1.SchemeGroupVersion, &opts); err != nil {
		return errBadRequest(err.Error())
	}
	// The verb comes from RequestInfo (watch=true or a /watch/ path).
	opts.Watch = req.Verb == "watch"
	metainternalversion.SetListOptionsDefaults(&opts, true)
	if errs := metainternalversionvalidation.ValidateListOptions(&opts, true); len(errs) > 0 {
		return apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "ListOptions"}, "", errs)
	}
	if _, err := parseResourceVersion(opts.ResourceVersion); err != nil {
		return err
	}
	if opts.Limit < 0 {
		opts.Limit = 0
	}
	if opts.LabelSelector == nil {
		opts.LabelSelector = labels.Everything()
	}
	if opts.FieldSelector == nil {
		opts.FieldSelector = fields.Everything()
	}
	if err := kube.ValidateFieldSelector(req.Resource, opts.FieldSelector); err != nil {
		return errBadRequest(err.Error())
	}
	if req.Name != "" {
		// A watch of a single object: the name is a metadata.name selector.
		if !opts.FieldSelector.Empty() {
			selected, ok := opts.FieldSelector.RequiresExactMatch("metadata.name")
			if !ok || selected != req.Name {
				return errBadRequest("fieldSelector metadata.name doesn't match requested name")
			}
		} else {
			opts.FieldSelector = fields.OneTermEqualSelector("metadata.name", req.Name)
		}
	}
	req.Options = opts
	return nil
}

// parseResourceVersion parses a resourceVersion parameter; "" and "0" are 0.
func parseResourceVersion(rv string) (int64, error) {
	if rv == "" || rv == "0" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		msg := "must be a non-negative integer"
		if err != nil {
			msg = err.Error()
		}
		return 0, errBadRequest(field.Invalid(field.NewPath("resourceVersion"), rv, msg).Error())
	}
	return n, nil
}

// goType names the Go type kube-apiserver would have for an object of res
// (for the wording of its 406 errors).
func (h *Handler) goType(res kube.Resource) string {
	if res.BuiltIn {
		if obj, err := h.scheme.New(res.GVK()); err == nil {
			return fmt.Sprintf("%T", obj)
		}
	}
	return "*unstructured.Unstructured"
}

func (h *Handler) goListType(res kube.Resource) string {
	if res.BuiltIn {
		if obj, err := h.scheme.New(res.GVR.GroupVersion().WithKind(res.ListKind)); err == nil {
			return fmt.Sprintf("%T", obj)
		}
	}
	return "*unstructured.UnstructuredList"
}

// notAcceptable is kube-apiserver's 406 for a conversion it cannot make.
func notAcceptable(msg string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusNotAcceptable,
		Reason:  metav1.StatusReasonNotAcceptable,
		Message: msg,
	}}
}
