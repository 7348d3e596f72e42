package dao

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
)

// Get implements Reader.
func (s *Store) Get(ctx context.Context, key Key) (Stored, error) {
	var (
		st                   = Stored{Key: key}
		labelsRaw, fieldsRaw []byte
	)
	err := s.db.QueryRowContext(ctx, `SELECT kind, revision, cloud_rv, labels, fields, data FROM objects WHERE gvr=? AND namespace=? AND name=?`,
		GVRString(key.GVR), key.Namespace, key.Name).Scan(&st.Kind, &st.Revision, &st.CloudRV, &labelsRaw, &fieldsRaw, &st.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return Stored{}, ErrNotFound
	}
	if err != nil {
		return Stored{}, err
	}
	if st.Labels, err = decodeStringMap(labelsRaw); err != nil {
		return Stored{}, err
	}
	if st.Fields, err = decodeStringMap(fieldsRaw); err != nil {
		return Stored{}, err
	}
	return st, nil
}

// beginRead starts a read transaction and reads the revision and compacted
// revision first, so that everything read later matches them (the snapshot
// starts at the first SELECT).
func (s *Store) beginRead(ctx context.Context) (*sql.Tx, int64, int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	var cur, compacted int64
	err = tx.QueryRowContext(ctx, `SELECT (SELECT value FROM meta WHERE key='revision'), (SELECT value FROM meta WHERE key='compacted')`).Scan(&cur, &compacted)
	if err != nil {
		tx.Rollback()
		return nil, 0, 0, err
	}
	return tx, cur, compacted, nil
}

// Resources implements Reader.
func (s *Store) Resources(ctx context.Context) ([]ResourceCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT gvr, kind, count(*) FROM objects GROUP BY gvr`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ResourceCount
	for rows.Next() {
		var g string
		var rc ResourceCount
		if err := rows.Scan(&g, &rc.Kind, &rc.Count); err != nil {
			return nil, err
		}
		if rc.GVR, err = ParseGVRString(g); err != nil {
			return nil, err
		}
		out = append(out, rc)
	}
	return out, rows.Err()
}

// Events implements Reader. limit <= 0 means no limit.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]event.Event, error) {
	tx, cur, compacted, err := s.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if after < compacted {
		return nil, fmt.Errorf("%w: revision %d, compacted %d", ErrCompacted, after, compacted)
	}
	if after > cur {
		return nil, fmt.Errorf("%w: revision %d, current %d", ErrFutureRevision, after, cur)
	}
	if limit <= 0 {
		limit = -1
	}
	rows, err := tx.QueryContext(ctx, `SELECT revision, type, gvr, namespace, name, data, prev_data, labels, fields, prev_labels, prev_fields
		FROM events WHERE revision > ? ORDER BY revision LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []event.Event
	var g, typ string
	var l, f, pl, pf sql.RawBytes
	lastGVR, lastGVRs := schema.GroupVersionResource{}, ""
	for rows.Next() {
		var e event.Event
		if err := rows.Scan(&e.Revision, &typ, &g, &e.Namespace, &e.Name, &e.Object, &e.PrevObject, &l, &f, &pl, &pf); err != nil {
			return nil, err
		}
		e.Type = watch.EventType(typ)
		if g != lastGVRs {
			if lastGVR, err = ParseGVRString(g); err != nil {
				return nil, err
			}
			lastGVRs = g
		}
		e.GVR = lastGVR
		for _, p := range []struct {
			dst *map[string]string
			raw []byte
		}{{&e.Labels, l}, {&e.Fields, f}, {&e.PrevLabels, pl}, {&e.PrevFields, pf}} {
			if *p.dst, err = decodeStringMap(p.raw); err != nil {
				return nil, err
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

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
		b.WriteString(" FROM object_labels l INDEXED BY object_labels_kv CROSS JOIN objects o ON o.gvr=l.gvr AND o.namespace=l.namespace AND o.name=l.name WHERE l.gvr=? AND l.key=?")
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
		not := ""
		withValues := true
		switch r.Operator() {
		case selection.Exists:
			withValues = false
		case selection.DoesNotExist:
			not, withValues = "NOT ", false
		case selection.NotEquals, selection.NotIn:
			not = "NOT "
		}
		b.WriteString(" AND " + not + "EXISTS (SELECT 1 FROM object_labels x WHERE x.gvr=o.gvr AND x.namespace=o.namespace AND x.name=o.name AND x.key=?")
		args = append(args, r.Key())
		if withValues {
			vals := r.ValuesUnsorted()
			b.WriteString(" AND x.value IN (" + placeholders(len(vals)) + ")")
			for _, v := range vals {
				args = append(args, v)
			}
		}
		b.WriteString(")")
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

// slab hands out copies of row bytes from large shared chunks: one
// allocation per ~1 MiB instead of one per row.
type slab struct{ buf []byte }

func (s *slab) copy(b []byte) []byte {
	if len(b) == 0 {
		return []byte{}
	}
	if len(b) > cap(s.buf)-len(s.buf) {
		n := 1 << 20
		if len(b) > n/4 {
			return append([]byte(nil), b...)
		}
		s.buf = make([]byte, 0, n)
	}
	off := len(s.buf)
	s.buf = append(s.buf, b...)
	return s.buf[off:len(s.buf):len(s.buf)]
}

type histRow struct {
	Stored
	labelsRaw, fieldsRaw []byte
}

func keyLess(ans, aname, bns, bname string) bool {
	if ans != bns {
		return ans < bns
	}
	return aname < bname
}

// List implements Reader.
func (s *Store) List(ctx context.Context, gvr schema.GroupVersionResource, opts ListOptions) (ListResult, error) {
	capHint := int64(256)
	if opts.Limit > 0 && opts.Limit < 4096 {
		capHint = opts.Limit
	}
	items := make([]Stored, 0, capHint)
	var mem slab
	res, err := s.ListFunc(ctx, gvr, opts, func(_ int64, st Stored) error {
		st.Data = mem.copy(st.Data)
		items = append(items, st)
		return nil
	})
	if err != nil {
		return ListResult{}, err
	}
	res.Items = items
	return res, nil
}

// ListFunc is List without collecting the items: it calls fn with each item
// in key order, as the rows are read, inside the one read transaction of the
// list; rev is the revision the list is read at (the same in every call, and
// the result's Revision). The returned ListResult has no Items; its Continue
// and Remaining are only known once every item has been passed to fn.
//
// item.Data may alias a buffer that is valid only during that call of fn: fn
// must copy what it keeps. An error from fn stops the list and is returned
// as it is. Errors known before the first row (ErrCompacted,
// ErrFutureRevision, a bad After key) are returned before fn is ever called.
func (s *Store) ListFunc(ctx context.Context, gvr schema.GroupVersionResource, opts ListOptions, fn func(rev int64, item Stored) error) (ListResult, error) {
	var afterNS, afterName string
	hasAfter := opts.After != ""
	if hasAfter {
		var err error
		if afterNS, afterName, err = ParseAfter(opts.After); err != nil {
			return ListResult{}, err
		}
	}
	if opts.Limit < 0 {
		opts.Limit = 0
	}
	f := newListFilter(gvr, opts)

	tx, cur, compacted, err := s.beginRead(ctx)
	if err != nil {
		return ListResult{}, err
	}
	defer tx.Rollback()
	rev := cur
	if opts.Revision != 0 {
		if opts.Revision > cur {
			return ListResult{}, fmt.Errorf("%w: revision %d, current %d", ErrFutureRevision, opts.Revision, cur)
		}
		if opts.Revision < compacted {
			return ListResult{}, fmt.Errorf("%w: revision %d, compacted %d", ErrCompacted, opts.Revision, compacted)
		}
		rev = opts.Revision
	}
	res := ListResult{Revision: rev}
	if f.nothing {
		return res, nil
	}

	// Historical read: keys changed after rev get their state at rev from
	// the first event after rev; the others are unchanged in objects.
	var hist []histRow
	var maxRev int64
	if rev < cur {
		maxRev = rev
		if hist, err = s.history(ctx, tx, &f, opts, rev, hasAfter, afterNS, afterName); err != nil {
			return ListResult{}, err
		}
	}

	sqlLimit := int64(0)
	if opts.Limit > 0 && !f.inGo() {
		sqlLimit = opts.Limit + 1 // one more, to know whether there is more
	}
	cols := "o.namespace, o.name, o.kind, o.revision, o.cloud_rv, coalesce(o.labels, ''), coalesce(o.fields, ''), o.data"
	if opts.DataOnly && !f.inGo() {
		cols = "o.namespace, o.name, o.kind, o.revision, o.cloud_rv, '', '', o.data"
	}
	q, args := f.query(cols,
		hasAfter, afterNS, afterName, maxRev, sqlLimit, true)
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return ListResult{}, fmt.Errorf("list %s: %w", f.gvr, err)
	}
	defer rows.Close()

	// emit passes one item to fn, unless the page is already full: then
	// there is more, and the list stops.
	var (
		n, nbytes        int64
		more             bool
		lastNS, lastName string
	)
	emit := func(st Stored) error {
		if (opts.Limit > 0 && n >= opts.Limit) || (opts.LimitBytes > 0 && n > 0 && nbytes >= opts.LimitBytes) {
			more = true
			return nil
		}
		n++
		nbytes += int64(len(st.Data))
		lastNS, lastName = st.Namespace, st.Name
		return fn(rev, st)
	}
	var ns, name, kind, cloudRV, lraw, fraw string
	var orev int64
	var data sql.RawBytes
	hi := 0
	for !more && rows.Next() {
		if err := rows.Scan(&ns, &name, &kind, &orev, &cloudRV, &lraw, &fraw, &data); err != nil {
			return ListResult{}, err
		}
		if f.inGo() {
			ok, err := f.matchGo(lraw, fraw)
			if err != nil {
				return ListResult{}, err
			}
			if !ok {
				continue
			}
		}
		for hi < len(hist) && !more && keyLess(hist[hi].Namespace, hist[hi].Name, ns, name) {
			if err := emit(hist[hi].Stored); err != nil {
				return ListResult{}, err
			}
			hi++
		}
		if more {
			break
		}
		st := Stored{Key: Key{GVR: gvr, Namespace: ns, Name: name}, Kind: kind, Revision: orev, CloudRV: cloudRV, Data: data}
		if !opts.DataOnly {
			if st.Labels, err = decodeStringMapString(lraw); err != nil {
				return ListResult{}, err
			}
			if st.Fields, err = decodeStringMapString(fraw); err != nil {
				return ListResult{}, err
			}
		}
		if err := emit(st); err != nil {
			return ListResult{}, err
		}
	}
	if err := rows.Err(); err != nil {
		return ListResult{}, err
	}
	rows.Close()
	for hi < len(hist) && !more {
		if err := emit(hist[hi].Stored); err != nil {
			return ListResult{}, err
		}
		hi++
	}
	if more {
		res.Continue = KeyString(lastNS, lastName)
		if opts.NoRemaining {
			res.Remaining = -1
			return res, nil
		}
		n, err := s.count(ctx, tx, &f, lastNS, lastName, maxRev)
		if err != nil {
			return ListResult{}, err
		}
		for _, h := range hist {
			if keyLess(lastNS, lastName, h.Namespace, h.Name) {
				n++
			}
		}
		res.Remaining = n
	}
	return res, nil
}

// count is the number of matching objects (revision <= maxRev when > 0)
// after the key.
func (s *Store) count(ctx context.Context, tx *sql.Tx, f *listFilter, afterNS, afterName string, maxRev int64) (int64, error) {
	if !f.inGo() {
		q, args := f.query("count(*)", true, afterNS, afterName, maxRev, 0, false)
		var n int64
		err := tx.QueryRowContext(ctx, q, args...).Scan(&n)
		return n, err
	}
	q, args := f.query("coalesce(o.labels, ''), coalesce(o.fields, '')", true, afterNS, afterName, maxRev, 0, false)
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	var lraw, fraw string
	for rows.Next() {
		if err := rows.Scan(&lraw, &fraw); err != nil {
			return 0, err
		}
		ok, err := f.matchGo(lraw, fraw)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return n, rows.Err()
}

// history returns the state at rev of the keys of gvr changed after rev and
// present at rev, filtered by the list options, in key order.
func (s *Store) history(ctx context.Context, tx *sql.Tx, f *listFilter, opts ListOptions, rev int64, hasAfter bool, afterNS, afterName string) ([]histRow, error) {
	q := `SELECT namespace, name, min(revision), type, kind, prev_revision, prev_cloud_rv, prev_labels, prev_fields, prev_data
		FROM events WHERE gvr=? AND revision > ?`
	args := []any{f.gvr, rev}
	if f.hasNS {
		q += " AND namespace=?"
		args = append(args, f.namespace)
	}
	q += " GROUP BY namespace, name"
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s at %d: %w", f.gvr, rev, err)
	}
	defer rows.Close()
	gvr, _ := ParseGVRString(f.gvr)
	var out []histRow
	for rows.Next() {
		var h histRow
		var first int64
		var typ string
		if err := rows.Scan(&h.Namespace, &h.Name, &first, &typ, &h.Kind, &h.Revision, &h.CloudRV, &h.labelsRaw, &h.fieldsRaw, &h.Data); err != nil {
			return nil, err
		}
		if watch.EventType(typ) == watch.Added {
			continue // did not exist at rev
		}
		if hasAfter && !keyLess(afterNS, afterName, h.Namespace, h.Name) {
			continue
		}
		h.GVR = gvr
		if h.Labels, err = decodeStringMap(h.labelsRaw); err != nil {
			return nil, err
		}
		if h.Fields, err = decodeStringMap(h.fieldsRaw); err != nil {
			return nil, err
		}
		if opts.Labels != nil && !opts.Labels.Matches(labels.Set(h.Labels)) {
			continue
		}
		if opts.Fields != nil && !opts.Fields.Matches(fields.Set(h.Fields)) {
			continue
		}
		if opts.DataOnly {
			h.Labels, h.Fields = nil, nil
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return keyLess(out[i].Namespace, out[i].Name, out[j].Namespace, out[j].Name) })
	return out, nil
}
