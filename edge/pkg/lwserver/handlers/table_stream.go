package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// tableChunk is how many rows a streamed Table converts and writes at a
// time: the memory of a whole-list Table is one chunk's objects and rows.
const tableChunk = 500

// streamTable answers a whole list (no limit) as a JSON Table, converting
// and writing tableChunk rows at a time while the store's rows are read:
// the same bytes tableJSON writes for the whole list, without holding it
// (at 10k pods the held list made a Table peak at ~150 MB of VmRSS). Error
// handling is streamJSONList's: a Status before the first byte, an aborted
// response after it.
func (h *Handler) streamTable(w http.ResponseWriter, r *http.Request, req *Request, lo metaclient.ListOptions) {
	st := &tableStream{h: h, w: w, req: req}
	res, err := h.store.ListFunc(r.Context(), req.Resource.GVR, lo, func(rev int64, it metaclient.Object) error {
		st.rev = rev
		st.items = append(st.items, append([]byte(nil), it.Data...))
		if len(st.items) < tableChunk {
			return nil
		}
		return st.flush()
	})
	if err == nil {
		st.rev = res.Revision
		err = st.flush()
	}
	if err == nil && !st.started {
		err = st.start(nil) // no items: the header, an empty list
	}
	if err == nil {
		_, err = w.Write([]byte("]}"))
	}
	if err == nil {
		return
	}
	if !st.started {
		h.WriteError(w, r, h.tableStreamError(err, req, lo))
		return
	}
	panic(http.ErrAbortHandler)
}

// tableStreamError is the Status for an error before the first byte: a
// conversion's own Status, else the list's.
func (h *Handler) tableStreamError(err error, req *Request, lo metaclient.ListOptions) error {
	var te tableError
	if errors.As(err, &te) {
		return te.err
	}
	return h.listError(err, req, lo)
}

// tableError wraps a conversion error (already a Status) so that it is not
// taken for a store error.
type tableError struct{ err error }

func (e tableError) Error() string { return e.err.Error() }

// tableStream is one streamed Table: the rows waiting to be converted and
// whether the header is out.
type tableStream struct {
	h       *Handler
	w       http.ResponseWriter
	req     *Request
	rev     int64
	items   [][]byte
	started bool
}

// flush converts and writes the pending rows (the header first).
func (st *tableStream) flush() error {
	if len(st.items) == 0 {
		return nil
	}
	tr, err := st.h.table(st.req, st.items)
	if err != nil {
		return tableError{err}
	}
	if !st.started {
		if err := st.start(tr); err != nil {
			return err
		}
	} else if _, err := st.w.Write([]byte{','}); err != nil {
		return err
	}
	b, err := tableRowsJSON(tr, 0, len(st.items))
	if err != nil {
		return tableError{ErrInternal(err)}
	}
	st.items = st.items[:0]
	_, err = st.w.Write(b)
	return err
}

// start writes the response header and the Table's head: the column
// definitions of tr (of an empty conversion when tr is nil) and the list
// metadata at the revision read.
func (st *tableStream) start(tr *tableResult) error {
	if tr == nil {
		var err error
		if tr, err = st.h.table(st.req, nil); err != nil {
			return tableError{err}
		}
	}
	tr.t.ListMeta.ResourceVersion = strconv.FormatInt(st.rev, 10)
	head, err := tableHead(tr.t, tr.gv)
	if err != nil {
		return tableError{ErrInternal(err)}
	}
	hdr := st.w.Header()
	hdr.Set("Content-Type", MediaTypeJSON)
	hdr.Set("X-Content-Type-Options", "nosniff")
	st.w.WriteHeader(http.StatusOK)
	st.started = true
	_, err = st.w.Write(head)
	return err
}
