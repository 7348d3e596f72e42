package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/openapi"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// OpenAPI documents, served as kube-apiserver serves them (its
// kube-openapi handler and handler3): /openapi/v2 as JSON or gnostic
// protobuf, /openapi/v3 the list of group-version documents at
// hash-addressed URLs, /openapi/v3/<gv> each document. Every document has an
// ETag (its hash) and answers If-None-Match with 304; a hash-addressed
// request is cacheable for a year, a stale hash is redirected to the current
// one.

// The protobuf media types of the documents: kube-openapi accepts both
// spellings and answers with the second (the first does not parse as a
// media type).
const (
	openAPIV2ProtoOld = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	openAPIV2Proto    = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
	openAPIV3ProtoOld = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"
	openAPIV3Proto    = "application/com.github.proto-openapi.spec.v3.v1.0+protobuf"
)

// serveOpenAPI serves p under /openapi; false if p is not an OpenAPI path.
func (h *Handler) serveOpenAPI(w http.ResponseWriter, r *http.Request, p string) bool {
	rest, ok := strings.CutPrefix(p, "/openapi/")
	if !ok {
		return false
	}
	set, err := h.openAPIDocuments(r)
	if err != nil {
		h.WriteError(w, r, err)
		return true
	}
	switch {
	case rest == "v2":
		h.serveOpenAPIV2(w, r, set.V2)
	case rest == "v3":
		writeDoc(w, r, set.Root, "application/json", set.Root.JSON)
	case strings.HasPrefix(rest, "v3/"):
		h.serveOpenAPIV3(w, r, set, strings.TrimPrefix(rest, "v3/"))
	default:
		h.WriteError(w, r, errNotFoundPath())
	}
	return true
}

// openAPIDocuments are the documents for the CRDs stored now.
func (h *Handler) openAPIDocuments(r *http.Request) (*openapi.Set, error) {
	res, err := h.store.List(r.Context(), kube.CRDResource, metaclient.ListOptions{DataOnly: true})
	if err != nil {
		return nil, storeError(err, kube.CRDResource.GroupResource(), "")
	}
	crds := make([][]byte, len(res.Items))
	for i := range res.Items {
		crds[i] = res.Items[i].Data
	}
	set, err := h.openapi.Documents(crds)
	if err != nil {
		return nil, ErrInternal(err)
	}
	return set, nil
}

func (h *Handler) serveOpenAPIV2(w http.ResponseWriter, r *http.Request, doc *openapi.Doc) {
	h.serveDocument(w, r, doc, openAPIV2Proto, openAPIV2ProtoOld)
}

func (h *Handler) serveOpenAPIV3(w http.ResponseWriter, r *http.Request, set *openapi.Set, gv string) {
	doc, ok := set.V3[gv]
	if !ok {
		h.WriteError(w, r, errNotFoundPath())
		return
	}
	if hash := r.URL.Query().Get("hash"); hash != "" {
		if hash != doc.Hash {
			// kube-apiserver: the document changed; its current URL.
			http.Redirect(w, r, "/openapi/v3/"+gv+"?hash="+doc.Hash, http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Cache-Control", "public, immutable")
		w.Header().Set("Expires", time.Now().AddDate(1, 0, 0).UTC().Format(http.TimeFormat))
	}
	h.serveDocument(w, r, doc, openAPIV3Proto, openAPIV3ProtoOld)
}

// serveDocument answers with doc as JSON or, when the client prefers it,
// as protobuf (protoType, also asked for as protoOld).
func (h *Handler) serveDocument(w http.ResponseWriter, r *http.Request, doc *openapi.Doc, protoType, protoOld string) {
	switch openAPIFormat(r.Header.Get("Accept"), protoType, protoOld) {
	case "json":
		writeDoc(w, r, doc, "application/json", doc.JSON)
	case "proto":
		b, err := doc.Proto()
		if err != nil {
			h.WriteError(w, r, ErrInternal(err))
			return
		}
		writeDoc(w, r, doc, protoType, b)
	default:
		h.WriteError(w, r, notAcceptable("only application/json and "+protoType+" are served"))
	}
}

// openAPIFormat is the first of the Accept header's media types served:
// "json", "proto" or "" (none).
func openAPIFormat(accept, protoType, protoOld string) string {
	if accept == "" {
		return "json"
	}
	for _, part := range strings.Split(accept, ",") {
		switch mt := strings.TrimSpace(strings.SplitN(part, ";", 2)[0]); mt {
		case "*/*", "application/*", "application/json":
			return "json"
		case protoType, protoOld:
			return "proto"
		}
	}
	return ""
}

// writeDoc writes body with doc's ETag, or 304 when the client has it.
func writeDoc(w http.ResponseWriter, r *http.Request, doc *openapi.Doc, contentType string, body []byte) {
	etag := `"` + doc.Hash + `"`
	w.Header().Set("Etag", etag)
	w.Header().Add("Vary", "Accept")
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == etag || inm == "*" || strings.Contains(inm, etag)) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeRaw(w, http.StatusOK, contentType, body)
}
