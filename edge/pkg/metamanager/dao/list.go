package dao

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

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
	var after listCursor
	if opts.After != "" {
		var err error
		if after.ns, after.name, err = ParseAfter(opts.After); err != nil {
			return ListResult{}, err
		}
		after.set = true
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
	rev, err := listRevision(opts.Revision, cur, compacted)
	if err != nil {
		return ListResult{}, err
	}
	res := ListResult{Revision: rev}
	if f.nothing {
		return res, nil
	}
	p := &listPager{opts: opts, rev: rev, fn: fn}
	// Historical read: keys changed after rev get their state at rev from
	// the first event after rev; the others are unchanged in objects.
	var maxRev int64
	if rev < cur {
		maxRev = rev
		if p.hist, err = s.history(ctx, tx, &f, opts, rev, after); err != nil {
			return ListResult{}, err
		}
	}
	if err := s.listObjects(ctx, tx, &f, gvr, after, maxRev, p); err != nil {
		return ListResult{}, err
	}
	if err := p.emitHist("", "", true); err != nil {
		return ListResult{}, err
	}
	if p.more {
		res.Continue = KeyString(p.lastNS, p.lastName)
		if opts.NoRemaining {
			res.Remaining = -1
			return res, nil
		}
		if res.Remaining, err = s.remaining(ctx, tx, &f, p, maxRev); err != nil {
			return ListResult{}, err
		}
	}
	return res, nil
}

// listCursor is where a page starts: keys strictly after (ns, name) when set.
type listCursor struct {
	set      bool
	ns, name string
}

// listRevision is the revision a list reads at: asked (0 = current), checked
// against the current and compacted revisions.
func listRevision(asked, cur, compacted int64) (int64, error) {
	if asked == 0 {
		return cur, nil
	}
	if asked > cur {
		return 0, fmt.Errorf("%w: revision %d, current %d", ErrFutureRevision, asked, cur)
	}
	if asked < compacted {
		return 0, fmt.Errorf("%w: revision %d, compacted %d", ErrCompacted, asked, compacted)
	}
	return asked, nil
}

// listPager passes a page's items to fn, merging the historical rows (hist,
// in key order) into the rows read from objects, until the page is full.
type listPager struct {
	opts ListOptions
	rev  int64
	fn   func(rev int64, item Stored) error

	hist []histRow
	hi   int // next hist row to pass

	n, nbytes        int64
	more             bool // the page is full and another item exists
	lastNS, lastName string
}

// emit passes one item to fn, unless the page is already full: then there
// is more, and the list stops.
func (p *listPager) emit(st Stored) error {
	if (p.opts.Limit > 0 && p.n >= p.opts.Limit) || (p.opts.LimitBytes > 0 && p.n > 0 && p.nbytes >= p.opts.LimitBytes) {
		p.more = true
		return nil
	}
	p.n++
	p.nbytes += int64(len(st.Data))
	p.lastNS, p.lastName = st.Namespace, st.Name
	return p.fn(p.rev, st)
}

// emitHist passes the historical rows that sort before (ns, name), or all
// that are left.
func (p *listPager) emitHist(ns, name string, all bool) error {
	for p.hi < len(p.hist) && !p.more && (all || keyLess(p.hist[p.hi].Namespace, p.hist[p.hi].Name, ns, name)) {
		if err := p.emit(p.hist[p.hi].Stored); err != nil {
			return err
		}
		p.hi++
	}
	return nil
}

// listObjects reads the matching rows of objects (revision <= maxRev when
// > 0) in key order and passes them to the pager until its page is full.
func (s *Store) listObjects(ctx context.Context, tx *sql.Tx, f *listFilter, gvr schema.GroupVersionResource, after listCursor, maxRev int64, p *listPager) error {
	opts := p.opts
	sqlLimit := int64(0)
	if opts.Limit > 0 && !f.inGo() {
		sqlLimit = opts.Limit + 1 // one more, to know whether there is more
	}
	cols := "o.namespace, o.name, o.kind, o.revision, o.cloud_rv, coalesce(o.labels, ''), coalesce(o.fields, ''), o.data"
	if opts.DataOnly && !f.inGo() {
		cols = "o.namespace, o.name, o.kind, o.revision, o.cloud_rv, '', '', o.data"
	}
	q, args := f.query(cols, after.set, after.ns, after.name, maxRev, sqlLimit, true)
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("list %s: %w", f.gvr, err)
	}
	defer rows.Close()
	var ns, name, kind, cloudRV, lraw, fraw string
	var orev int64
	var data sql.RawBytes
	for !p.more && rows.Next() {
		if err := rows.Scan(&ns, &name, &kind, &orev, &cloudRV, &lraw, &fraw, &data); err != nil {
			return err
		}
		if f.inGo() {
			ok, err := f.matchGo(lraw, fraw)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		if err := p.emitHist(ns, name, false); err != nil || p.more {
			return err
		}
		st := Stored{Key: Key{GVR: gvr, Namespace: ns, Name: name}, Kind: kind, Revision: orev, CloudRV: cloudRV, Data: data}
		if !opts.DataOnly {
			if st.Labels, err = decodeStringMapString(lraw); err != nil {
				return err
			}
			if st.Fields, err = decodeStringMapString(fraw); err != nil {
				return err
			}
		}
		if err := p.emit(st); err != nil {
			return err
		}
	}
	return rows.Err()
}

// remaining is the number of matching items after the page's last key.
func (s *Store) remaining(ctx context.Context, tx *sql.Tx, f *listFilter, p *listPager, maxRev int64) (int64, error) {
	n, err := s.count(ctx, tx, f, p.lastNS, p.lastName, maxRev)
	if err != nil {
		return 0, err
	}
	for _, h := range p.hist {
		if keyLess(p.lastNS, p.lastName, h.Namespace, h.Name) {
			n++
		}
	}
	return n, nil
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
func (s *Store) history(ctx context.Context, tx *sql.Tx, f *listFilter, opts ListOptions, rev int64, after listCursor) ([]histRow, error) {
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
		if after.set && !keyLess(after.ns, after.name, h.Namespace, h.Name) {
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
