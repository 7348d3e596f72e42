package handlers

import (
	"bufio"
	"net/http"
	"strconv"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// streamJSONList answers a list without a limit as JSON, writing each item's
// stored bytes while the store reads the rows (metaclient.ListFunc, one read
// transaction): memory stays at one row and the write buffer, whatever the
// list's size. The body is byte for byte what writeJSONList writes; only the
// framing differs (chunked instead of Content-Length, as kube-apiserver).
//
// A list without a limit has no continue token nor remaining count, so the
// list header needs only the revision, known before the first item. The
// errors a list can get before it reads rows (expired or future revision,
// store down) are still answered with their Status; an error once the
// header is sent (store failure mid-list, the client gone) can only abort
// the response (http.ErrAbortHandler), so the client sees a broken body and
// not a truncated success; kube-apiserver does the same.
func (h *Handler) streamJSONList(w http.ResponseWriter, r *http.Request, req *Request, lo metaclient.ListOptions) {
	var bw *bufio.Writer
	res, err := h.store.ListFunc(r.Context(), req.Resource.GVR, lo, func(rev int64, it metaclient.Object) error {
		if bw == nil {
			hdr := w.Header()
			hdr.Set("Content-Type", MediaTypeJSON)
			hdr.Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusOK)
			bw = bufio.NewWriterSize(w, 64<<10)
			_, _ = bw.Write(listHeader(req.Resource, listMeta{ResourceVersion: strconv.FormatInt(rev, 10)}))
		} else {
			_ = bw.WriteByte(',')
		}
		_, err := bw.Write(it.Data)
		return err // a failed write (client gone) stops the list
	})
	if err != nil {
		if bw == nil {
			h.WriteError(w, r, h.listError(err, req, lo))
			return
		}
		panic(http.ErrAbortHandler)
	}
	if bw == nil { // no items
		writeJSONList(w, req.Resource, listMeta{ResourceVersion: strconv.FormatInt(res.Revision, 10)}, nil)
		return
	}
	_, _ = bw.WriteString(listTrailer)
	if err := bw.Flush(); err != nil {
		panic(http.ErrAbortHandler)
	}
}
