package handlers

import (
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// Subresources other than status. kube-apiserver routes these per
// resource; lwserver answers each as kube-apiserver would where it can
// (pods/log from the node's log files, the object itself for the
// object-shaped ones), and with a Status that names the limitation where
// the answer needs the node's kubelet or container runtime, which lwserver
// does not reach. A subresource kube-apiserver has no route for gets its
// 404.

// streamingSubresources need a kubelet connection (exec, attach,
// port-forward, proxy) — also their WebSocket and SPDY upgrade attempts.
var streamingSubresources = map[string]map[string]bool{
	"pods":     {"exec": true, "attach": true, "portforward": true, "proxy": true},
	"nodes":    {"proxy": true},
	"services": {"proxy": true},
}

// objectSubresources are answered with the object on GET (kube-apiserver:
// the Pod itself); writes go where writes go.
var objectSubresources = map[string]map[string]bool{
	"pods": {"ephemeralcontainers": true, "resize": true},
}

// createSubresources only take POST (kube-apiserver answers GET with 405).
var createSubresources = map[string]map[string]bool{
	"pods": {"eviction": true, "binding": true},
}

// StatusReasonNotImplemented is the reason of the Status for what needs
// the node's kubelet (501: the server lacks the functionality).
const StatusReasonNotImplemented metav1.StatusReason = "NotImplemented"

// serveSubresource serves a subresource other than status; false when
// the request is for none (the object or its status).
func (h *Handler) serveSubresource(w http.ResponseWriter, r *http.Request, info *request.RequestInfo) bool {
	sub := info.Subresource
	if sub == "" || sub == "status" || !info.IsResourceRequest || len(info.Parts) < 3 {
		return false
	}
	resource := info.Resource
	// only proxy takes a path after the subresource
	if len(info.Parts) > 3 && !streamingSubresources[resource]["proxy"] {
		h.WriteError(w, r, errNotFoundPath())
		return true
	}
	// the core group's pods, nodes and services only
	if info.APIGroup != "" {
		h.WriteError(w, r, errNotFoundPath())
		return true
	}
	switch {
	case resource == "pods" && sub == "log":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.WriteError(w, r, errMethodNotAllowed(info.Verb, podsGR, info.Name))
			return true
		}
		h.serveLog(w, r, info.Namespace, info.Name)
	case streamingSubresources[resource][sub]:
		h.serveStreaming(w, r, info)
	case objectSubresources[resource][sub] && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		// served like status: the object itself
		return false
	case objectSubresources[resource][sub], createSubresources[resource][sub] && r.Method != http.MethodGet:
		h.serveWrite(w, r, info)
	case createSubresources[resource][sub]:
		h.WriteError(w, r, errMethodNotAllowed(info.Verb, podsGR, info.Name))
	default:
		h.WriteError(w, r, errNotFoundPath())
	}
	return true
}

// serveStreaming answers exec, attach, port-forward and proxy: 404 if the
// object does not exist (as kube-apiserver), else 501 naming the
// limitation.
func (h *Handler) serveStreaming(w http.ResponseWriter, r *http.Request, info *request.RequestInfo) {
	res, ns, name, _, err := h.resolveResource(&request.RequestInfo{
		IsResourceRequest: true, APIGroup: info.APIGroup, APIVersion: info.APIVersion,
		Resource: info.Resource, Namespace: info.Namespace, Parts: info.Parts[:2],
	})
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	if _, err := h.store.Get(r.Context(), metaclient.Key{GVR: res.GVR, Namespace: ns, Name: name}); err != nil {
		h.WriteError(w, r, storeError(err, res.GVR.GroupResource(), name))
		return
	}
	what := map[string]string{
		"exec": "exec", "attach": "attach", "portforward": "port-forward", "proxy": "proxy",
	}[info.Subresource]
	msg := fmt.Sprintf("%s is not available through edgecore's API server: it needs the node's kubelet "+
		"and container runtime, which lwserver does not reach (it serves the stored API objects and "+
		"pods/log only); run it on the node with the container runtime's own tools (crictl)", what)
	err = &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusNotImplemented, Reason: StatusReasonNotImplemented,
		Message: msg,
		Details: &metav1.StatusDetails{Name: name, Kind: res.GVR.Resource + "/" + info.Subresource},
	}}
	h.WriteError(w, r, err)
}
