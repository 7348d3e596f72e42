package handlers

import (
	"net/http"
	"strconv"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/protoenc"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// Protobuf output of built-in kinds: the stored JSON is transcoded straight
// into protobuf (package protoenc), no typed object is built. Negotiation
// only picks protobuf for built-in kinds; custom resources get 406, as from
// kube-apiserver.

// protoKind is the transcoder of res's kind.
func (h *Handler) protoKind(res kube.Resource) (*protoenc.Kind, error) {
	k, err := h.proto.Kind(res.GVK())
	if err != nil {
		return nil, ErrInternal(err)
	}
	return k, nil
}

// writeProtoObject answers a get with the object in protobuf.
func (h *Handler) writeProtoObject(w http.ResponseWriter, r *http.Request, res kube.Resource, data []byte) {
	k, err := h.protoKind(res)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	b, err := k.AppendObject(make([]byte, 0, len(data)), data)
	if err != nil {
		h.WriteError(w, r, ErrInternal(err))
		return
	}
	writeRaw(w, http.StatusOK, MediaTypeProtobuf, b)
}

// writeProtoList answers a list (read whole, with limit/continue) in protobuf.
func (h *Handler) writeProtoList(w http.ResponseWriter, r *http.Request, res kube.Resource, lm listMeta, items []metaclient.Object) {
	l, err := h.newProtoList(res)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	for i := range items {
		if err := l.Add(items[i].Data); err != nil {
			l.Release()
			h.WriteError(w, r, ErrInternal(err))
			return
		}
	}
	writeProtoListBody(w, l, lm)
}

// streamProtoList answers a list without a limit in protobuf: each row is
// transcoded as the store reads it (one read transaction), so the JSON of
// the rows is never held, only the protobuf list being built. Unlike JSON,
// the list cannot be written before it is complete: protobuf frames the
// items with the length of the whole list.
func (h *Handler) streamProtoList(w http.ResponseWriter, r *http.Request, req *Request, lo metaclient.ListOptions) {
	l, err := h.newProtoList(req.Resource)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	var addErr error
	res, err := h.store.ListFunc(r.Context(), req.Resource.GVR, lo, func(_ int64, it metaclient.Object) error {
		if addErr = l.Add(it.Data); addErr != nil {
			return addErr
		}
		return nil
	})
	switch {
	case addErr != nil:
		l.Release()
		h.WriteError(w, r, ErrInternal(addErr))
		return
	case err != nil:
		l.Release()
		h.WriteError(w, r, h.listError(err, req, lo))
		return
	}
	writeProtoListBody(w, l, listMeta{ResourceVersion: strconv.FormatInt(res.Revision, 10)})
}

func (h *Handler) newProtoList(res kube.Resource) (*protoenc.List, error) {
	k, err := h.protoKind(res)
	if err != nil {
		return nil, err
	}
	l, err := k.NewList()
	if err != nil {
		return nil, ErrInternal(err)
	}
	return l, nil
}

// writeProtoListBody writes a complete list (and releases its buffers).
func writeProtoListBody(w http.ResponseWriter, l *protoenc.List, lm listMeta) {
	meta := protoenc.ListMeta{ResourceVersion: lm.ResourceVersion, Continue: lm.Continue, RemainingItemCount: lm.RemainingItemCount}
	hdr := w.Header()
	hdr.Set("Content-Type", MediaTypeProtobuf)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.Itoa(l.Len(meta)))
	w.WriteHeader(http.StatusOK)
	_, _ = l.WriteTo(w, meta)
}

// ProtoWatchEvent is the protobuf watch frame (length-prefixed WatchEvent)
// of one event of res whose object is the stored JSON data.
func (h *Handler) ProtoWatchEvent(res kube.Resource, typ watch.EventType, data []byte) ([]byte, error) {
	k, err := h.protoKind(res)
	if err != nil {
		return nil, err
	}
	return k.AppendWatchEvent(make([]byte, 0, len(data)), string(typ), data)
}
