package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	"sigs.k8s.io/yaml"

	"github.com/edgecore/edgecore/edge/pkg/kube"
)

// Writes is where lwserver sends create / update / patch / delete /
// deletecollection: the uplink, which forwards them to the cloud's
// kube-apiserver and persists the answer before returning (docs/uplink.md).
// Wired in cmd/edgecore; nil (no uplink) answers writes with 405.
type Writes interface {
	// Online reports whether the cloud is reachable now (offline: 503).
	Online() bool
	// Forward performs the write. An error that is an API status (a local
	// 409 for a stale edge resourceVersion) is sent as is; any other error
	// means the cloud could not be reached (503).
	Forward(ctx context.Context, req ForwardRequest) (ForwardResult, error)
}

// ForwardRequest is one write to forward (see Writes).
type ForwardRequest struct {
	Method string
	// Path and RawQuery of the request: the cloud serves the same path.
	Path, RawQuery string
	// ContentType is JSON for create, update and delete (bodies in YAML or
	// protobuf are converted), the patch type for a patch.
	ContentType string
	Body        []byte
	// BearerToken is the caller's own token ("" = the caller was
	// authenticated otherwise, e.g. by a client certificate: the uplink
	// writes as the node).
	BearerToken string
	GVR         schema.GroupVersionResource
	Namespace   string
	Name        string // "" for create and deletecollection
	Subresource string // "" or "status"
}

// ForwardResult is the cloud's code and a JSON body (objects with edge
// resourceVersions, or the cloud's Status).
type ForwardResult struct {
	Code int
	Body []byte
}

// retryAfterSeconds is the Retry-After of a write refused while offline:
// the server checker probes every 5 s.
const retryAfterSeconds = 5

// errCloudUnreachable is the 503 a write gets while the uplink is offline.
func errCloudUnreachable(cause string) error {
	err := apierrors.NewServiceUnavailable("the cloud's kube-apiserver is not reachable from this node (" + cause + "): writes are refused until it is; reads and watches are served from the node's store")
	err.ErrStatus.Details = &metav1.StatusDetails{RetryAfterSeconds: retryAfterSeconds}
	return err
}

// forwardWrite serves a write through the uplink: 503 with Retry-After
// while offline, else the cloud's answer in the negotiated encoding.
func (h *Handler) forwardWrite(w http.ResponseWriter, r *http.Request, res kube.Resource, ns, name, sub string) {
	if !h.writes.Online() {
		drain(r)
		h.WriteError(w, r, errCloudUnreachable("offline"))
		return
	}
	body, ct, err := h.writeBody(r, res)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	out, err := h.writes.Forward(r.Context(), ForwardRequest{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		ContentType: ct, Body: body, BearerToken: bearerToken(r),
		GVR: res.GVR, Namespace: ns, Name: name, Subresource: sub,
	})
	if err != nil {
		var st apierrors.APIStatus
		if errors.As(err, &st) {
			h.WriteError(w, r, err)
			return
		}
		h.WriteError(w, r, errCloudUnreachable(err.Error()))
		return
	}
	h.writeForwarded(w, r, res, out)
}

// writeBody reads the body: patches as they are, other bodies as JSON.
func (h *Handler) writeBody(r *http.Request, res kube.Resource) ([]byte, string, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if asMaxBytes(err, &mbe) {
			return nil, "", ErrEntityTooLarge(mbe.Limit)
		}
		return nil, "", errBadRequest(err.Error())
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case r.Method == http.MethodPatch:
		return data, mt, nil
	case len(bytes.TrimSpace(data)) == 0:
		return data, MediaTypeJSON, nil
	case mt == MediaTypeYAML:
		j, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, "", errBadRequest(err.Error())
		}
		return j, MediaTypeJSON, nil
	case mt == MediaTypeProtobuf:
		return h.protobufToJSON(data, res)
	}
	return data, MediaTypeJSON, nil
}

// protobufToJSON converts a protobuf body of a built-in kind (or of
// DeleteOptions) to JSON.
func (h *Handler) protobufToJSON(data []byte, res kube.Resource) ([]byte, string, error) {
	obj, _, err := h.codecs.infos[2].Serializer.Decode(data, nil, nil)
	if err != nil {
		return nil, "", errBadRequest("decoding protobuf body: " + err.Error())
	}
	var buf bytes.Buffer
	if err := h.factory.EncoderForVersion(h.jsonInfo.Serializer, obj.GetObjectKind().GroupVersionKind().GroupVersion()).Encode(obj, &buf); err != nil {
		return nil, "", ErrInternal(err)
	}
	return buf.Bytes(), MediaTypeJSON, nil
}

// writeForwarded sends the forwarded write's answer: JSON as the cloud
// sent it (with edge resourceVersions), else re-encoded as negotiated.
func (h *Handler) writeForwarded(w http.ResponseWriter, r *http.Request, res kube.Resource, out ForwardResult) {
	out.Body = bytes.TrimSpace(out.Body)
	_, info, err := negotiation.NegotiateOutputMediaType(r, h.codecs, negotiation.DefaultEndpointRestrictions)
	if err != nil || info.MediaType == MediaTypeJSON || !json.Valid(out.Body) {
		writeRaw(w, out.Code, MediaTypeJSON, out.Body)
		return
	}
	if info.MediaType == MediaTypeYAML {
		y, err := yaml.JSONToYAML(out.Body)
		if err != nil {
			h.WriteError(w, r, ErrInternal(err))
			return
		}
		writeRaw(w, out.Code, MediaTypeYAML, y)
		return
	}
	obj, gvk, err := h.factory.UniversalDeserializer().Decode(out.Body, nil, nil)
	if err != nil { // not a type protobuf can carry: JSON it is
		writeRaw(w, out.Code, MediaTypeJSON, out.Body)
		return
	}
	h.writeObject(w, r, out.Code, info, gvk.GroupVersion(), obj)
}

// bearerToken is the request's bearer token, "" when there is none.
func bearerToken(r *http.Request) string {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		return strings.TrimSpace(auth[7:])
	}
	return ""
}

// drain reads and drops a request body (its 413 comes from the chain's
// MaxBytesReader whoever answers).
func drain(r *http.Request) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
}
