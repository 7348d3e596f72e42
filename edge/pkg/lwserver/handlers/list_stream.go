package handlers

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// listWriteBuffer is the write buffer of a JSON list: one chunk, one write
// system call, per 64 KiB of items.
const listWriteBuffer = 64 << 10

// jsonListWriter is the one place a JSON list is framed:
//
//	{"kind":"PodList","apiVersion":"v1","metadata":{…},"items":[item,item…]}
//
// with every item's stored bytes written as they are (nothing is decoded).
// Streamed lists, materialised pages and the pretty / YAML answers (built
// from its output) all go through it, so they are the same bytes.
type jsonListWriter struct {
	bw    *bufio.Writer
	items int
}

// newJSONListWriter writes the list header to w.
func newJSONListWriter(w io.Writer, res kube.Resource, lm listMeta) *jsonListWriter {
	l := &jsonListWriter{bw: bufio.NewWriterSize(w, listWriteBuffer)}
	b := l.bw.AvailableBuffer()
	b = append(b, `{"kind":`...)
	b = strconv.AppendQuote(b, res.ListKind)
	b = append(b, `,"apiVersion":`...)
	b = strconv.AppendQuote(b, res.GVR.GroupVersion().String())
	b = append(b, `,"metadata":`...)
	m, _ := json.Marshal(lm) // three strings and an integer: cannot fail
	b = append(b, m...)
	b = append(b, `,"items":[`...)
	_, _ = l.bw.Write(b)
	return l
}

// item appends one item's JSON; an error is the underlying writer's.
func (l *jsonListWriter) item(data []byte) error {
	if l.items > 0 {
		_ = l.bw.WriteByte(',')
	}
	l.items++
	_, err := l.bw.Write(data)
	return err
}

// close writes the trailer and flushes.
func (l *jsonListWriter) close() error {
	_, _ = l.bw.WriteString("]}")
	return l.bw.Flush()
}

// startJSONList sends a 200 JSON response header and returns the list's
// writer over the body (chunked, as kube-apiserver's lists).
func startJSONList(w http.ResponseWriter, res kube.Resource, lm listMeta) *jsonListWriter {
	hdr := w.Header()
	hdr.Set("Content-Type", MediaTypeJSON)
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	return newJSONListWriter(w, res, lm)
}

// writeJSONList answers with a list of items already read (a page).
func writeJSONList(w http.ResponseWriter, res kube.Resource, lm listMeta, items []metaclient.Object) {
	l := startJSONList(w, res, lm)
	for i := range items {
		if l.item(items[i].Data) != nil {
			return // the client is gone; nothing more to tell it
		}
	}
	_ = l.close()
}

// streamJSONList answers a list without a limit as JSON, writing each item's
// stored bytes while the store reads the rows (Store.ListFunc, one read
// transaction): memory stays at one row and the write buffer, whatever the
// list's size.
//
// A list without a limit has no continue token nor remaining count, so the
// list header needs only the revision, known before the first item. The
// errors a list can get before it reads rows (expired or future revision,
// store down) are still answered with their Status; an error once the
// header is sent (store failure mid-list, the client gone) can only abort
// the response (http.ErrAbortHandler), so the client sees a broken body and
// not a truncated success; kube-apiserver does the same.
func (h *Handler) streamJSONList(w http.ResponseWriter, r *http.Request, req *Request, lo metaclient.ListOptions) {
	var l *jsonListWriter
	res, err := h.store.ListFunc(r.Context(), req.Resource.GVR, lo, func(rev int64, it metaclient.Object) error {
		if l == nil {
			l = startJSONList(w, req.Resource, listMeta{ResourceVersion: strconv.FormatInt(rev, 10)})
		}
		return l.item(it.Data) // a failed write (client gone) stops the list
	})
	if err != nil {
		if l == nil {
			h.WriteError(w, r, h.listError(err, req, lo))
			return
		}
		panic(http.ErrAbortHandler)
	}
	if l == nil { // no items
		l = startJSONList(w, req.Resource, listMeta{ResourceVersion: strconv.FormatInt(res.Revision, 10)})
	}
	if err := l.close(); err != nil {
		panic(http.ErrAbortHandler)
	}
}
