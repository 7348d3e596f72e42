package handlers

import (
	"net/http"
	"strconv"
	"sync/atomic"

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

// streamProtoList answers a list without a limit in protobuf. The rows are
// transcoded while the store reads them (one read transaction): the reader
// copies each row's JSON into a small batch, a second goroutine transcodes
// the batches, so reading and transcoding overlap and the JSON of the whole
// list is never held, only the protobuf list being built. Unlike JSON the
// list cannot be written before it is complete: protobuf frames the items
// with the length of the whole list.
func (h *Handler) streamProtoList(w http.ResponseWriter, r *http.Request, req *Request, lo metaclient.ListOptions) {
	l, err := h.newProtoList(req.Resource)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	p := newProtoPipe(l)
	res, err := h.store.ListFunc(r.Context(), req.Resource.GVR, lo, func(_ int64, it metaclient.Object) error {
		return p.add(it.Data)
	})
	addErr := p.finish()
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

// protoPipe hands rows from the store's reader to a goroutine that adds
// them to a protobuf list, in batches of about protoBatchBytes (a few
// batches in flight bound the memory).
type protoPipe struct {
	l     *protoenc.List
	cur   protoBatch
	full  chan protoBatch
	free  chan protoBatch
	done  chan error
	err   atomic.Pointer[error] // the transcoder's first error: stops the reader
	ended bool
}

// protoBatch is the JSON of consecutive rows and where each ends.
type protoBatch struct {
	data []byte
	ends []int
}

const (
	protoBatchBytes = 128 << 10
	protoBatches    = 4
)

func newProtoPipe(l *protoenc.List) *protoPipe {
	p := &protoPipe{l: l, full: make(chan protoBatch, protoBatches), free: make(chan protoBatch, protoBatches+1), done: make(chan error, 1)}
	for i := 0; i < protoBatches+1; i++ {
		p.free <- protoBatch{data: make([]byte, 0, protoBatchBytes+protoBatchBytes/4)}
	}
	p.cur = <-p.free
	go p.transcode()
	return p
}

func (p *protoPipe) transcode() {
	var err error
	for b := range p.full {
		start := 0
		for _, end := range b.ends {
			if err == nil {
				if err = p.l.Add(b.data[start:end]); err != nil {
					p.err.Store(&err)
				}
			}
			start = end
		}
		p.free <- protoBatch{data: b.data[:0], ends: b.ends[:0]}
	}
	p.done <- err
}

// add copies one row (its bytes are only valid during the store's call).
func (p *protoPipe) add(data []byte) error {
	if e := p.err.Load(); e != nil {
		return *e
	}
	p.cur.data = append(p.cur.data, data...)
	p.cur.ends = append(p.cur.ends, len(p.cur.data))
	if len(p.cur.data) >= protoBatchBytes {
		p.full <- p.cur
		p.cur = <-p.free
	}
	return nil
}

// finish waits for every row to be transcoded; it returns the first
// transcoding error.
func (p *protoPipe) finish() error {
	if !p.ended {
		p.ended = true
		if len(p.cur.ends) > 0 {
			p.full <- p.cur
		}
		close(p.full)
	}
	return <-p.done
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
