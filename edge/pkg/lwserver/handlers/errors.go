package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	"k8s.io/klog/v2"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// Every error lwserver answers is built here, as the metav1.Status
// kube-apiserver sends for the same condition (same code, reason and wording),
// and written by WriteError in the media type the client negotiated.

// Messages kube-apiserver uses (k8s.io/apiserver/pkg/storage/etcd3/errors.go,
// pkg/storage/errors.go).
const (
	msgExpiredList = "The resourceVersion for the provided list is too old."
	// msgInconsistentContinue is what a continue token from a compacted
	// revision gets; the Status carries a fresh token (rv -1) in its ListMeta.
	msgInconsistentContinue = "The provided continue parameter is too old " +
		"to display a consistent list result. You can start a new list without " +
		"the continue parameter, or use the continue token in this response to " +
		"retrieve the remainder of the results. Continuing with the provided " +
		"token results in an inconsistent list - objects that were created, " +
		"modified, or deleted between the time the first chunk was returned " +
		"and now may show up in the list."
	msgTooLargeRVCause = "Too large resource version"
)

// errNotFoundPath is kube-apiserver's answer for a path no route serves
// (an unknown resource, a namespaced path of a cluster-scoped one, …).
func errNotFoundPath() error {
	return apierrors.NewGenericServerResponse(http.StatusNotFound, "", schema.GroupResource{}, "", "", 0, false)
}

// errNotFound is the 404 for a missing object: `pods "x" not found`.
func errNotFound(gr schema.GroupResource, name string) error {
	return apierrors.NewNotFound(gr, name)
}

// errMethodNotAllowed is the 405 for writes: edgecore has no uplink to send
// them to yet. Wording as kube-apiserver's for a route without that method.
func errMethodNotAllowed(verb string, gr schema.GroupResource, name string) error {
	return apierrors.NewGenericServerResponse(http.StatusMethodNotAllowed, verb, gr, name, "", 0, false)
}

// errWatchNotServed is the 405 for watch requests while no watch server is
// wired in (see WatchServer).
func errWatchNotServed(gr schema.GroupResource) error {
	err := apierrors.NewMethodNotSupported(gr, "watch")
	err.ErrStatus.Message = fmt.Sprintf("watch is not supported on resources of kind %q: this edgecore serves no watch streams yet", gr.String())
	return err
}

// errTooLargeResourceVersion is the 504 a list or get with a resourceVersion
// newer than the store gets once waiting for it timed out; client-go's
// IsTooLargeResourceVersion recognises it by the cause.
func errTooLargeResourceVersion(asked, current int64) error {
	err := apierrors.NewTimeoutError(fmt.Sprintf("Too large resource version: %d, current: %d", asked, current), 1)
	err.ErrStatus.Details.Causes = []metav1.StatusCause{{
		Type:    metav1.CauseTypeResourceVersionTooLarge,
		Message: msgTooLargeRVCause,
	}}
	return err
}

// errExpiredList is the 410 for an exact list at a compacted revision.
func errExpiredList() error { return apierrors.NewResourceExpired(msgExpiredList) }

// errExpiredContinue is the 410 for a continue token whose revision was
// compacted. fresh (may be "") lets the client continue at the latest revision.
func errExpiredContinue(fresh string) error {
	err := apierrors.NewResourceExpired(msgInconsistentContinue)
	err.ErrStatus.ListMeta.Continue = fresh
	return err
}

// errBadRequest is a 400 with msg.
func errBadRequest(msg string) error { return apierrors.NewBadRequest(msg) }

// ErrEntityTooLarge is the 413 for request bodies over the limit.
func ErrEntityTooLarge(limit int64) error {
	return apierrors.NewRequestEntityTooLargeError("limit is " + strconv.FormatInt(limit, 10))
}

// ErrInternal is the 500 for an unexpected failure (a panic, a store error).
func ErrInternal(err error) error { return apierrors.NewInternalError(err) }

// storeError maps a metaclient error to the Status kube-apiserver would send.
func storeError(err error, gr schema.GroupResource, name string) error {
	switch {
	case errors.Is(err, metaclient.ErrNotFound):
		return errNotFound(gr, name)
	case errors.Is(err, metaclient.ErrCompacted):
		return errExpiredList()
	default:
		var st apierrors.APIStatus
		if errors.As(err, &st) {
			return err
		}
		return ErrInternal(err)
	}
}

// StatusFor turns any error into the Status to send. Errors that already are
// Statuses (apierrors, negotiation errors) keep theirs; anything else is a 500.
func StatusFor(err error) *metav1.Status {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		s := st.Status()
		if s.Status == "" {
			s.Status = metav1.StatusFailure
		}
		if s.Code == 0 {
			s.Code = http.StatusInternalServerError
		}
		if s.Message == "" {
			s.Message = http.StatusText(int(s.Code))
		}
		return &s
	}
	s := apierrors.NewInternalError(err).ErrStatus
	return &s
}

// WriteError writes err as a metav1.Status with its HTTP code, encoded in the
// media type the request accepts (JSON when it accepts none we can encode a
// Status in). The watch handler uses it for errors before the stream starts.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusFor(err)
	if status.Code == http.StatusInternalServerError {
		klog.ErrorS(err, "lwserver request failed", "method", r.Method, "path", r.URL.Path, "code", status.Code)
	}
	if status.Code == http.StatusTooManyRequests || status.Code == http.StatusServiceUnavailable || status.Code == http.StatusGatewayTimeout {
		if status.Details != nil && status.Details.RetryAfterSeconds > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(status.Details.RetryAfterSeconds)))
		}
	}
	_, info, nerr := negotiation.NegotiateOutputMediaType(r, h.codecs, negotiation.DefaultEndpointRestrictions)
	if nerr != nil {
		info = h.jsonInfo
	}
	h.writeObject(w, r, int(status.Code), info, statusGV, status)
}

var statusGV = schema.GroupVersion{Version: "v1"}

// ErrBadRequest is a 400 with msg (for the chain's filters).
func ErrBadRequest(msg string) error { return errBadRequest(msg) }
