package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	goruntime "runtime"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/printers"
)

// TableConvertor renders stored objects (JSON) of one resource as a
// meta.k8s.io Table: column definitions and one row of cells per item, in
// order. It may leave Row.Object empty: the handler fills it per
// opts.IncludeObject (None / Metadata (default) / Object) from the stored
// bytes. lwserver adapts the printers package to this interface.
type TableConvertor interface {
	ConvertToTable(res kube.Resource, items [][]byte, opts *metav1.TableOptions) (*metav1.Table, error)
}

// DefaultTableConvertor is the fallback: NAME and AGE for every kind.
type DefaultTableConvertor struct{}

var defaultColumns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
	{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
}

// ConvertToTable implements TableConvertor.
func (DefaultTableConvertor) ConvertToTable(res kube.Resource, items [][]byte, opts *metav1.TableOptions) (*metav1.Table, error) {
	t := &metav1.Table{Rows: make([]metav1.TableRow, len(items))}
	if opts == nil || !opts.NoHeaders {
		t.ColumnDefinitions = defaultColumns
	}
	now := time.Now()
	for i, data := range items {
		m, err := objectMeta(data)
		if err != nil {
			return nil, err
		}
		age := "<unknown>"
		if !m.CreationTimestamp.IsZero() {
			age = duration.HumanDuration(now.Sub(m.CreationTimestamp.Time))
		}
		t.Rows[i].Cells = []interface{}{m.Name, age}
	}
	return t, nil
}

// tableResult is a converted Table whose row objects are not built yet:
// the JSON fast path writes them straight from the stored bytes.
type tableResult struct {
	t       *metav1.Table
	items   [][]byte
	include metav1.IncludeObjectPolicy
	gv      schema.GroupVersion
}

// table converts items for a Table request (rows' objects per includeObject
// are added when the table is written).
func (h *Handler) table(req *Request, items [][]byte) (*tableResult, error) {
	opts := req.TableOptions
	if opts == nil {
		opts = &metav1.TableOptions{}
	}
	t, err := h.tables.ConvertToTable(req.Resource, items, opts)
	if err != nil {
		return nil, storeError(err, req.GroupResource(), "")
	}
	if len(t.Rows) != len(items) {
		return nil, ErrInternal(fmt.Errorf("table convertor returned %d rows for %d objects", len(t.Rows), len(items)))
	}
	t.GetObjectKind().SetGroupVersionKind(req.Output.ConvertGV.WithKind("Table"))
	return &tableResult{t: t, items: items, include: opts.IncludeObject, gv: req.Output.ConvertGV}, nil
}

// fillObjects sets every row's object as includeObject asks: Metadata (the
// default) → PartialObjectMetadata built from the raw metadata bytes, Object →
// the stored bytes, None → nothing.
func (tr *tableResult) fillObjects() {
	for i := range tr.t.Rows {
		tr.t.Rows[i].Object = runtime.RawExtension{Raw: tr.rowObject(i, nil)}
	}
}

// rowObject appends row i's object JSON to b (nil for None).
func (tr *tableResult) rowObject(i int, b []byte) []byte {
	switch tr.include {
	case metav1.IncludeNone:
		return b
	case metav1.IncludeObject:
		return append(b, tr.items[i]...)
	default: // "", Metadata
		return appendPartialObjectMetadataJSON(b, tr.items[i], tr.gv)
	}
}

// PrinterTables adapts the printers package (kube-apiserver's columns per
// kind, CRD additionalPrinterColumns) to TableConvertor.
type PrinterTables struct{ P *printers.Printer }

// ConvertToTable implements TableConvertor. Row objects are left to the
// handler (it serves meta.k8s.io v1 and v1beta1), so the printer is asked
// for none.
func (t PrinterTables) ConvertToTable(res kube.Resource, items [][]byte, opts *metav1.TableOptions) (*metav1.Table, error) {
	its := make([]printers.Item, len(items))
	for i := range items {
		its[i].Data = items[i]
	}
	table, err := t.P.Table(res, its, printers.Options{IncludeObject: printers.IncludeNone})
	if err != nil {
		return nil, err
	}
	if opts != nil && opts.NoHeaders {
		table.ColumnDefinitions = nil
	}
	return table, nil
}

// tableJSON encodes a Table as JSON by hand, in parts to be written in
// order: rows' objects are raw JSON (PartialObjectMetadata built from the
// stored metadata, or the stored object), which encoding/json would
// re-validate and compact one by one. Rows are encoded in parallel chunks.
// The output is what the JSON serializer produces for the same Table.
func tableJSON(tr *tableResult) ([][]byte, error) {
	head, err := tableHead(tr.t, tr.gv)
	if err != nil {
		return nil, err
	}
	t := tr.t
	n := len(t.Rows)
	workers := goruntime.GOMAXPROCS(0)
	const minChunk = 256
	if maxW := (n + minChunk - 1) / minChunk; workers > maxW {
		workers = maxW
	}
	if workers < 1 {
		workers = 1
	}
	chunk := (n + workers - 1) / workers
	parts := make([][]byte, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			parts[w], errs[w] = tableRowsJSON(tr, lo, hi)
		}(w, lo, hi)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	out := make([][]byte, 0, workers+2)
	out = append(out, head)
	for _, p := range parts {
		if len(p) > 0 {
			out = append(out, p)
		}
	}
	return append(out, []byte("]}")), nil
}

// tableHead is a Table's JSON up to its first row: kind, apiVersion, list
// metadata, column definitions, `"rows":[`.
func tableHead(t *metav1.Table, gv schema.GroupVersion) ([]byte, error) {
	cols, err := json.Marshal(t.ColumnDefinitions)
	if err != nil {
		return nil, err
	}
	lm, err := json.Marshal(t.ListMeta)
	if err != nil {
		return nil, err
	}
	head := make([]byte, 0, 128+len(cols)+len(lm))
	head = append(head, `{"kind":"Table","apiVersion":`...)
	head = strconv.AppendQuote(head, gv.String())
	head = append(head, `,"metadata":`...)
	head = append(head, lm...)
	head = append(head, `,"columnDefinitions":`...)
	if t.ColumnDefinitions == nil {
		head = append(head, "null"...)
	} else {
		head = append(head, cols...)
	}
	return append(head, `,"rows":[`...), nil
}

// tableRowsJSON encodes rows [lo, hi), each preceded by a comma but the first.
func tableRowsJSON(tr *tableResult, lo, hi int) ([]byte, error) {
	size := 0
	for i := lo; i < hi; i++ {
		size += 96 + len(tr.items[i])/2
	}
	b := make([]byte, 0, size)
	for i := lo; i < hi; i++ {
		row := &tr.t.Rows[i]
		if i > 0 {
			b = append(b, ',')
		}
		cells, err := json.Marshal(row.Cells)
		if err != nil {
			return nil, err
		}
		b = append(b, `{"cells":`...)
		b = append(b, cells...)
		if len(row.Conditions) > 0 {
			conds, err := json.Marshal(row.Conditions)
			if err != nil {
				return nil, err
			}
			b = append(b, `,"conditions":`...)
			b = append(b, conds...)
		}
		b = append(b, `,"object":`...)
		if tr.include == metav1.IncludeNone {
			b = append(b, "null"...)
		} else {
			b = tr.rowObject(i, b)
		}
		b = append(b, '}')
	}
	return b, nil
}

// writeTable writes a Table in the negotiated encoding (JSON by hand).
func (h *Handler) writeTable(w http.ResponseWriter, r *http.Request, out *Output, tr *tableResult) {
	if out.MediaType == MediaTypeJSON && !out.Pretty {
		parts, err := tableJSON(tr)
		if err != nil {
			h.WriteError(w, r, ErrInternal(err))
			return
		}
		writeParts(w, http.StatusOK, MediaTypeJSON, parts)
		return
	}
	tr.fillObjects()
	h.writeObject(w, r, http.StatusOK, out.Info, out.ConvertGV, tr.t)
}

// writeParts writes the concatenation of parts as the response body.
func writeParts(w http.ResponseWriter, code int, contentType string, parts [][]byte) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(code)
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return
		}
	}
}
