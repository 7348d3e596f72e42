package dao

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/klog/v2"

	"github.com/edgecore/edgecore/edge/pkg/jsonscan"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
)

type request struct {
	ctx  context.Context
	fn   func(tx Tx) error
	err  error
	done chan error
}

// Update implements Writer. fn runs on the writer goroutine inside the group
// transaction; Update returns after the COMMIT holding fn's changes is durable
// (and after its events were handed to the Subscriber), or with fn's error
// (only fn's changes rolled back), or with the commit error. fn may run
// more than once (see Writer.Update).
//
// Once queued, the request is not abandoned when ctx ends: the writer skips
// fn (returning ctx.Err()) if ctx is already done when it gets to it.
func (s *Store) Update(ctx context.Context, fn func(tx Tx) error) error {
	return <-s.Submit(ctx, fn)
}

// Submit is Update without waiting: it queues fn (blocking only while the
// writer's queue is full) and returns a channel that receives what Update
// would return. The writer runs requests in the order they were queued, so
// functions submitted one after another from one goroutine take their
// revisions, commit and are published in that order; a crash loses a suffix
// of them, never an earlier one without the later ones.
func (s *Store) Submit(ctx context.Context, fn func(tx Tx) error) <-chan error {
	r := &request{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		r.done <- ErrClosed
		return r.done
	}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		r.done <- ctx.Err()
	}
	return r.done
}

// Compact runs one full compaction pass with the configured window, on the
// writer goroutine (between groups).
func (s *Store) Compact(ctx context.Context) error {
	ch := make(chan error, 1)
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.compact <- ch:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	return <-ch
}

type writeStmts struct {
	getObj, putObj, delObj *sql.Stmt
	delLabel               *sql.Stmt
	// insLabels[n-1] inserts n label rows in one statement: one call into
	// SQLite per object instead of one per label.
	insLabels                 [maxLabelRows]*sql.Stmt
	insEvent                  *sql.Stmt
	getTomb, putTomb, delTomb *sql.Stmt
	setMeta, addMeta          *sql.Stmt
	// transaction control, prepared once instead of parsed per message
	begin, commit, rollback        *sql.Stmt
	savepoint, release, rollbackTo *sql.Stmt
	all                            []*sql.Stmt
}

func prepareWriteStmts(c *sql.Conn) (*writeStmts, error) {
	ws := &writeStmts{}
	ctx := context.Background()
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&ws.getObj, `SELECT kind, revision, cloud_rv, labels, fields, data FROM objects WHERE gvr=? AND namespace=? AND name=?`},
		{&ws.putObj, `INSERT INTO objects (gvr, namespace, name, kind, revision, cloud_rv, labels, fields, data) VALUES (?,?,?,?,?,?,?,?,?)
			ON CONFLICT (gvr, namespace, name) DO UPDATE SET kind=excluded.kind, revision=excluded.revision, cloud_rv=excluded.cloud_rv,
			labels=excluded.labels, fields=excluded.fields, data=excluded.data`},
		{&ws.delObj, `DELETE FROM objects WHERE gvr=? AND namespace=? AND name=?`},
		{&ws.delLabel, `DELETE FROM object_labels WHERE gvr=? AND key=? AND value=? AND namespace=? AND name=?`},
		{&ws.insEvent, `INSERT INTO events (revision, type, gvr, namespace, name, kind, cloud_rv, data, prev_data,
			labels, fields, prev_labels, prev_fields, prev_revision, prev_cloud_rv, created_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`},
		{&ws.getTomb, `SELECT revision, cloud_rv FROM tombstones WHERE gvr=? AND namespace=? AND name=?`},
		{&ws.putTomb, `INSERT OR REPLACE INTO tombstones (gvr, namespace, name, revision, cloud_rv) VALUES (?,?,?,?,?)`},
		{&ws.delTomb, `DELETE FROM tombstones WHERE gvr=? AND namespace=? AND name=?`},
		{&ws.setMeta, `UPDATE meta SET value=? WHERE key=?`},
		{&ws.addMeta, `UPDATE meta SET value=value+? WHERE key=?`},
		{&ws.begin, `BEGIN IMMEDIATE`},
		{&ws.commit, `COMMIT`},
		{&ws.rollback, `ROLLBACK`},
		{&ws.savepoint, `SAVEPOINT m`},
		{&ws.release, `RELEASE m`},
		{&ws.rollbackTo, `ROLLBACK TO m`},
	} {
		st, err := c.PrepareContext(ctx, p.q)
		if err != nil {
			ws.close()
			return nil, fmt.Errorf("prepare %q: %w", p.q, err)
		}
		*p.dst = st
		ws.all = append(ws.all, st)
	}
	for n := 1; n <= maxLabelRows; n++ {
		q := `INSERT INTO object_labels (gvr, key, value, namespace, name) VALUES ` + placeholderRows(n)
		st, err := c.PrepareContext(ctx, q)
		if err != nil {
			ws.close()
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		ws.insLabels[n-1] = st
		ws.all = append(ws.all, st)
	}
	return ws, nil
}

// maxLabelRows is the most label rows one prepared statement inserts; an
// object with more labels takes several.
const maxLabelRows = 8

// placeholderRows is n rows of five placeholders: "(?,?,?,?,?),…".
func placeholderRows(n int) string {
	return strings.TrimSuffix(strings.Repeat("(?,?,?,?,?),", n), ",")
}

// insertLabels inserts the label rows of one object, sorted by key (the
// order does not matter to SQLite; sorting keeps runs reproducible).
func (ws *writeStmts) insertLabels(gvr, ns, name string, labels map[string]string) error {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	args := make([]any, 0, 5*min(len(keys), maxLabelRows))
	for len(keys) > 0 {
		n := min(len(keys), maxLabelRows)
		args = args[:0]
		for _, k := range keys[:n] {
			args = append(args, gvr, k, labels[k], ns, name)
		}
		if _, err := ws.insLabels[n-1].Exec(args...); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// deleteLabels deletes the label rows of one object: those of the labels
// stored with it.
func (ws *writeStmts) deleteLabels(gvr, ns, name string, labels map[string]string) error {
	for k, v := range labels {
		if _, err := ws.delLabel.Exec(gvr, k, v, ns, name); err != nil {
			return err
		}
	}
	return nil
}

func (ws *writeStmts) close() {
	for _, st := range ws.all {
		st.Close()
	}
}

func (s *Store) writerLoop() {
	defer close(s.done)
	var tick <-chan time.Time
	if s.opts.CompactInterval > 0 {
		t := time.NewTicker(s.opts.CompactInterval)
		defer t.Stop()
		tick = t.C
	}
	compactBacklog := false
	batch := make([]*request, 0, s.opts.MaxBatch)
	for {
		if compactBacklog {
			// Compact in small chunks, one between groups: under sustained
			// writes the queue is never empty, and compacting only when
			// idle let the event log (and edgecore.db) grow without bound
			// (docs/reliability.md "Storage bounds", the soak).
			select {
			case r := <-s.reqs:
				s.runBatch(s.collect(batch[:0], r))
			case <-s.quit:
				s.drain(batch)
				return
			default:
			}
			n, err := s.compactChunk(time.Now())
			compactBacklog = err == nil && n > 0
			continue
		}
		select {
		case r := <-s.reqs:
			s.runBatch(s.collect(batch[:0], r))
		case ch := <-s.compact:
			ch <- s.compactAll()
		case <-tick:
			compactBacklog = true
		case <-s.quit:
			s.drain(batch)
			return
		}
	}
}

// drain commits every request queued before Close.
func (s *Store) drain(batch []*request) {
	for {
		select {
		case r := <-s.reqs:
			s.runBatch(s.collect(batch[:0], r))
		default:
			return
		}
	}
}

func (s *Store) collect(batch []*request, first *request) []*request {
	batch = append(batch, first)
	for len(batch) < s.opts.MaxBatch {
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// runBatch is one group commit: BEGIN IMMEDIATE, every request's function,
// one COMMIT (one fsync), publish, answer.
//
// A request that fails must leave no trace while the others commit. The
// first pass runs the group without savepoints: a SAVEPOINT per request
// made SQLite copy every page a request touched into its sub-journal
// before changing it (32 KiB pages, several per message) and cost two more
// statements per message, ~30 % of the writer's time at ingest. A request
// that fails before its first write has nothing to undo; one that fails
// after writing (a list message whose later item fails, an SQL error)
// rolls the whole group back, and the group runs again with a savepoint
// around each writing request. The state is the same at the start of both
// passes, so the requests that succeeded do the same again (Update's
// functions must not depend on anything but the Tx; see Update).
func (s *Store) runBatch(batch []*request) {
	if s.runGroup(batch, false) {
		s.runGroup(batch, true)
	}
}

// runGroup is one pass of runBatch. Without savepoints, it returns true
// (after rolling back, answering no one) when a request failed after it
// wrote; every other outcome is answered here.
func (s *Store) runGroup(batch []*request, savepoints bool) (retry bool) {
	ws := s.ws
	fail := func(err error) {
		for _, r := range batch {
			r.done <- err
		}
	}
	if _, err := ws.begin.Exec(); err != nil {
		fail(fmt.Errorf("begin: %w", err))
		return false
	}
	tx := &writeTx{s: s, rev: s.rev.Load(), now: time.Now().UnixNano(), savepoints: savepoints}
	startRev := tx.rev
	abort := func(err error) {
		_, _ = ws.rollback.Exec()
		fail(err)
	}
	for _, r := range batch {
		if err := s.runRequest(tx, r); err != nil {
			if errors.Is(err, errRetryGroup) {
				_, _ = ws.rollback.Exec()
				return true
			}
			abort(err)
			return false
		}
	}
	if tx.rev != startRev {
		if _, err := ws.setMeta.Exec(tx.rev, "revision"); err != nil {
			abort(fmt.Errorf("set revision: %w", err))
			return false
		}
	}
	if tx.evBytes != 0 {
		if _, err := ws.addMeta.Exec(tx.evBytes, "event_bytes"); err != nil {
			abort(fmt.Errorf("count the event log's bytes: %w", err))
			return false
		}
	}
	if _, err := ws.commit.Exec(); err != nil {
		abort(fmt.Errorf("commit: %w", err))
		return false
	}
	s.rev.Store(tx.rev)
	if tx.rev != startRev {
		s.kickCheckpoint()
	}
	// Publish before answering: when Update returns, the hub already has the
	// events (read-your-writes for watchers too). Publish must not block.
	if len(tx.events) > 0 {
		if h := s.sub.Load(); h != nil && h.s != nil {
			publish(h.s, tx.events)
		}
	}
	for _, r := range batch {
		r.done <- r.err
	}
	return false
}

// errRetryGroup: a request failed after writing in a pass without
// savepoints; the group must run again with them.
var errRetryGroup = errors.New("dao: retry the group with savepoints")

// runRequest runs one request's function in the group transaction and
// records its outcome in r.err. A non-nil return ends the group: the
// connection failed (nothing in the group is safe), a savepoint could not
// be rolled back or released, or errRetryGroup.
func (s *Store) runRequest(tx *writeTx, r *request) error {
	ws := s.ws
	r.err = nil
	if err := r.ctx.Err(); err != nil {
		r.err = err
		return nil
	}
	rev0, ev0, bytes0 := tx.rev, len(tx.events), tx.evBytes
	tx.active, tx.wrote, tx.inSavepoint, tx.cached, tx.noTomb = true, false, false, false, false
	err := callFn(r.fn, tx)
	tx.active, tx.cached, tx.noTomb = false, false, false
	if tx.fatal != nil {
		return tx.fatal
	}
	if err != nil {
		r.err = err
		if tx.wrote && !tx.savepoints {
			return errRetryGroup
		}
		if tx.inSavepoint {
			if _, e := ws.rollbackTo.Exec(); e != nil {
				return fmt.Errorf("rollback to savepoint: %w", e)
			}
		}
		tx.rev, tx.evBytes = rev0, bytes0
		clear(tx.events[ev0:])
		tx.events = tx.events[:ev0]
	}
	if tx.inSavepoint {
		if _, e := ws.release.Exec(); e != nil {
			return fmt.Errorf("release savepoint: %w", e)
		}
		tx.inSavepoint = false
	}
	return nil
}

// publish hands committed events to the subscriber; a panicking subscriber
// must not take the writer (and every later write) down with it.
func publish(sub event.Subscriber, evs []event.Event) {
	defer func() {
		if p := recover(); p != nil {
			klog.Errorf("dao: subscriber panicked publishing revisions %d..%d: %v", evs[0].Revision, evs[len(evs)-1].Revision, p)
		}
	}()
	sub.Publish(evs)
}

func callFn(fn func(Tx) error, tx Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("update function panicked: %v", p)
		}
	}()
	return fn(tx)
}

// writeTx is the Tx given to one request; it shares the group transaction.
type writeTx struct {
	s      *Store
	rev    int64
	now    int64
	events []event.Event
	// evBytes is what the group's events add to the event log's byte count
	// (eventBytesExpr's sum), written once per group.
	evBytes int64
	active  bool
	fatal   error
	// savepoints: this pass takes a SAVEPOINT before a request's first
	// write (runBatch); inSavepoint: the current request's is open.
	savepoints, inSavepoint bool
	// wrote: the current request has written.
	wrote bool
	// cached / row: the last row read in the current request (Get, or the
	// read inside Put/Delete), so that the Put or Delete that usually follows
	// a Get does not read it again. Any write clears it; so does the end of
	// the request. Reads always see the current state.
	cached bool
	row    cachedRow
	// noTomb / noTombKey: Tombstone found none for noTombKey since the last
	// write, so a Put of that key has no tombstone to delete (an insert
	// after the usual Get + Tombstone check skips one statement).
	noTomb    bool
	noTombKey Key
}

type cachedRow struct {
	gvr     string
	key     Key
	p       prevRow
	existed bool
	// decoded label / field maps of p (valid when decoded)
	decoded        bool
	labels, fields map[string]string
}

// beginWrite notes the request's first write (opening its savepoint in a
// pass that takes them) and forgets the cached row (the write changes what
// it describes).
func (t *writeTx) beginWrite() error {
	t.cached, t.noTomb, t.wrote = false, false, true
	if !t.savepoints || t.inSavepoint {
		return nil
	}
	if _, err := t.s.ws.savepoint.Exec(); err != nil {
		return t.sqlErr(err)
	}
	t.inSavepoint = true
	return nil
}

var errTxDone = errors.New("dao: Tx used outside its Update function")

func (t *writeTx) check() error {
	if !t.active {
		return errTxDone
	}
	return nil
}

type prevRow struct {
	kind, cloudRV        string
	revision             int64
	labelsRaw, fieldsRaw []byte
	data                 []byte
}

// getRow reads the object's row (or takes it from the row cache).
func (t *writeTx) getRow(gvr string, key Key) (*cachedRow, error) {
	if t.cached && t.row.key == key && t.row.gvr == gvr {
		return &t.row, nil
	}
	t.cached = false
	t.row = cachedRow{gvr: gvr, key: key}
	p := &t.row.p
	err := t.s.ws.getObj.QueryRow(gvr, key.Namespace, key.Name).Scan(&p.kind, &p.revision, &p.cloudRV, &p.labelsRaw, &p.fieldsRaw, &p.data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		t.row.p = prevRow{}
	case err != nil:
		return nil, err
	default:
		t.row.existed = true
	}
	t.cached = true
	return &t.row, nil
}

// maps returns the decoded label and field maps of a read row.
func (r *cachedRow) maps() (labels, fields map[string]string, err error) {
	if !r.decoded {
		if r.labels, err = decodeStringMap(r.p.labelsRaw); err != nil {
			return nil, nil, err
		}
		if r.fields, err = decodeStringMap(r.p.fieldsRaw); err != nil {
			return nil, nil, err
		}
		r.decoded = true
	}
	return r.labels, r.fields, nil
}

func (t *writeTx) Get(key Key) (Stored, error) {
	if err := t.check(); err != nil {
		return Stored{}, err
	}
	r, err := t.getRow(GVRString(key.GVR), key)
	if err != nil {
		return Stored{}, t.sqlErr(err)
	}
	if !r.existed {
		return Stored{}, ErrNotFound
	}
	p := &r.p
	st := Stored{Key: key, Kind: p.kind, Revision: p.revision, CloudRV: p.cloudRV, Data: p.data}
	if st.Labels, st.Fields, err = r.maps(); err != nil {
		return Stored{}, err
	}
	return st, nil
}

func (t *writeTx) Tombstone(key Key) (Tombstone, bool, error) {
	if err := t.check(); err != nil {
		return Tombstone{}, false, err
	}
	ts := Tombstone{Key: key}
	err := t.s.ws.getTomb.QueryRow(GVRString(key.GVR), key.Namespace, key.Name).Scan(&ts.Revision, &ts.CloudRV)
	if errors.Is(err, sql.ErrNoRows) {
		t.noTomb, t.noTombKey = true, key
		return Tombstone{}, false, nil
	}
	if err != nil {
		return Tombstone{}, false, err
	}
	return ts, true, nil
}

func setResourceVersion(obj map[string]interface{}, rev int64) {
	md, ok := obj["metadata"].(map[string]interface{})
	if !ok {
		md = map[string]interface{}{}
		obj["metadata"] = md
	}
	md["resourceVersion"] = strconv.FormatInt(rev, 10)
}

// storedBytes is req's object as stored at revision rev: its prepared bytes
// (or, without them, its Object encoded here) with rev spliced in as
// metadata.resourceVersion.
func storedBytes(req PutRequest, rev int64) ([]byte, error) {
	if req.Data != nil {
		return spliceRevision(req.Data, req.RVOffset, rev)
	}
	enc, off, err := EncodeObject(req.Object)
	if err != nil {
		return nil, fmt.Errorf("encode %s %s/%s: %w", req.Kind, req.Namespace, req.Name, err)
	}
	data, err := spliceRevision(enc, off, rev)
	if err != nil {
		return nil, err
	}
	setResourceVersion(req.Object, rev)
	return data, nil
}

func (t *writeTx) Put(req PutRequest) (Stored, error) {
	if err := t.check(); err != nil {
		return Stored{}, err
	}
	if req.Name == "" {
		return Stored{}, errors.New("dao: put without a name")
	}
	if req.Data == nil && req.Object == nil {
		return Stored{}, errors.New("dao: put without an object")
	}
	ws := t.s.ws
	gvr := GVRString(req.GVR)
	r, err := t.getRow(gvr, req.Key)
	if err != nil {
		return Stored{}, t.sqlErr(err)
	}
	prev, existed := r.p, r.existed
	var prevLabels, prevFields map[string]string
	if existed {
		if prevLabels, prevFields, err = r.maps(); err != nil {
			return Stored{}, err
		}
	}
	rev := t.rev + 1
	data, err := storedBytes(req, rev)
	if err != nil {
		return Stored{}, err
	}
	labelsRaw, fieldsRaw := req.LabelsJSON, req.FieldsJSON
	if labelsRaw == nil {
		labelsRaw = encodeStringMap(req.Labels)
	}
	if fieldsRaw == nil {
		fieldsRaw = encodeStringMap(req.Fields)
	}
	noTomb := t.noTomb && t.noTombKey == req.Key
	if err := t.beginWrite(); err != nil {
		return Stored{}, err
	}
	if _, err := ws.putObj.Exec(gvr, req.Namespace, req.Name, req.Kind, rev, req.CloudRV, textArg(labelsRaw), textArg(fieldsRaw), data); err != nil {
		return Stored{}, t.sqlErr(err)
	}
	if !existed || (!bytes.Equal(prev.labelsRaw, labelsRaw) && !sameStringMap(prevLabels, req.Labels)) {
		if existed {
			if err := ws.deleteLabels(gvr, req.Namespace, req.Name, prevLabels); err != nil {
				return Stored{}, t.sqlErr(err)
			}
		}
		if err := ws.insertLabels(gvr, req.Namespace, req.Name, req.Labels); err != nil {
			return Stored{}, t.sqlErr(err)
		}
	}
	typ := watch.Added
	if existed {
		typ = watch.Modified
	} else if !noTomb {
		if _, err := ws.delTomb.Exec(gvr, req.Namespace, req.Name); err != nil {
			return Stored{}, t.sqlErr(err)
		}
	}
	if _, err := ws.insEvent.Exec(rev, string(typ), gvr, req.Namespace, req.Name, req.Kind, req.CloudRV,
		data, prev.data, textArg(labelsRaw), textArg(fieldsRaw), textArg(prev.labelsRaw), textArg(prev.fieldsRaw), prev.revision, prev.cloudRV, t.now); err != nil {
		return Stored{}, t.sqlErr(err)
	}
	t.rev = rev
	t.evBytes += eventBytes(data, prev.data, labelsRaw, fieldsRaw, prev.labelsRaw, prev.fieldsRaw)
	t.events = append(t.events, event.Event{
		Revision: rev, Type: typ, GVR: req.GVR, Namespace: req.Namespace, Name: req.Name,
		Object: data, PrevObject: prev.data,
		Labels: req.Labels, PrevLabels: prevLabels, Fields: req.Fields, PrevFields: prevFields,
	})
	return Stored{Key: req.Key, Kind: req.Kind, Revision: rev, CloudRV: req.CloudRV, Data: data, Labels: req.Labels, Fields: req.Fields}, nil
}

func (t *writeTx) Delete(key Key, cloudRV string) (Stored, error) {
	if err := t.check(); err != nil {
		return Stored{}, err
	}
	ws := t.s.ws
	gvr := GVRString(key.GVR)
	r, err := t.getRow(gvr, key)
	if err != nil {
		return Stored{}, t.sqlErr(err)
	}
	if !r.existed {
		return Stored{}, ErrNotFound
	}
	prev := r.p
	labels, fields, err := r.maps()
	if err != nil {
		return Stored{}, err
	}
	rev := t.rev + 1
	data, err := jsonscan.SetResourceVersion(prev.data, rev)
	if err != nil {
		return Stored{}, fmt.Errorf("stored %s %s/%s: %w", prev.kind, key.Namespace, key.Name, err)
	}
	if err := t.beginWrite(); err != nil {
		return Stored{}, err
	}
	if _, err := ws.delObj.Exec(gvr, key.Namespace, key.Name); err != nil {
		return Stored{}, t.sqlErr(err)
	}
	if err := ws.deleteLabels(gvr, key.Namespace, key.Name, labels); err != nil {
		return Stored{}, t.sqlErr(err)
	}
	if _, err := ws.putTomb.Exec(gvr, key.Namespace, key.Name, rev, cloudRV); err != nil {
		return Stored{}, t.sqlErr(err)
	}
	if _, err := ws.insEvent.Exec(rev, string(watch.Deleted), gvr, key.Namespace, key.Name, prev.kind, cloudRV,
		data, prev.data, textArg(prev.labelsRaw), textArg(prev.fieldsRaw), textArg(prev.labelsRaw), textArg(prev.fieldsRaw), prev.revision, prev.cloudRV, t.now); err != nil {
		return Stored{}, t.sqlErr(err)
	}
	t.rev = rev
	t.evBytes += eventBytes(data, prev.data, prev.labelsRaw, prev.fieldsRaw, prev.labelsRaw, prev.fieldsRaw)
	t.events = append(t.events, event.Event{
		Revision: rev, Type: watch.Deleted, GVR: key.GVR, Namespace: key.Namespace, Name: key.Name,
		Object: data, PrevObject: prev.data,
		Labels: labels, PrevLabels: labels, Fields: fields, PrevFields: fields,
	})
	return Stored{Key: key, Kind: prev.kind, Revision: rev, CloudRV: cloudRV, Data: data, Labels: labels, Fields: fields}, nil
}

// sqlErr returns err; a statement failure leaves the savepoint to be rolled
// back by the caller returning the error, which is what we want. Errors that
// mean the connection is unusable (disk I/O, full, corrupt) abort the batch.
func (t *writeTx) sqlErr(err error) error {
	if isFatalSQLite(err) {
		t.fatal = err
	}
	return err
}

func sameStringMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// eventBytes is eventBytesExpr for one event row: the length of its blobs
// (object, previous object) in bytes and of its texts (labels and fields,
// new and previous) in characters, as SQLite's length() counts them.
func eventBytes(data, prevData []byte, texts ...[]byte) int64 {
	n := len(data) + len(prevData)
	for _, t := range texts {
		n += utf8.RuneCount(t)
	}
	return int64(n)
}

// textArg binds label/field JSON as TEXT (so SQLite's JSON functions read it;
// a BLOB would be taken for JSONB), or NULL when empty.
func textArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
