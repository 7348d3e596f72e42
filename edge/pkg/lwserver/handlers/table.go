package handlers

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/edgecore/edgecore/edge/pkg/kube"
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

// table converts items for a Table request and fills each row's object as
// includeObject asks: Metadata (the default) → PartialObjectMetadata built
// from the raw metadata bytes, Object → the stored bytes, None → nothing.
func (h *Handler) table(req *Request, items [][]byte) (*metav1.Table, error) {
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
	for i := range t.Rows {
		row := &t.Rows[i]
		switch opts.IncludeObject {
		case metav1.IncludeNone:
			row.Object = runtime.RawExtension{}
		case metav1.IncludeObject:
			row.Object = runtime.RawExtension{Raw: items[i]}
		default: // "", Metadata
			row.Object = runtime.RawExtension{Raw: partialObjectMetadataJSON(items[i], req.Output.ConvertGV)}
		}
	}
	t.GetObjectKind().SetGroupVersionKind(req.Output.ConvertGV.WithKind("Table"))
	return t, nil
}
