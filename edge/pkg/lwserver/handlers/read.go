package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

func asMaxBytes(err error, target **http.MaxBytesError) bool { return errors.As(err, target) }

// waitForRevision waits until the store has reached rev, at most h.rvWait;
// then 504 "Too large resource version" as kube-apiserver's watch cache.
func (h *Handler) waitForRevision(ctx context.Context, rev int64) error {
	if rev <= h.store.Revision() {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, h.rvWait)
	defer cancel()
	if err := h.store.WaitForRevision(wctx, rev); err != nil {
		return errTooLargeResourceVersion(rev, h.store.Revision())
	}
	return nil
}

// serveGet answers a get of one object. The stored bytes are the JSON answer.
func (h *Handler) serveGet(w http.ResponseWriter, r *http.Request, req *Request) {
	ctx := r.Context()
	if rv, _ := parseResourceVersion(req.Options.ResourceVersion); rv > 0 {
		// kube-apiserver serves a get at resourceVersion=N from its cache
		// once that has reached N: the current object is at least as new.
		if err := h.waitForRevision(ctx, rv); err != nil {
			h.WriteError(w, r, err)
			return
		}
	}
	obj, err := h.store.Get(ctx, metaclient.Key{GVR: req.Resource.GVR, Namespace: req.Namespace, Name: req.Name})
	if err != nil {
		h.WriteError(w, r, storeError(err, req.GroupResource(), req.Name))
		return
	}
	out := req.Output
	switch out.Kind {
	case OutputObject:
		switch {
		case out.MediaType == MediaTypeJSON && !out.Pretty:
			writeRaw(w, http.StatusOK, MediaTypeJSON, obj.Data)
		case out.MediaType == MediaTypeJSON:
			var buf bytes.Buffer
			if err := json.Indent(&buf, obj.Data, "", "  "); err != nil {
				h.WriteError(w, r, ErrInternal(err))
				return
			}
			buf.WriteByte('\n')
			writeRaw(w, http.StatusOK, MediaTypeJSON, buf.Bytes())
		case out.MediaType == MediaTypeYAML:
			y, err := yaml.JSONToYAML(obj.Data)
			if err != nil {
				h.WriteError(w, r, ErrInternal(err))
				return
			}
			writeRaw(w, http.StatusOK, MediaTypeYAML, y)
		default: // protobuf: built-in kinds only (negotiation guarantees it)
			h.writeProtoObject(w, r, req.Resource, obj.Data)
		}
	case OutputPartialObjectMetadata:
		pom, err := partialObjectMetadata(obj.Data, out.ConvertGV)
		if err != nil {
			h.WriteError(w, r, ErrInternal(err))
			return
		}
		h.writeObject(w, r, http.StatusOK, out.Info, out.ConvertGV, pom)
	case OutputTable:
		table, err := h.table(req, [][]byte{obj.Data})
		if err != nil {
			h.WriteError(w, r, err)
			return
		}
		table.t.ResourceVersion = strconv.FormatInt(obj.Revision, 10)
		h.writeTable(w, r, out, table)
	default:
		h.WriteError(w, r, notAcceptable("unsupported conversion"))
	}
}

// listMeta is a list's metadata.
type listMeta struct {
	ResourceVersion    string `json:"resourceVersion,omitempty"`
	Continue           string `json:"continue,omitempty"`
	RemainingItemCount *int64 `json:"remainingItemCount,omitempty"`
}

func (m listMeta) apply(lm *metav1.ListMeta) {
	lm.ResourceVersion, lm.Continue, lm.RemainingItemCount = m.ResourceVersion, m.Continue, m.RemainingItemCount
}

// ListOptionsFor turns a list request's options into the store's, applying
// kube-apiserver's resourceVersion / resourceVersionMatch / limit / continue
// semantics (API concepts, "Resource versions"). It waits (bounded) for a
// resourceVersion newer than the store.
func (h *Handler) ListOptionsFor(ctx context.Context, req *Request) (metaclient.ListOptions, error) {
	o := req.Options
	lo := metaclient.ListOptions{
		Namespace: req.Namespace,
		Labels:    req.Labels(),
		Fields:    req.Fields(),
		Limit:     o.Limit,
		// Every encoding is built from Data; labels/fields are for selectors,
		// which the store evaluates itself.
		DataOnly: true,
	}
	rv, err := parseResourceVersion(o.ResourceVersion)
	if err != nil {
		return lo, err
	}
	if o.Continue != "" {
		if rv != 0 {
			return lo, errBadRequest("specifying resource version is not allowed when using continue")
		}
		start, tokRV, err := DecodeContinue(o.Continue)
		if err != nil {
			return lo, errBadRequest("invalid continue token: " + err.Error())
		}
		lo.After = start
		if tokRV == latestRV {
			return lo, nil // continue at the latest revision
		}
		if tokRV < h.store.CompactedRevision() {
			return lo, errExpiredContinue(EncodeContinue(latestRV, start))
		}
		if tokRV > h.store.Revision() {
			return lo, errBadRequest("invalid continue token: " + errContinueStartRV.Error())
		}
		lo.Revision = tokRV
		return lo, nil
	}
	if rv == 0 {
		return lo, nil // "" most recent, "0" any: both the current state
	}
	exact := o.ResourceVersionMatch == metav1.ResourceVersionMatchExact ||
		(o.ResourceVersionMatch == "" && o.Limit > 0)
	if err := h.waitForRevision(ctx, rv); err != nil {
		return lo, err
	}
	if exact {
		if rv < h.store.CompactedRevision() {
			return lo, errExpiredList()
		}
		lo.Revision = rv
	}
	return lo, nil
}

// serveList answers a list.
func (h *Handler) serveList(w http.ResponseWriter, r *http.Request, req *Request) {
	ctx := r.Context()
	lo, err := h.ListOptionsFor(ctx, req)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	out := req.Output
	if out.Kind == OutputObject && out.MediaType == MediaTypeJSON && !out.Pretty && lo.Limit <= 0 {
		// The common case, a whole list as JSON: written while the rows
		// are read, never held in memory.
		h.streamJSONList(w, r, req, lo)
		return
	}
	if out.Kind == OutputTable && out.MediaType == MediaTypeJSON && !out.Pretty && lo.Limit <= 0 {
		h.streamTable(w, r, req, lo)
		return
	}
	if out.Kind == OutputObject && out.MediaType == MediaTypeProtobuf && lo.Limit <= 0 {
		h.streamProtoList(w, r, req, lo)
		return
	}
	res, err := h.store.List(ctx, req.Resource.GVR, lo)
	if err != nil {
		h.WriteError(w, r, h.listError(err, req, lo))
		return
	}
	lm := listMeta{ResourceVersion: strconv.FormatInt(res.Revision, 10)}
	if res.Continue != "" {
		lm.Continue = EncodeContinue(res.Revision, res.Continue)
		// kube-apiserver counts the rest only when nothing filters it.
		if res.Remaining >= 0 && lo.Labels == nil && lo.Fields == nil {
			n := res.Remaining
			lm.RemainingItemCount = &n
		}
	}
	switch out.Kind {
	case OutputObject:
		h.writeList(w, r, req, lm, res.Items)
	case OutputPartialObjectMetadataList:
		list, err := partialObjectMetadataList(res.Items, out.ConvertGV, lm)
		if err != nil {
			h.WriteError(w, r, storeError(err, req.GroupResource(), ""))
			return
		}
		h.writeObject(w, r, http.StatusOK, out.Info, out.ConvertGV, list)
	case OutputTable:
		datas := make([][]byte, len(res.Items))
		for i := range res.Items {
			datas[i] = res.Items[i].Data
		}
		table, err := h.table(req, datas)
		if err != nil {
			h.WriteError(w, r, err)
			return
		}
		lm.apply(&table.t.ListMeta)
		h.writeTable(w, r, out, table)
	default:
		h.WriteError(w, r, notAcceptable("unsupported conversion"))
	}
}

// writeList answers a page of items as the list object itself (JSON, YAML
// or protobuf).
func (h *Handler) writeList(w http.ResponseWriter, r *http.Request, req *Request, lm listMeta, items []metaclient.Object) {
	out := req.Output
	switch out.MediaType {
	case MediaTypeJSON:
		if out.Pretty {
			var buf bytes.Buffer
			if err := json.Indent(&buf, jsonList(req.Resource, lm, items), "", "  "); err != nil {
				h.WriteError(w, r, ErrInternal(err))
				return
			}
			buf.WriteByte('\n')
			writeRaw(w, http.StatusOK, MediaTypeJSON, buf.Bytes())
			return
		}
		writeJSONList(w, req.Resource, lm, items)
	case MediaTypeYAML:
		y, err := yaml.JSONToYAML(jsonList(req.Resource, lm, items))
		if err != nil {
			h.WriteError(w, r, ErrInternal(err))
			return
		}
		writeRaw(w, http.StatusOK, MediaTypeYAML, y)
	default: // protobuf
		h.writeProtoList(w, r, req.Resource, lm, items)
	}
}

// listError maps a store error of a list to its API Status.
func (h *Handler) listError(err error, req *Request, lo metaclient.ListOptions) error {
	switch {
	case errors.Is(err, metaclient.ErrCompacted) && req.Options.Continue != "":
		return errExpiredContinue(EncodeContinue(latestRV, lo.After))
	case errors.Is(err, metaclient.ErrCompacted):
		return errExpiredList()
	case errors.Is(err, metaclient.ErrFutureRevision):
		return errTooLargeResourceVersion(lo.Revision, h.store.Revision())
	default:
		return storeError(err, req.GroupResource(), "")
	}
}

// jsonList is the whole JSON list in memory (for YAML and pretty output).
func jsonList(res kube.Resource, lm listMeta, items []metaclient.Object) []byte {
	var buf bytes.Buffer
	l := newJSONListWriter(&buf, res, lm)
	for i := range items {
		_ = l.item(items[i].Data) // a bytes.Buffer does not fail
	}
	_ = l.close()
	return buf.Bytes()
}

// writeJSONValue writes v (a plain Go value) as indented JSON.
func (h *Handler) writeJSONValue(w http.ResponseWriter, r *http.Request, code int, v interface{}) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		h.WriteError(w, r, ErrInternal(err))
		return
	}
	writeRaw(w, code, MediaTypeJSON, append(b, '\n'))
}
