package dao

import (
	"strings"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
)

// listFilter is a list's selection, split into what SQL evaluates and what
// (rarely) must be checked in Go on the labels/fields columns.
type listFilter struct {
	gvr       string
	namespace string
	hasNS     bool
	drive     *labels.Requirement // label requirement that drives the query from the label index
	rest      []labels.Requirement
	goLabels  labels.Selector     // non-nil when a requirement cannot be expressed in SQL (gt, lt)
	fieldReqs fields.Requirements // evaluated by SQL on the fields column
	goFields  fields.Selector     // non-nil when a field selector cannot be expressed in SQL
	nothing   bool                // the selector matches nothing
}

func newListFilter(gvr schema.GroupVersionResource, opts ListOptions) listFilter {
	f := listFilter{gvr: GVRString(gvr), namespace: opts.Namespace, hasNS: opts.Namespace != ""}
	if opts.Fields != nil && !opts.Fields.Empty() {
		f.fieldReqs = opts.Fields.Requirements()
		for _, r := range f.fieldReqs {
			switch r.Operator {
			case selection.Equals, selection.DoubleEquals, selection.NotEquals:
			default:
				f.goFields = opts.Fields
			}
			if strings.ContainsAny(r.Field, `"\`) {
				f.goFields = opts.Fields
			}
		}
		if f.goFields != nil {
			f.fieldReqs = nil
		}
	}
	if opts.Labels == nil || opts.Labels.Empty() {
		return f
	}
	reqs, selectable := opts.Labels.Requirements()
	if !selectable {
		f.nothing = true
		return f
	}
	driveIdx := -1
	for i, r := range reqs {
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			if driveIdx < 0 || reqs[driveIdx].Operator() == selection.Exists {
				driveIdx = i
			}
		case selection.Exists:
			if driveIdx < 0 {
				driveIdx = i
			}
		case selection.NotEquals, selection.NotIn, selection.DoesNotExist:
		default: // gt, lt: numeric comparison, done in Go
			f.goLabels = opts.Labels
		}
	}
	for i := range reqs {
		if i == driveIdx {
			r := reqs[i]
			f.drive = &r
			continue
		}
		switch reqs[i].Operator() {
		case selection.GreaterThan, selection.LessThan:
		default:
			f.rest = append(f.rest, reqs[i])
		}
	}
	return f
}

func (f *listFilter) inGo() bool { return f.goLabels != nil || f.goFields != nil }

func (f *listFilter) matchGo(labelsRaw, fieldsRaw string) (bool, error) {
	if f.goLabels != nil {
		m, err := decodeStringMapString(labelsRaw)
		if err != nil {
			return false, err
		}
		if !f.goLabels.Matches(labels.Set(m)) {
			return false, nil
		}
	}
	if f.goFields != nil {
		m, err := decodeStringMapString(fieldsRaw)
		if err != nil {
			return false, err
		}
		if !f.goFields.Matches(fields.Set(m)) {
			return false, nil
		}
	}
	return true, nil
}

// restClause is the SQL condition of one label requirement the query is not
// driven by. With values it looks the object's row up in the label index
// (keyed by resource, key, value, object); a bare existence test reads the
// object's labels column instead (the index has no key-then-object order).
func (f *listFilter) restClause(b *strings.Builder, args *[]any, r labels.Requirement) {
	not := ""
	switch r.Operator() {
	case selection.Exists, selection.DoesNotExist:
		// Label keys are qualified names: no quote to escape in the path.
		cmp := " IS NOT NULL"
		if r.Operator() == selection.DoesNotExist {
			cmp = " IS NULL"
		}
		b.WriteString(" AND json_type(o.labels, ?)" + cmp)
		*args = append(*args, `$."`+r.Key()+`"`)
		return
	case selection.NotEquals, selection.NotIn:
		not = "NOT "
	}
	b.WriteString(" AND " + not + "EXISTS (SELECT 1 FROM object_labels x WHERE x.gvr=o.gvr AND x.key=? AND x.value IN (")
	*args = append(*args, r.Key())
	vals := r.ValuesUnsorted()
	b.WriteString(placeholders(len(vals)) + ") AND x.namespace=o.namespace AND x.name=o.name)")
	for _, v := range vals {
		*args = append(*args, v)
	}
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// query builds the SQL selecting cols for the filter, keys strictly after
// (afterNS, afterName) when hasAfter, objects with revision <= maxRev when
// maxRev > 0, ordered by key, limited when limit > 0.
func (f *listFilter) query(cols string, hasAfter bool, afterNS, afterName string, maxRev int64, limit int64, ordered bool) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 16)
	k := "o"
	countOnly := cols == "count(*)"
	b.WriteString("SELECT ")
	b.WriteString(cols)
	if f.drive != nil {
		k = "l"
		b.WriteString(" FROM object_labels l CROSS JOIN objects o ON o.gvr=l.gvr AND o.namespace=l.namespace AND o.name=l.name WHERE l.gvr=? AND l.key=?")
		args = append(args, f.gvr, f.drive.Key())
		if op := f.drive.Operator(); op != selection.Exists {
			vals := f.drive.ValuesUnsorted()
			b.WriteString(" AND l.value IN (" + placeholders(len(vals)) + ")")
			for _, v := range vals {
				args = append(args, v)
			}
		}
	} else if countOnly && len(f.fieldReqs) == 0 {
		b.WriteString(" FROM objects o INDEXED BY objects_keys WHERE o.gvr=?")
		args = append(args, f.gvr)
	} else {
		b.WriteString(" FROM objects o WHERE o.gvr=?")
		args = append(args, f.gvr)
	}
	if f.hasNS {
		b.WriteString(" AND " + k + ".namespace=?")
		args = append(args, f.namespace)
	}
	if hasAfter {
		b.WriteString(" AND (" + k + ".namespace, " + k + ".name) > (?, ?)")
		args = append(args, afterNS, afterName)
	}
	if maxRev > 0 {
		b.WriteString(" AND o.revision <= ?")
		args = append(args, maxRev)
	}
	for _, r := range f.fieldReqs {
		// A missing field label reads as "" (fields.Set semantics).
		op := "="
		if r.Operator == selection.NotEquals {
			op = "<>"
		}
		b.WriteString(" AND coalesce(json_extract(o.fields, ?), '') " + op + " ?")
		args = append(args, `$."`+r.Field+`"`, r.Value)
	}
	for _, r := range f.rest {
		f.restClause(&b, &args, r)
	}
	if ordered {
		b.WriteString(" ORDER BY " + k + ".namespace, " + k + ".name")
	}
	if limit > 0 {
		b.WriteString(" LIMIT ?")
		args = append(args, limit)
	}
	return b.String(), args
}
